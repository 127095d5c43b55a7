"""Throughput of the span store writer (``FileSpanExporter``), in spans per second.

Realistic GenAI spans are made once by a real ``TracerProvider``: ``chat`` CLIENT spans under an
``invoke_agent`` span, each with ~20 attributes including a distinct ~2 KB JSON
``gen_ai.input.messages`` ("content"), or ~15 attributes without content, or a minimal span of 4
attributes (for scale: what most serialisation benchmarks measure). Then, in interleaved
rounds, batches of 512 (the ``BatchSpanProcessor`` default) go through:

- ``encode``: the OTLP/JSON encoder alone (bytes ready to write);
- ``export``: ``FileSpanExporter.export`` into a temporary directory (encode + write);
- ``protobuf``: the OTLP protobuf encoder alone (``encode_spans``), for scale;
- ``json_format``: ``encode_spans`` then ``json_format.MessageToJson``, the obvious way to write
  OTLP JSON from Python (ids come out base64, so it is not even valid OTLP/JSON).

Figures are medians over rounds.

Usage: ``python bench/file_exporter.py [--rounds 7] [--spans 4096] [--json bench/results/file_exporter.json]``
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common._internal.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.version import __version__ as otel_version

from wikitrace_otel.exporters import FileSpanExporter
from wikitrace_otel.exporters._otlp_json import TracesDataEncoder
from wikitrace_otel.semconv import SCHEMA_URL
from wikitrace_otel.semconv import gen_ai as g

BATCH = 512
WORDS = ("the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog", "while", "summarising", "revenue")


def content(rng: random.Random, size: int) -> str:
    """A distinct JSON messages attribute of about ``size`` characters."""
    text = " ".join(rng.choice(WORDS) for _ in range(size // 6))
    messages = [
        {"role": "system", "parts": [{"type": "text", "content": "You are a helpful assistant. Answer briefly."}]},
        {"role": "user", "parts": [{"type": "text", "content": f'Summarise "{text[: size // 2]}"'}]},
        {"role": "assistant", "parts": [{"type": "text", "content": text[size // 2 :]}]},
    ]
    return json.dumps(messages)


def chat_attributes(rng: random.Random, i: int, with_content: bool | None) -> dict[str, Any]:
    """~20 attributes with content, ~15 without, 4 for ``None`` (a minimal span)."""
    if with_content is None:
        return {g.GEN_AI_OPERATION_NAME: "chat", g.GEN_AI_REQUEST_MODEL: "gpt-4o-mini", "i": i, "ok": True}
    attributes: dict[str, Any] = {
        g.GEN_AI_OPERATION_NAME: "chat",
        g.GEN_AI_PROVIDER_NAME: "openai",
        g.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        g.SERVER_ADDRESS: "api.openai.com",
        g.GEN_AI_REQUEST_TEMPERATURE: 0.2,
        g.GEN_AI_REQUEST_MAX_TOKENS: 512,
        g.GEN_AI_REQUEST_STOP_SEQUENCES: ["\n\n"],
        g.GEN_AI_RESPONSE_ID: f"chatcmpl-{rng.getrandbits(96):024x}",
        g.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        g.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"],
        g.GEN_AI_USAGE_INPUT_TOKENS: rng.randint(50, 4000),
        g.GEN_AI_USAGE_OUTPUT_TOKENS: rng.randint(5, 800),
        g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: rng.choice([0, 1024]),
        g.OPENAI_API_TYPE: "chat_completions",
        g.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_b376dfbbd5",
        "session.id": f"session-{i // 10}",
    }
    if with_content:
        attributes[g.OPENAI_RESPONSE_SERVICE_TIER] = "default"
        attributes["gen_ai.usage.cost.amount"] = rng.random() / 100
        attributes["gen_ai.usage.cost.currency"] = "USD"
        attributes[g.GEN_AI_INPUT_MESSAGES] = content(rng, 2048)
    return attributes


def make_spans(count: int, with_content: bool | None) -> list[ReadableSpan]:
    """``count`` finished chat spans (plus their agent parents) from a real SDK pipeline."""
    rng = random.Random(7)
    memory = InMemorySpanExporter()
    resource = Resource.create({"service.name": "bench-agent", "service.version": "1.4.2"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("wikitrace_otel.instrumentors.openai", "0.1.0", schema_url=SCHEMA_URL)
    made = 0
    while made < count:
        with tracer.start_as_current_span("invoke_agent planner", attributes={g.GEN_AI_AGENT_NAME: "planner"}):
            for _ in range(min(4, count - made)):
                with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT) as span:
                    span.set_attributes(chat_attributes(rng, made, with_content))
                made += 1
    return [s for s in memory.get_finished_spans() if s.kind is SpanKind.CLIENT][:count]


def batches(spans: Sequence[ReadableSpan]) -> list[Sequence[ReadableSpan]]:
    return [spans[i : i + BATCH] for i in range(0, len(spans), BATCH)]


def rate(spans: Sequence[ReadableSpan], run: Callable[[Sequence[ReadableSpan]], Any]) -> float:
    start = time.perf_counter()
    for batch in batches(spans):
        run(batch)
    return len(spans) / (time.perf_counter() - start)


def variants(directory: Path) -> dict[str, Callable[[Sequence[ReadableSpan]], Any]]:
    encoder = TracesDataEncoder()
    exporter = FileSpanExporter(directory)
    return {
        "encode": lambda batch: encoder.encode(batch, 1_000_000),
        "export": exporter.export,
        "protobuf": encode_spans,
        "json_format": lambda batch: json_format.MessageToJson(encode_spans(batch), indent=None),
    }


def run(rounds: int, count: int) -> dict[str, dict[str, float]]:
    cases = {
        "with_content": make_spans(count, True),
        "without_content": make_spans(count, False),
        "minimal": make_spans(count, None),
    }
    samples: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as directory:
        runners = variants(Path(directory))
        for spans in cases.values():  # warm-up: caches, allocator
            for runner in runners.values():
                runner(spans[:BATCH])
        for _ in range(rounds):
            for case, spans in cases.items():
                for name, runner in runners.items():
                    samples.setdefault(case, {}).setdefault(name, []).append(rate(spans, runner))
    return {case: {name: statistics.median(s) for name, s in by_name.items()} for case, by_name in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--spans", type=int, default=4096)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    medians = run(args.rounds, args.spans)
    print(
        f"python {platform.python_version()}, opentelemetry {otel_version}, "
        f"{args.rounds} rounds x {args.spans} spans, batches of {BATCH}; median spans/s"
    )
    names = list(next(iter(medians.values())))
    print(f"{'case':<18}" + "".join(f"{name:>14}" for name in names) + f"{'vs json_format':>16}")
    for case, by_name in medians.items():
        speedup = by_name["export"] / by_name["json_format"]
        print(f"{case:<18}" + "".join(f"{by_name[n]:>14,.0f}" for n in names) + f"{speedup:>15.1f}x")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {"spans_per_second": medians, "python": platform.python_version(), "opentelemetry": otel_version}
        args.json.write_text(json.dumps(report, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
