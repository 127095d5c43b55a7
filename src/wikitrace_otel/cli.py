"""The ``wikitrace-otel`` command line. Each subcommand lives in :mod:`wikitrace_otel._cli`."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from wikitrace_otel._cli import COMMANDS
from wikitrace_otel.version import __version__

_DESCRIPTION = (
    "OpenTelemetry-native instrumentation for LLM applications. Trace every LLM call with "
    "GenAI semantic-convention spans and metrics, cost, sessions and users: call "
    "wikitrace_otel.install() in your program, or run it under `opentelemetry-instrument`."
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``wikitrace-otel`` command."""
    parser = argparse.ArgumentParser(prog="wikitrace-otel", description=_DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"wikitrace_otel._cli.{name}")
        module.add_parser(commands).set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        return 0
    return int(run(args))
