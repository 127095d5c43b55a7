"""The reliability suite at full size, summed into one table.

    python bench/reliability.py                                  # full size (minutes)
    python bench/reliability.py --ci                             # the size CI runs
    python bench/reliability.py --json bench/results/reliability.json

Runs ``pytest tests/reliability`` in a child process with ``WIKITRACE_RELIABILITY=full`` (unless
``--ci``) and ``WIKITRACE_RELIABILITY_REPORT`` pointing at a temporary file. Each test appends one
JSON line there saying what it tried and what held (see ``tests/reliability/conftest.py``). This
script sums those lines per test file and over the whole suite, prints them with pytest's verdict,
and writes the JSON. The exit status is pytest's, so a failing property fails the benchmark run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Counts that must be zero for the suite to have held; every other count is what was tried.
MUST_BE_ZERO = ("crashes", "hangs", "spans_lost", "open_spans", "corrupt", "thread_growth", "server_errors")
# Numbers that are not counts (a random seed to replay a run with) are kept per test, not summed.
NOT_COUNTS = ("seed",)


def run_suite(full: bool, report: Path, extra: list[str]) -> tuple[int, float]:
    """Run the suite once; returns pytest's exit status and the wall time in seconds."""
    env = dict(os.environ, WIKITRACE_RELIABILITY_REPORT=str(report))
    if full:
        env["WIKITRACE_RELIABILITY"] = "full"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/reliability", *extra]
    started = time.perf_counter()
    status = subprocess.call(command, cwd=ROOT, env=env)
    return status, time.perf_counter() - started


def read_outcomes(report: Path) -> list[dict[str, Any]]:
    """The JSON lines the tests wrote (none if no test reported)."""
    if not report.exists():
        return []
    return [json.loads(line) for line in report.read_text(encoding="utf-8").splitlines() if line.strip()]


def summarize(outcomes: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Numeric counts summed per test file, plus a ``total`` row; ``peak_*`` and ``*_max`` keep the maximum."""
    sums: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for outcome in outcomes:
        group = outcome["test"].split("::", 1)[0].rsplit("/", 1)[-1]
        for key, value in outcome.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or key in NOT_COUNTS:
                continue
            for row in (group, "total"):
                if key.startswith("peak_") or key.endswith(("_max", "_mb")):
                    sums[row][key] = max(sums[row][key], value)
                else:
                    sums[row][key] += value
    return {row: dict(counts) for row, counts in sums.items()}


def print_summary(summary: dict[str, dict[str, float]], status: int, seconds: float) -> None:
    for row in sorted(summary, key=lambda name: (name == "total", name)):
        counts = ", ".join(f"{key}={_number(value)}" for key, value in sorted(summary[row].items()))
        print(f"{row:32} {counts}")
    held = all(summary.get("total", {}).get(key, 0) == 0 for key in MUST_BE_ZERO)
    verdict = "all tests passed" if status == 0 else f"pytest exit status {status}"
    print(f"\n{verdict} in {seconds:.0f} s; zero counts ({', '.join(MUST_BE_ZERO)}) held: {held}")


def _number(value: float) -> str:
    return f"{value:.1f}" if value != int(value) else f"{int(value):,}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--ci", action="store_true", help="run at the size CI runs instead of full size")
    parser.add_argument("--json", type=Path, help="write the summary here")
    parser.add_argument("pytest_args", nargs="*", help="extra arguments for pytest (after --)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wikitrace-reliability-") as scratch:
        report = Path(scratch) / "outcomes.jsonl"
        status, seconds = run_suite(not args.ci, report, args.pytest_args)
        outcomes = read_outcomes(report)
    summary = summarize(outcomes)
    print_summary(summary, status, seconds)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        result = {
            "size": "ci" if args.ci else "full",
            "pytest_exit_status": status,
            "seconds": round(seconds, 1),
            "date": time.strftime("%Y-%m-%d"),
            "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
            "summary": summary,
            "outcomes": outcomes,
        }
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
