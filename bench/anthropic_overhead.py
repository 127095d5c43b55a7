"""Overhead of the Anthropic instrumentor per call and per streamed event.

The real SDK builds its requests and parses its responses against an in-process transport
(``httpx2.MockTransport`` for anthropic 2.x, ``httpx.MockTransport`` before), so only the
instrumentation differs between variants. Spans go through ``SimpleSpanProcessor`` into an
exporter that drops them; metrics into a real ``MeterProvider`` with an in-memory reader.

Bare calls go through the SDK's own method (the function under the wrapper); bare and traced
blocks alternate, and a figure is the median of the paired differences, so slow drift in the
machine's speed cancels out. The per-event figure is the slope between a 5-delta and a
45-delta stream.

Usage: ``python bench/anthropic_overhead.py [--rounds 60] [--calls 20]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import anthropic
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from wikitrace_otel.instrumentors.anthropic import AnthropicInstrumentor
from wikitrace_otel.testing.fake_anthropic import payloads

if int(anthropic.__version__.split(".", 1)[0]) >= 2:
    import httpx2 as http
else:
    import httpx as http  # type: ignore[no-redef]

MODEL = "claude-bench"
USAGE = payloads.usage(20, 45, cache_read=100, cache_write=0)


def _sse(words: int) -> bytes:
    message = payloads.message(MODEL, [payloads.text_block("word " * words)], usage_body=USAGE)
    events = payloads.message_events(message, ping=False)
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


BODIES = {"plain": json.dumps(payloads.message(MODEL, usage_body=USAGE)).encode(), 5: _sse(5), 45: _sse(45)}


class _Drop(SpanExporter):
    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _client(case: Any) -> anthropic.Anthropic:
    def handler(request: Any) -> Any:
        kind = "application/json" if case == "plain" else "text/event-stream"
        return http.Response(200, headers={"content-type": kind}, content=BODIES[case])

    return anthropic.Anthropic(
        api_key="k", max_retries=0, http_client=http.Client(transport=http.MockTransport(handler))
    )


def _call(client: anthropic.Anthropic, case: Any, create: Callable[..., Any]) -> None:
    kwargs = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
    if case == "plain":
        create(client.messages, **kwargs)
        return
    for _ in create(client.messages, stream=True, **kwargs):
        pass


def _block(client: anthropic.Anthropic, case: Any, create: Callable[..., Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        _call(client, case, create)
    return (time.perf_counter() - start) / calls * 1e6


def isolated_per_event(count: int = 20_000) -> float:
    """µs the stream proxy and the accumulator add per event, over prebuilt SDK events (no HTTP)."""
    from anthropic.types import RawContentBlockDeltaEvent

    from wikitrace_otel._genai.config import GenAISettings
    from wikitrace_otel._genai.invocation import Invocation
    from wikitrace_otel._genai.stream import TracedStream
    from wikitrace_otel._genai.telemetry import GenAITelemetry
    from wikitrace_otel.instrumentors.anthropic.stream import MessagesAccumulator

    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "x"}}
    events = [RawContentBlockDeltaEvent.model_validate(delta)] * count
    telemetry = GenAITelemetry("bench", GenAISettings(), TracerProvider(), MeterProvider())
    added = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in iter(events):
            pass
        bare = time.perf_counter() - start
        invocation = Invocation(telemetry, {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "anthropic"}, None)
        start = time.perf_counter()
        for _ in TracedStream(events, MessagesAccumulator(invocation)):
            pass
        added.append((time.perf_counter() - start - bare) / count * 1e6)
    return statistics.median(added)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--calls", type=int, default=20)
    options = parser.parse_args()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(_Drop()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    AnthropicInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    traced = anthropic.resources.messages.Messages.create
    bare = traced.__wrapped__
    added: dict[Any, float] = {}
    for case in BODIES:
        client = _client(case)
        _block(client, case, traced, options.calls)  # warm up
        pairs = [
            _block(client, case, traced, options.calls) - _block(client, case, bare, options.calls)
            for _ in range(options.rounds)
        ]
        added[case] = statistics.median(pairs)
        print(f"{case!s:>6}: bare {_block(client, case, bare, options.calls):7.0f} µs, added {added[case]:6.0f} µs")
    print(f"per streamed event: {(added[45] - added[5]) / 40:.1f} µs (45 vs 5 text deltas)")
    AnthropicInstrumentor().uninstrument()
    print(f"per streamed event, proxy and accumulator alone: {isolated_per_event():.2f} µs")


if __name__ == "__main__":
    main()
