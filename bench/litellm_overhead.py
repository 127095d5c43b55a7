"""What the LiteLLM instrumentor adds to a LiteLLM call.

``litellm.completion(..., mock_response=...)`` runs LiteLLM's whole call path without any
HTTP, so the difference between bare and instrumented calls is the instrumentor's (spans into a
dropping exporter through a ``SimpleSpanProcessor``, metrics into an in-memory reader). Two
cases: LiteLLM emits its own span (no provider instrumentor traced the call), and the
instrumentor's bookkeeping alone (a provider instrumentor claimed the call, so no LiteLLM span).

Blocks of bare and traced calls alternate; each figure is the median of the paired
differences, in µs per call.

    python bench/litellm_overhead.py --rounds 30 --calls 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from wikitrace_otel._genai import claims
from wikitrace_otel.instrumentors.litellm import LiteLLMInstrumentor

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
import litellm  # after the variable that keeps it off the network

MESSAGES = [{"role": "user", "content": "Hi"}]


class _Drop(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _call() -> Any:
    return litellm.completion(model="openai/gpt-4o-mini", messages=MESSAGES, mock_response="Hello")


def _claimed_call() -> Any:
    # What a provider instrumentor does inside the call: claim it, so LiteLLM emits nothing.
    def claim_then_call(*args: Any, **kwargs: Any) -> Any:
        claims.claim()
        return original(*args, **kwargs)

    return claim_then_call


original = litellm.main.completion


def _block(function: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        function()
    return (time.perf_counter() - start) / calls * 1e6


def _paired(rounds: int, calls: int, instrumentor: LiteLLMInstrumentor, setup: dict[str, Any]) -> float:
    diffs = []
    for _ in range(rounds):
        bare = _block(_call, calls)
        instrumentor.instrument(**setup)
        traced = _block(_call, calls)
        instrumentor.uninstrument()
        diffs.append(traced - bare)
    return statistics.median(diffs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_Drop()))
    setup = {"tracer_provider": provider, "meter_provider": MeterProvider(metric_readers=[InMemoryMetricReader()])}
    instrumentor = LiteLLMInstrumentor()
    for _ in range(20):  # warm LiteLLM's caches
        _call()
    base = _block(_call, args.calls * 5)
    print(f"bare mock call: {base:.0f} µs")
    print(f"LiteLLM span emitted: +{_paired(args.rounds, args.calls, instrumentor, setup):.1f} µs per call")
    litellm.main.completion = _claimed_call()
    litellm.completion = litellm.main.completion
    try:
        claimed = _paired(args.rounds, args.calls, instrumentor, setup)
    finally:
        litellm.main.completion = litellm.completion = original
    print(f"claimed by a provider instrumentor (no LiteLLM span): +{claimed:.1f} µs per call")


if __name__ == "__main__":
    main()
