"""``wikitrace-otel export``: write the selected traces as OTLP JSON Lines, JSON or CSV."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``export`` subparser."""
    from wikitrace_otel.query import _cli

    parser: argparse.ArgumentParser = commands.add_parser(
        "export",
        help="write the spans of the selected traces as OTLP JSON Lines, JSON or CSV",
        description="Write every span of each trace the filters select. otlp-json is the OTLP File Exporter "
        "format (the Collector's otlpjsonfile receiver reads it); json is an array of span objects with every "
        "attribute; csv has one row per span with the indexed columns.",
    )
    parser.add_argument("--format", choices=("otlp-json", "json", "csv"), default="otlp-json", help="default otlp-json")
    parser.add_argument("-o", "--output", metavar="FILE", help="write here instead of standard output")
    _cli.add_common_options(parser)  # --json here means --format json
    _cli.add_filter_options(parser, limit=False)
    return parser


def run(args: argparse.Namespace) -> int:
    """Export; returns the exit status."""
    from wikitrace_otel.query import _cli

    return _cli.run_guarded("export", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from wikitrace_otel.query import _cli

    selection = _cli.build_filter(args)
    form = "json" if args.json else args.format
    with _cli.open_store(args) as store:
        if args.output is None:
            count = store.export(sys.stdout, form, selection)
        else:
            try:
                out = open(args.output, "w", encoding="utf-8", newline="")  # noqa: SIM115 - closed below
            except OSError as error:
                raise _cli.CommandError(f"cannot write {args.output}: {error.strerror}") from None
            with out:
                count = store.export(out, form, selection)
    print(f"exported {count} spans", file=sys.stderr)
    return 0
