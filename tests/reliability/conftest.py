"""The reliability suite: fuzzing, crash safety, overload, leaks and faults mid-stream.

Every test here runs at two sizes. CI runs the small one, which keeps the whole directory to a
few minutes on two cores; ``python bench/reliability.py`` runs the full one (the figures quoted in
BENCHMARKS.md, e.g. 100,000 instrumented calls, a 30 s overload) by setting
``WIKITRACE_RELIABILITY=full``. Ask for a size with ``reliability_sizes.sized``.

When ``WIKITRACE_RELIABILITY_REPORT`` names a file, each test appends what it tried and what held
to it as one JSON line, through the ``outcome`` fixture; ``bench/reliability.py`` sums those
lines into the summary in BENCHMARKS.md.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from reliability_sizes import FULL, REPORT


@pytest.fixture
def outcome(request: pytest.FixtureRequest) -> Callable[..., None]:
    """Record what a test tried and what held, e.g. ``outcome(inputs=5000, crashes=0, spans_lost=0)``.

    A no-op unless ``WIKITRACE_RELIABILITY_REPORT`` is set; then one JSON line per call is appended
    to that file, named after the test.
    """

    def record(**counts: Any) -> None:
        if not REPORT:
            return
        line = {"test": request.node.nodeid, "full": FULL, **counts}
        with Path(REPORT).open("a", encoding="utf-8") as report:
            report.write(json.dumps(line) + "\n")

    return record
