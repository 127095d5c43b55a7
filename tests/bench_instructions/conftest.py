"""The instruction-count benchmark's own checks: ``bench/`` is put on ``sys.path`` so its parts import.

valgrind never runs here: the dumps are written by the tests in callgrind's format, and the
child runs without the client-request helper, where counting is a no-op.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
