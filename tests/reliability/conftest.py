"""The reliability suite: fuzzing, crash safety, overload, leaks and faults mid-stream.

Every test here runs at two sizes. CI runs the small one, which keeps the whole directory to a
few minutes on two cores; ``python bench/reliability.py`` runs the full one (the figures quoted in
BENCHMARKS.md, e.g. 100,000 instrumented calls, a 30 s overload) by setting
``WIKITRACE_RELIABILITY=full``. Ask for a size with :func:`sized`.

When ``WIKITRACE_RELIABILITY_REPORT`` names a file, each test appends what it tried and what held
to it as one JSON line, through the ``outcome`` fixture; ``bench/reliability.py`` sums those
lines into the summary in BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Read at import: the autouse fixture in tests/conftest.py clears WIKITRACE_* variables per test.
FULL = os.environ.get("WIKITRACE_RELIABILITY", "").strip().lower() == "full"
_REPORT = os.environ.get("WIKITRACE_RELIABILITY_REPORT", "")


def sized(ci: int, full: int) -> int:
    """The size of a reliability run: ``ci`` normally, ``full`` under ``WIKITRACE_RELIABILITY=full``."""
    return full if FULL else ci


@pytest.fixture
def outcome(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Record what a test tried and what held, e.g. ``outcome(inputs=5000, crashes=0, spans_lost=0)``.

    A no-op unless ``WIKITRACE_RELIABILITY_REPORT`` is set; then one JSON line per call is appended
    to that file, named after the test.
    """

    def record(**counts: Any) -> None:
        if not _REPORT:
            return
        line = {"test": request.node.nodeid, "full": FULL, **counts}
        with Path(_REPORT).open("a", encoding="utf-8") as report:
            report.write(json.dumps(line) + "\n")

    return record
