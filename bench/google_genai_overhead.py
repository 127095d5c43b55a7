"""Overhead of the Google Gen AI instrumentor per call and per streamed chunk.

The real SDK (3.x) builds its requests and parses its responses against an in-process
``httpx2.MockTransport`` passed as ``client_args={"transport": ...}``, so only the
instrumentation differs between variants. Spans go through ``SimpleSpanProcessor`` into an
exporter that drops them; metrics into a real ``MeterProvider`` with an in-memory reader.

Bare calls go through the SDK's own method (the function under the wrapper); bare and traced
blocks alternate, and a figure is the median of the paired differences, so slow drift in the
machine's speed cancels out. The per-chunk figure times the stream proxy and the accumulator
alone over prebuilt SDK chunks (no HTTP), each read with the span made current.

Usage: ``python bench/google_genai_overhead.py [--rounds 40] [--calls 10]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx2
from google import genai
from google.genai import models, types
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from wikitrace_otel.instrumentors.google_genai import GoogleGenAIInstrumentor
from wikitrace_otel.testing.fake_gemini import payloads

MODEL = "gemini-bench"
ANSWER = payloads.response(MODEL, usage_body=payloads.usage(120, 40, cached=100, thoughts=12))
BODY = json.dumps(ANSWER).encode()


class _Drop(SpanExporter):
    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _client() -> genai.Client:
    def handler(request: Any) -> Any:
        return httpx2.Response(200, headers={"content-type": "application/json"}, content=BODY)

    options = {"base_url": "http://bench.invalid", "client_args": {"transport": httpx2.MockTransport(handler)}}
    return genai.Client(api_key="k", http_options=options)


def _block(client: genai.Client, generate: Callable[..., Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        generate(client.models, model=MODEL, contents="Hi")
    return (time.perf_counter() - start) / calls * 1e6


def isolated_per_chunk(proxy: Any, accumulator: Any, count: int = 20_000) -> float:
    """µs a stream proxy and an accumulator add per chunk, over prebuilt SDK chunks (no HTTP)."""
    from wikitrace_otel._genai.config import GenAISettings
    from wikitrace_otel._genai.invocation import Invocation
    from wikitrace_otel._genai.telemetry import GenAITelemetry

    chunk = types.GenerateContentResponse.model_validate(payloads.stream_chunks(ANSWER)[0])
    chunks = [chunk] * count
    telemetry = GenAITelemetry("bench", GenAISettings(), TracerProvider(), MeterProvider())
    attrs = {"gen_ai.operation.name": "generate_content", "gen_ai.provider.name": "gcp.gemini"}
    added = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in iter(chunks):
            pass
        bare = time.perf_counter() - start
        invocation = Invocation(telemetry, dict(attrs), None)
        start = time.perf_counter()
        for _ in proxy(iter(chunks), accumulator(invocation)):
            pass
        added.append((time.perf_counter() - start - bare) / count * 1e6)
    return statistics.median(added)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--calls", type=int, default=10)
    options = parser.parse_args()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(_Drop()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    GoogleGenAIInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    traced = models.Models.generate_content
    bare = traced.__wrapped__
    client = _client()
    _block(client, traced, options.calls)  # warm up
    pairs = [_block(client, traced, options.calls) - _block(client, bare, options.calls) for _ in range(options.rounds)]
    bare_us = _block(client, bare, options.calls)
    print(f"generate_content: bare {bare_us:7.0f} µs, added {statistics.median(pairs):6.0f} µs")
    GoogleGenAIInstrumentor().uninstrument()
    from wikitrace_otel._genai.stream import Accumulator, TracedStream
    from wikitrace_otel.instrumentors.google_genai.stream import GeminiStream, GenerateContentAccumulator

    ours = isolated_per_chunk(GeminiStream, GenerateContentAccumulator)
    shared = isolated_per_chunk(TracedStream, Accumulator)
    print(f"per streamed chunk, proxy and accumulator alone: {ours:.2f} µs")
    print(f"  (the shared proxy with an accumulator that reads nothing, same run: {shared:.2f} µs)")


if __name__ == "__main__":
    main()
