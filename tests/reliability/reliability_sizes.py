"""How big a reliability run is: the CI size, or the full size under ``WIKITRACE_RELIABILITY=full``."""

from __future__ import annotations

import os

# Read at import: the autouse fixture in tests/conftest.py clears WIKITRACE_* variables per test.
FULL = os.environ.get("WIKITRACE_RELIABILITY", "").strip().lower() == "full"
REPORT = os.environ.get("WIKITRACE_RELIABILITY_REPORT", "")


def sized(ci: int, full: int) -> int:
    """The size of a reliability run: ``ci`` normally, ``full`` under ``WIKITRACE_RELIABILITY=full``."""
    return full if FULL else ci
