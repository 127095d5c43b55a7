"""Overhead of the OpenAI instrumentor per call and per streamed chunk.

The SDK runs its real request-building and response-parsing code against an in-process
transport (``httpx2.MockTransport`` for openai 3.x, ``httpx.MockTransport`` before), so only
instrumentation differs between the measured variants. Spans go through the SDK's
``SimpleSpanProcessor`` into an exporter that drops them; metrics into a real
``MeterProvider`` with an in-memory reader. Histogram values are recorded into the SDK when
metrics are collected, not on the call path, so after each timed batch the reader collects
and that time is reported separately ("collect µs/call"): it is CPU the process spends,
on the exporter's thread rather than in the call.

The bare call goes through the SDK's own method (the function under the wrapper), so bare
and traced calls can alternate in small blocks within one process; the added cost is the
median of the paired differences, so slow drift in the machine's speed cancels out.

Usage: ``python bench/overhead.py [--rounds 15] [--calls 400] [--json bench/results/overhead.json]``
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import openai
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from wikitrace_otel.instrumentors.openai import OpenAIInstrumentor

if int(openai.__version__.split(".", 1)[0]) >= 3:
    import httpx2 as http
else:  # openai 1.x and 2.x are built on httpx
    import httpx as http  # type: ignore[no-redef]

CHAT_BODY = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_bench",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there!"}, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": 12,
            "completion_tokens": 3,
            "total_tokens": 15,
            "prompt_tokens_details": {"cached_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
    }
).encode()
EMBEDDING_BODY = json.dumps(
    {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1] * 16}],
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }
).encode()
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]


def stream_body(chunks: int) -> bytes:
    """An SSE chat stream of ``chunks`` content chunks, a finish chunk and a usage chunk."""
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
    events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    events += [{**base, "choices": [{"index": 0, "delta": {"content": f"w{i} "}}]} for i in range(chunks)]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    events.append(
        {
            **base,
            "choices": [],
            "usage": {"prompt_tokens": 12, "completion_tokens": chunks, "total_tokens": 12 + chunks},
        }
    )
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


class DropExporter(SpanExporter):
    """Accepts and forgets every span."""

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def make_client(streams: dict[int, bytes]) -> openai.OpenAI:
    def handler(request: Any) -> Any:
        path = request.url.path
        if path.endswith("/embeddings"):
            return http.Response(200, headers={"content-type": "application/json"}, content=EMBEDDING_BODY)
        body = json.loads(request.content)
        if body.get("stream"):
            chunks = int(body.get("metadata", {}).get("chunks", 20))
            return http.Response(200, headers={"content-type": "text/event-stream"}, content=streams[chunks])
        return http.Response(200, headers={"content-type": "application/json"}, content=CHAT_BODY)

    transport = http.MockTransport(handler)
    return openai.OpenAI(
        api_key="sk-bench", base_url="https://api.openai.com/v1", http_client=http.Client(transport=transport)
    )


def _original(resource: Any, name: str) -> Callable[..., Any]:
    """The SDK's own method, bypassing the instrumentation wrapper (if any) on its class."""
    method = type(resource).__dict__[name]
    function = getattr(method, "__wrapped__", method)
    return lambda **kwargs: function(resource, **kwargs)


def cases(client: openai.OpenAI) -> dict[str, tuple[Callable[[], Any], Callable[[], Any]]]:
    """Each case as (bare, traced): the same call through the SDK's own method and through
    whatever is installed on the class, so both can run interleaved call by call."""
    chat_kwargs: dict[str, Any] = {"model": "gpt-4o-mini", "messages": MESSAGES, "temperature": 0.2}
    embed_kwargs: dict[str, Any] = {"model": "text-embedding-3-small", "input": "hello", "encoding_format": "float"}

    def consume(create: Callable[..., Any], chunks: int) -> Callable[[], Any]:
        def run() -> Any:
            for _ in create(**chat_kwargs, stream=True, metadata={"chunks": str(chunks)}):
                pass

        return run

    chat, embeddings = client.chat.completions, client.embeddings
    bare_chat, bare_embed = _original(chat, "create"), _original(embeddings, "create")
    return {
        "chat": (lambda: bare_chat(**chat_kwargs), lambda: chat.create(**chat_kwargs)),
        "stream_5": (consume(bare_chat, 5), consume(chat.create, 5)),
        "stream_45": (consume(bare_chat, 45), consume(chat.create, 45)),
        "embeddings": (lambda: bare_embed(**embed_kwargs), lambda: embeddings.create(**embed_kwargs)),
    }


VARIANTS: dict[str, dict[str, Any]] = {
    "wikitrace": {},
    "wikitrace+content": {"capture_content": "SPAN_ONLY"},
}


def time_per_call(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def reference_span_us(provider: TracerProvider, blocks: int) -> float:
    """What one plain SDK span with 15 attributes costs here, through the same pipeline: the
    yardstick for the figures above on a machine whose speed drifts."""
    tracer = provider.get_tracer("reference")
    attributes = {f"attribute.{i}": i for i in range(15)}

    def one() -> None:
        tracer.start_span("reference", attributes=attributes).end()

    return statistics.median(time_per_call(one, 50) for _ in range(blocks)) * 1e6


def run(rounds: int, calls: int) -> dict[str, Any]:
    """Per case: blocks of bare and traced calls alternate; the added cost is the median of
    the paired differences, which cancels slow drift in the machine's speed."""
    client = make_client({5: stream_body(5), 45: stream_body(45)})
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(DropExporter()))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    report: dict[str, Any] = {"bare_us": {}, "added_us": {}, "collect_us_per_call": {}}
    report["sdk_span_15_attributes_us"] = reference_span_us(tracer_provider, rounds * 10)
    block = max(calls // 10, 5)
    for variant, settings in VARIANTS.items():
        instrumentor = OpenAIInstrumentor()
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider, **settings)
        added, collected = {}, {}
        for case, (bare, traced) in cases(client).items():
            for _ in range(block):  # warm-up
                bare()
                traced()
            reader.get_metrics_data()
            bare_times, differences, collect_times = [], [], []
            for _ in range(rounds * 10):
                bare_time = time_per_call(bare, block)
                traced_time = time_per_call(traced, block)
                bare_times.append(bare_time)
                differences.append(traced_time - bare_time)
                start = time.perf_counter()
                reader.get_metrics_data()
                collect_times.append((time.perf_counter() - start) / block)
            report["bare_us"][case] = statistics.median(bare_times) * 1e6
            added[case] = statistics.median(differences) * 1e6
            collected[case] = statistics.median(collect_times) * 1e6
        added["per_chunk"] = (added["stream_45"] - added["stream_5"]) / 40
        report["added_us"][variant] = added
        report["collect_us_per_call"][variant] = collected
        instrumentor.uninstrument()
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15, help="x10 paired blocks per case")
    parser.add_argument("--calls", type=int, default=200, help="calls per round (a block is a tenth)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    report = run(args.rounds, args.calls)
    report["environment"] = {
        "python": platform.python_version(),
        "openai": openai.__version__,
        "machine": platform.machine(),
        "rounds": args.rounds,
        "calls_per_round": args.calls,
    }
    bare = report["bare_us"]
    print(f"openai {openai.__version__}, python {platform.python_version()}, {args.rounds * 10} paired blocks")
    print(f"one plain SDK span with 15 attributes costs {report['sdk_span_15_attributes_us']:.1f} µs here")
    variants = list(report["added_us"])
    header = "".join(f"{v + ' +µs':>22}{'collect µs/call':>17}" for v in variants)
    print(f"{'case':<12}{'bare µs':>10}" + header)
    for case in (*bare, "per_chunk"):
        base = f"{bare[case]:10.1f}" if case in bare else f"{'':>10}"
        row = ""
        for variant in variants:
            collected = report["collect_us_per_call"][variant].get(case)
            added = report["added_us"][variant][case]
            row += f"{added:22.1f}" + (f"{collected:17.1f}" if collected is not None else " " * 17)
        print(f"{case:<12}{base}{row}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
