"""``wikitrace-otel stats``: calls, error rate, tokens, cost and latency percentiles per group."""

from __future__ import annotations

import argparse
from typing import Any

_GROUPS = ("model", "provider", "service", "user", "session", "day", "hour")


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``stats`` subparser."""
    from wikitrace_otel.query import _cli

    parser: argparse.ArgumentParser = commands.add_parser(
        "stats",
        help="model calls, error rate, tokens, cost and p50/p95/p99 latency per model, user, day...",
        description="Aggregate the stored model calls (inference and embeddings spans). Each call is checked "
        "against the filters on its own. Days and hours are UTC.",
    )
    parser.add_argument("--by", choices=_GROUPS, default="model", help="what to group by (default: model)")
    _cli.add_common_options(parser)
    _cli.add_filter_options(parser, limit=False)
    return parser


def run(args: argparse.Namespace) -> int:
    """Print the figures; returns the exit status."""
    from wikitrace_otel.query import _cli

    return _cli.run_guarded("stats", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from wikitrace_otel.query import _cli

    selection = _cli.build_filter(args)
    with _cli.open_store(args) as store:
        groups = store.stats(args.by, selection)
    if args.json:
        _cli.print_json(groups)
        return 0
    if not groups:
        print("no model call matches")
        return 0
    rows = [
        [
            str(group["key"]) if group["key"] is not None else "(none)",
            _cli.count(group["calls"]),
            f"{group['error_rate'] * 100:.1f}%",
            _cli.count(group["input_tokens"]),
            _cli.count(group["output_tokens"]),
            _cli.cost(group["cost"]),
            _cli.ms(group["p50_ms"]),
            _cli.ms(group["p95_ms"]),
            _cli.ms(group["p99_ms"]),
        ]
        for group in groups
    ]
    headers = (args.by.upper(), "CALLS", "ERRORS", "INPUT", "OUTPUT", "COST", "P50", "P95", "P99")
    print(_cli.table(headers, rows, (False, *([True] * 8))))
    return 0
