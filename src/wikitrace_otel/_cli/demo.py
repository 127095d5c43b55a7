"""``wikitrace-otel demo``: a small traced agent against the built-in fake OpenAI server."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``demo`` subparser."""
    demo: argparse.ArgumentParser = commands.add_parser(
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
    return demo


def run(args: argparse.Namespace) -> int:
    """Run the demo; returns the exit status."""
    from wikitrace_otel import demo

    store = args.store or Path(os.environ.get("WIKITRACE_DIR") or ".wikitrace")
    return demo.run(store, live=args.live)
