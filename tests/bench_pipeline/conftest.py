"""The pipeline benchmark's own checks: ``bench/`` is put on ``sys.path`` so its parts import.

The benchmark counts what reached the store and what the collector acknowledged; these tests run
its steps at tiny sizes and hold those counts to the spans produced.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
