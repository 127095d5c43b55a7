"""``wikitrace-otel show TRACE_ID``: one trace as a waterfall of its spans."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from typing import Any

_BAR_WIDTH = 30


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``show`` subparser."""
    from wikitrace_otel.query import _cli

    parser: argparse.ArgumentParser = commands.add_parser(
        "show",
        help="print one trace as a waterfall: start, duration bar, span tree, model, tokens, cost, errors",
        description="Print one trace's spans as a tree with a timeline. --json prints every span with all of its "
        "attributes, events and links.",
    )
    parser.add_argument("trace_id", metavar="TRACE_ID", help="the trace id (32 hex digits, from `traces`)")
    _cli.add_common_options(parser)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the trace; returns the exit status."""
    from wikitrace_otel.query import _cli

    return _cli.run_guarded("show", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from wikitrace_otel.query import _cli

    trace_id = args.trace_id.strip().lower()
    with _cli.open_store(args) as store:
        spans = store.get_trace(trace_id)
    if spans is None:
        raise _cli.CommandError(f"no trace {trace_id} in the store", _cli.EXIT_NOT_FOUND)
    if args.json:
        _cli.print_json(spans)
        return 0
    print("\n".join(waterfall(spans)))
    return 0


def waterfall(spans: list[dict[str, Any]]) -> list[str]:
    """The trace as text lines: a header, one line per span (tree order), a total."""
    from wikitrace_otel.query import _cli

    start = min(span["start_time_unix_nano"] for span in spans)
    end = max(span["end_time_unix_nano"] for span in spans)
    total = max(end - start, 1)
    calls = [span for span in spans if span["model_call"]]
    cost = sum(span["cost"] or 0 for span in spans)
    priced = any(span["cost"] is not None for span in spans)
    lines = [
        f"trace {spans[0]['trace_id']}  {spans[0]['start_time'][:23]}Z  {spans[0]['service'] or '-'}  "
        f"{_cli.ms(total / 1e6)}  {len(spans)} spans",
        "",
    ]
    for depth_prefix, span in _tree(spans):
        offset = (span["start_time_unix_nano"] - start) / 1e6
        lines.append(
            f"{'+' + _cli.ms(offset):>10} {_cli.ms(span['duration_ms']):>9}  {_bar(span, start, total)}  "
            f"{depth_prefix}{span['name']}{_details(span)}"
        )
    tokens = sum((span["input_tokens"] or 0) + (span["output_tokens"] or 0) for span in calls)
    errors = sum(1 for span in spans if span["status_code"] == "ERROR")
    summary = f"{_plural(len(calls), 'model call')}, {tokens:,} tokens, cost {_cli.cost(cost) if priced else '-'}"
    lines += ["", summary + (f", {_plural(errors, 'error')}" if errors else "")]
    return lines


def _tree(spans: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    ids = {span["span_id"] for span in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for span in spans:  # spans come in start order, so children do too
        parent = span["parent_span_id"] if span["parent_span_id"] in ids else None
        children.setdefault(parent, []).append(span)

    def walk(parent: str | None, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
        kids = children.get(parent, [])
        for index, span in enumerate(kids):
            last = index == len(kids) - 1
            branch = "" if parent is None else ("└─ " if last else "├─ ")
            yield prefix + branch, span
            deeper = prefix if parent is None else prefix + ("   " if last else "│  ")
            yield from walk(span["span_id"], deeper)

    yield from walk(None, "")


def _bar(span: dict[str, Any], start: int, total: int) -> str:
    left = int((span["start_time_unix_nano"] - start) / total * _BAR_WIDTH)
    width = max(1, round(span["duration_ms"] * 1e6 / total * _BAR_WIDTH))
    left = min(left, _BAR_WIDTH - 1)
    width = min(width, _BAR_WIDTH - left)
    return "|" + " " * left + "█" * width + " " * (_BAR_WIDTH - left - width) + "|"


def _details(span: dict[str, Any]) -> str:
    from wikitrace_otel.query import _cli

    parts = []
    parts += [text for text in (_cli.model_note(span), _cli.tokens(span)) if text]
    if span["cost"] is not None:
        parts.append(_cli.cost(span["cost"]))
    if span["status_code"] == "ERROR":
        reason = span["error_type"] or span["status_message"] or "error"
        parts.append(f"ERROR {reason}")
    return ("  " + "  ".join(parts)) if parts else ""


def _plural(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
