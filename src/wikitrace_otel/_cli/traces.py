"""``wikitrace-otel traces``: list the store's traces, newest first, with filters."""

from __future__ import annotations

import argparse
from typing import Any


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``traces`` subparser."""
    from wikitrace_otel.query import _cli

    parser: argparse.ArgumentParser = commands.add_parser(
        "traces",
        help="list traces: start, root span, service, duration, models, tokens, cost, status",
        description="List the stored traces, newest first. A trace matches when one of its spans matches each "
        "filter; --since/--until bound the trace's start. Times are UTC.",
    )
    _cli.add_common_options(parser)
    _cli.add_filter_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """List the traces; returns the exit status."""
    from wikitrace_otel.query import _cli

    return _cli.run_guarded("traces", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from wikitrace_otel.query import _cli

    selection = _cli.build_filter(args)
    with _cli.open_store(args) as store:
        traces = store.list_traces(selection)
    if args.json:
        _cli.print_json(traces)
        return 0
    if not traces:
        print("no trace matches")
        return 0
    rows = [_row(trace) for trace in traces]
    headers = ("START (UTC)", "TRACE", "ROOT", "SERVICE", "DURATION", "SPANS", "MODELS", "TOKENS", "COST", "STATUS")
    right = (False, False, False, False, True, True, False, True, True, False)
    print(_cli.table((*headers, "SESSION", "USER"), rows, (*right, False, False)))
    return 0


def _row(trace: dict[str, Any]) -> list[str]:
    from wikitrace_otel.query import _cli

    return [
        trace["start_time"][:19].replace("T", " "),
        trace["trace_id"],
        _short(trace["root_name"], 40),
        trace["service"] or "-",
        _cli.ms(trace["duration_ms"]),
        str(trace["span_count"]),
        _short(",".join(trace["models"]), 32) or "-",
        _cli.count(trace["tokens"]),
        _cli.cost(trace["cost"]),
        f"error ({trace['errors']})" if trace["errors"] else "ok",
        trace["session_id"] or "-",
        trace["user_id"] or "-",
    ]


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
