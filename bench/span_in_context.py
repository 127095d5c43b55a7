"""What the OpenAI instrumentor adds per call, against one plain SDK span made around the same call.

    python bench/span_in_context.py [--rounds 15] [--calls 200] [--case chat|embeddings]

A plain span timed in a tight loop stays in the CPU's caches; around a real SDK call, which
runs through thousands of lines of request building and response parsing first, the same span
costs two to three times as much. This benchmark measures three variants in one process, in
interleaved blocks, over the same in-process transport and span pipeline as ``bench/overhead.py``:

- ``bare``: the SDK's own method;
- ``plain span``: the bare call inside one SDK span with 15 attributes, started and ended by hand
  (the least any instrumentation that makes a span can add);
- ``traced``: the call through ``OpenAIInstrumentor``'s wrapper (span, metrics, attributes).

It prints the medians of the per-round differences against ``bare`` and their ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import overhead
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from wikitrace_otel.instrumentors.openai import OpenAIInstrumentor


def per_call_us(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--case", choices=("chat", "embeddings"), default="chat")
    args = parser.parse_args()

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(overhead.DropExporter()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    OpenAIInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    bare, traced = overhead.cases(overhead.make_client({}))[args.case]
    tracer = tracer_provider.get_tracer("reference")
    attributes = {f"attribute.{index}": index for index in range(15)}

    def plain_span() -> None:
        span = tracer.start_span("chat gpt-4o-mini", attributes=attributes)
        bare()
        span.end()

    for _ in range(args.calls):  # warm up every path
        bare(), plain_span(), traced()
    span_added, traced_added = [], []
    for _ in range(args.rounds):
        base = per_call_us(bare, args.calls)
        span_added.append(per_call_us(plain_span, args.calls) - base)
        traced_added.append(per_call_us(traced, args.calls) - base)
    span_us, traced_us = statistics.median(span_added), statistics.median(traced_added)
    print(f"{args.case}: {args.rounds} rounds of {args.calls} calls per variant")
    print(f"plain span around the call   +{span_us:7.1f} µs")
    print(f"OpenAIInstrumentor           +{traced_us:7.1f} µs  ({traced_us / span_us:.2f}x the plain span)")


if __name__ == "__main__":
    main()
