"""``wikitrace-otel tail``: print spans as they arrive in the store."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``tail`` subparser."""
    from wikitrace_otel.query import _cli

    parser: argparse.ArgumentParser = commands.add_parser(
        "tail",
        help="follow new spans as they arrive (Ctrl-C stops)",
        description="Print the latest spans, then each new span as it is stored, until interrupted. "
        "Filters apply span by span. --json prints one JSON object per line.",
    )
    parser.add_argument("-n", "--lines", type=int, default=10, metavar="N", help="spans to print first (default 10)")
    parser.add_argument("--interval", type=float, default=1.0, metavar="SECONDS", help="poll interval (default 1)")
    parser.add_argument("--stop-after", type=float, default=None, metavar="SECONDS", help="stop after this long")
    _cli.add_common_options(parser)
    _cli.add_filter_options(parser, limit=False)
    return parser


def run(args: argparse.Namespace) -> int:
    """Follow the store; returns the exit status."""
    from wikitrace_otel.query import _cli

    return _cli.run_guarded("tail", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from wikitrace_otel.query import _cli

    if args.lines < 0 or args.interval <= 0:
        raise _cli.CommandError("--lines must be 0 or more and --interval more than 0")
    selection = _cli.build_filter(args)
    deadline = None if args.stop_after is None else time.monotonic() + args.stop_after
    with _cli.open_store(args, require_spans=False) as store:
        full = args.json  # text lines need only the indexed columns
        spans, batch = store.recent_spans(args.lines, selection, full=full) if args.lines else ([], store.last_batch())
        _emit(spans, args.json)
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(
                    args.interval if deadline is None else max(0.0, min(args.interval, deadline - time.monotonic()))
                )
                store.refresh(timeout=args.interval)
                spans, batch = store.spans_after(batch, selection, full=full)
                _emit(spans, args.json)
        except KeyboardInterrupt:
            pass
    return 0


def _emit(spans: list[dict[str, Any]], as_json: bool) -> None:
    for span in spans:
        print(json.dumps(span, ensure_ascii=False, allow_nan=False) if as_json else line(span))
    sys.stdout.flush()


def line(span: dict[str, Any]) -> str:
    """One span on one line: time, ids, service, name, model, duration, tokens, cost, status."""
    from wikitrace_otel.query import _cli

    fields = [span["start_time"][11:23], span["trace_id"][:12], span["service"] or "-", span["name"]]
    fields += [text for text in (_cli.model_note(span), _cli.ms(span["duration_ms"]), _cli.tokens(span)) if text]
    if span["cost"] is not None:
        fields.append(_cli.cost(span["cost"]))
    if span["status_code"] == "ERROR":
        fields.append(f"ERROR {span['error_type'] or span['status_message'] or ''}".rstrip())
    return "  ".join(fields)
