"""Leaks: many instrumented calls, streams abandoned every way, and nothing is left behind.

A child interpreter (``leak_support.py``, so the memory measured is its own and no other test's)
instruments the real OpenAI and Anthropic SDKs and makes ``CALLS`` calls: plain and streamed,
sync and async, streams read to the end, dropped unread, left by ``break`` without a close, closed
early, abandoned by an exception in the application's loop, HTTP 500s, connections reset mid-stream,
the Anthropic ``messages.stream()`` helper. One call in 25 goes over real HTTP to the fake servers
this test starts. The child reports; this test asserts:

- every span started was ended exactly once (after ``gc.collect()``): started == ended == calls,
  none left open, none ended twice, no warning from OpenTelemetry, from us or from asyncio
  (finalizing abandoned async streams);
- resident memory grows by less than :func:`rss_bounds_mb` between the warm-up checkpoint and
  the end, and over the second half of the calls;
- the thread count does not grow;
- with ``tracemalloc`` on for a short last stretch, no line of ``wikitrace_otel`` grows by more
  than :data:`OURS_KIB`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reliability_sizes import sized

from sdk_support import fake_server_fixtures
from wikitrace_otel.testing import fake_anthropic

CALLS = sized(ci=4_000, full=100_000)
"""Instrumented calls in all; the first tenth warms up (caches, pools, interned strings, arenas)."""
TRACEMALLOC_CALLS = sized(ci=200, full=4_000)
"""Calls made after the measured ones with tracemalloc on (it slows every allocation)."""
OURS_KIB = 64
"""Growth of any one line of ours, over the second half of the tracemalloc calls, that fails the test."""
HTTP_EVERY = 25

fake_anthropic_session, fake_anthropic_server = fake_server_fixtures(
    "fake_anthropic_server", fake_anthropic.running_server
)


def rss_bounds_mb(measured_calls: int) -> tuple[float, float]:
    """How much resident memory may grow: over all ``measured_calls`` after the warm-up, and over
    their second half alone (the steady state).

    Measured (RSS growth since the warm-up, after each tenth of the measured calls):

    - 24,000 calls, 2,000 of them warm-up: 4.4, 4.6, 4.7, 5.1, 5.5, 5.5, 5.5, 5.5, 5.5, 5.6 MB;
      0.11 MB over the second half (10,000 calls);
    - 104,000 calls (full size), 10,000 warm-up: 17.1, 18.2, 21.7, 22.4, 22.4, 22.4 ... 23.1 MB;
      0.7 MB over the second half (45,000 calls), about 16 bytes a call.

    So memory rises early, in steps, to a plateau whose height grew with the run, then stays
    nearly flat. The span ledger balanced in both runs, and in the first one tracemalloc saw no
    line of ours grow by more than 0.3 KiB, so the plateau is not made of spans. The bounds:

    - all the calls: 32 MB (1.4x the highest plateau seen) plus 64 bytes a call;
    - the second half: 1.5 MB (a few allocator steps) plus 64 bytes a call, 4x the slope seen.

    A span kept per call (a few kB) would pass the second bound within 1,000 calls. The ledger
    and the tracemalloc check catch a leak of our own objects directly, at any size.
    """
    return 32 + measured_calls * 64 / 2**20, 1.5 + measured_calls / 2 * 64 / 2**20


def run_child(config: dict[str, Any]) -> dict[str, Any]:
    """Run ``leak_support.py`` with ``config``; its report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "WIKITRACE_"))}
    env["WIKITRACE_RAISE_INTERNAL_ERRORS"] = "true"  # our own failures surface as failures
    script = Path(__file__).with_name("leak_support.py")
    done = subprocess.run(
        [sys.executable, str(script), json.dumps(config)], capture_output=True, text=True, env=env, timeout=3600
    )
    assert done.returncode == 0, done.stderr[-6000:]
    # Anything a finalizer raised is printed, never raised: look for it.
    assert "Exception ignored" not in done.stderr, done.stderr[-6000:]
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_no_leaks_over_many_calls(fake_openai: Any, fake_anthropic_server: Any, outcome: Callable[..., None]) -> None:
    warmup = CALLS // 10
    config = {
        "seed": 20261122,
        "warmup": warmup,
        "calls": CALLS - warmup,
        "http_every": HTTP_EVERY,
        "tracemalloc_calls": TRACEMALLOC_CALLS,
        "openai_url": fake_openai.base_url,
        "anthropic_url": fake_anthropic_server.base_url,
    }
    figures = run_child(config)
    outcome(
        calls=figures["calls"],
        abandoned_streams=figures["abandoned_streams"],
        open_spans=figures["open_spans"],
        rss_growth_mb=figures["rss_growth_mb"],
        thread_growth=figures["thread_growth"],
        child_cpu_s=figures["cpu_seconds"],
    )
    assert figures["calls"] == CALLS + TRACEMALLOC_CALLS
    assert figures["spans_started"] == figures["spans_ended"] == figures["calls"]
    assert (figures["open_spans"], figures["ended_unknown"]) == (0, 0)
    assert figures["warning_count"] == 0, figures["warnings"]
    assert figures["abandoned_streams"] > CALLS // 4  # the mix is what it claims to be
    assert figures["over_http"] >= CALLS // HTTP_EVERY
    whole, second_half = rss_bounds_mb(CALLS - warmup)
    curve = figures["rss_curve_mb"]  # growth since the warm-up, after each tenth of the calls
    assert curve[-1] < whole, curve
    assert curve[-1] - curve[4] < second_half, curve
    assert figures["thread_growth"] <= 0
    assert [line for line, kib in figures.get("tracemalloc_ours_kib", []) if kib > OURS_KIB] == []
