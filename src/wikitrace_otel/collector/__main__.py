"""``python -m wikitrace_otel.collector``: the same as ``wikitrace-otel collector``.

Only the collector's own options are built here, so the receiver starts even when another
subcommand's module cannot be imported.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from wikitrace_otel._cli import collector as command


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the collector's options and run it; returns the exit status."""
    parser = command.add_parser(argparse.ArgumentParser().add_subparsers())
    parser.prog = "python -m wikitrace_otel.collector"
    return command.run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
