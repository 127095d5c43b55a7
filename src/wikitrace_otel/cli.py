"""The ``wikitrace-otel`` command line."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

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
    demo = commands.add_parser(
        "demo",
        help="run a small traced agent against a built-in fake OpenAI server and print its trace",
        description="Run a small agent (retrieval, a tool call, a streamed answer) through the real OpenAI SDK, "
        "store its trace locally and print it with per-step latency, tokens and cost.",
    )
    demo.add_argument(
        "--store",
        type=Path,
        default=None,
        help="local store directory (default: $WIKITRACE_DIR or ./.wikitrace)",
    )
    demo.add_argument("--live", action="store_true", help="call the real OpenAI API (needs OPENAI_API_KEY)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        from wikitrace_otel import demo

        store = args.store or Path(os.environ.get("WIKITRACE_DIR") or ".wikitrace")
        return demo.run(store, live=args.live)
    parser.print_help()
    return 0
