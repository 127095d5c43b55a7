"""Overhead of the Mistral and Cohere instrumentors per call and per streamed chunk.

The real SDKs build their requests and parse their responses against an in-process transport
(``MockTransport`` of the HTTP library each SDK uses), so only the instrumentation differs
between variants. Spans go through ``SimpleSpanProcessor`` into an exporter that drops them;
metrics into a real ``MeterProvider`` with an in-memory reader. Bare calls go through the
SDK's own function (the one under the wrapper); bare and traced blocks alternate, and a figure
is the median of the paired differences. The per-chunk figure times the stream proxy and the
accumulator alone over prebuilt SDK events (no HTTP).

Usage: ``python bench/mistral_cohere_overhead.py [--rounds 40] [--calls 20]``
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from wikitrace_otel._genai.config import GenAISettings
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import TracedStream
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.instrumentors.cohere import CohereInstrumentor
from wikitrace_otel.instrumentors.cohere.stream import ChatStreamAccumulator
from wikitrace_otel.instrumentors.mistral import MistralInstrumentor
from wikitrace_otel.instrumentors.mistral.stream import ChatAccumulator
from wikitrace_otel.testing.fake_cohere import payloads as cohere_payloads
from wikitrace_otel.testing.fake_mistral import payloads as mistral_payloads

USER = [{"role": "user", "content": "Hi"}]


class _Drop(SpanExporter):
    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _json_client(http: Any, body: dict[str, Any]) -> Any:
    content = json.dumps(body).encode()

    def handler(request: Any) -> Any:
        return http.Response(200, headers={"content-type": "application/json"}, content=content)

    return http.Client(transport=http.MockTransport(handler))


def _mistral() -> tuple[Any, Callable[..., Any]]:
    try:
        import httpx2 as http
        from mistralai.client import Mistral
        from mistralai.client.chat import Chat
    except ImportError:  # 1.x: plain httpx, flat layout
        import httpx as http  # type: ignore[no-redef]
        from mistralai import Mistral  # type: ignore[no-redef,attr-defined]
        from mistralai.chat import Chat  # type: ignore[no-redef]
    body = mistral_payloads.chat_completion("mistral-bench", usage_body=mistral_payloads.usage(20, 45))
    client = Mistral(api_key="k", client=_json_client(http, body))
    return client.chat, Chat.complete


def _cohere() -> tuple[Any, Callable[..., Any]]:
    import cohere
    import httpx

    # Made after instrument(): the SDK copies ``chat`` onto each client when it is created.
    body = cohere_payloads.chat_response(usage_body=cohere_payloads.usage(20, 45))
    client = cohere.ClientV2(api_key="k", base_url="http://bench", httpx_client=_json_client(httpx, body))
    return client, importlib.import_module("cohere.v2.client").V2Client.chat


def _block(target: Any, method: Callable[..., Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        method(target, model="bench", messages=USER)
    return (time.perf_counter() - start) / calls * 1e6


def per_call(name: str, make: Callable[[], tuple[Any, Callable[..., Any]]], rounds: int, calls: int) -> None:
    target, traced = make()
    bare = traced.__wrapped__
    _block(target, traced, calls)  # warm up
    pairs = [_block(target, traced, calls) - _block(target, bare, calls) for _ in range(rounds)]
    print(f"{name:>8} chat: bare {_block(target, bare, calls):6.0f} µs, added {statistics.median(pairs):5.0f} µs")


def per_chunk(name: str, events: list[Any], accumulator: Callable[[Invocation], Any]) -> None:
    telemetry = GenAITelemetry("bench", GenAISettings(), TracerProvider(), MeterProvider())
    added = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in iter(events):
            pass
        bare = time.perf_counter() - start
        invocation = Invocation(telemetry, {"gen_ai.operation.name": "chat", "gen_ai.provider.name": name}, None)
        start = time.perf_counter()
        for _ in TracedStream(events, accumulator(invocation)):
            pass
        added.append((time.perf_counter() - start - bare) / len(events) * 1e6)
    print(f"{name:>8} per streamed chunk, proxy and accumulator alone: {statistics.median(added):.2f} µs")


def _mistral_events(count: int) -> list[Any]:
    try:
        models = importlib.import_module("mistralai.client.models")
    except ImportError:
        models = importlib.import_module("mistralai.models")
    chunk = mistral_payloads.chat_chunks(mistral_payloads.chat_completion("m", "x" * 30), pieces=30)[1]
    return [models.CompletionEvent(data=models.CompletionChunk.model_validate(chunk))] * count


def _cohere_events(count: int) -> list[Any]:
    from cohere import ChatContentDeltaEvent

    delta = {"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": "x"}}}}
    return [ChatContentDeltaEvent.model_validate(delta)] * count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--calls", type=int, default=20)
    options = parser.parse_args()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(_Drop()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    for instrumentor in (MistralInstrumentor(), CohereInstrumentor()):
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    per_call("mistral", _mistral, options.rounds, options.calls)
    per_call("cohere", _cohere, options.rounds, options.calls)
    MistralInstrumentor().uninstrument()
    CohereInstrumentor().uninstrument()
    per_chunk("mistral", _mistral_events(20_000), lambda invocation: ChatAccumulator(invocation, 1))
    per_chunk("cohere", _cohere_events(20_000), ChatStreamAccumulator)


if __name__ == "__main__":
    main()
