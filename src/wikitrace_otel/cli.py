"""The ``wikitrace-otel`` command line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from wikitrace_otel.version import __version__

_DESCRIPTION = (
    "OpenTelemetry-native instrumentation for LLM applications. Trace every LLM call with "
    "GenAI semantic-convention spans and metrics: add `wikitrace_otel` instrumentors to your "
    "program, or run it under `opentelemetry-instrument`."
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``wikitrace-otel`` command."""
    parser = argparse.ArgumentParser(prog="wikitrace-otel", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = build_parser()
    parser.parse_args(argv)
    parser.print_help()
    return 0
