"""What the LangChain handler adds to a LangChain run.

Two runnables, with and without the handler (spans into a dropping exporter through a
``SimpleSpanProcessor``, metrics into an in-memory reader):

- a chat model that calls no SDK (the handler emits its inference span);
- a two-step chain around it (a workflow span, a step span, the inference span).

Blocks of bare and traced calls alternate; each figure is the median of the paired
differences, in µs per run.

    python bench/langchain_overhead.py --rounds 40 --calls 20
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from wikitrace_otel.integrations.langchain import WikitraceCallbackHandler


class _Drop(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _Model(BaseChatModel):
    @property
    def _llm_type(self) -> str:
        return "bench"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kwargs: Any) -> ChatResult:
        usage = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content="ok", usage_metadata=usage))])


def _per_call(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def _measure(name: str, bare: Callable[[], Any], traced: Callable[[], Any], rounds: int, calls: int) -> None:
    bare(), traced()  # warm up
    pairs = [(_per_call(bare, calls), _per_call(traced, calls)) for _ in range(rounds)]
    base = statistics.median(b for b, _ in pairs)
    added = statistics.median(t - b for b, t in pairs)
    print(f"{name:<32} bare {base:8.1f} µs   added {added:8.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_Drop()))
    meters = MeterProvider(metric_readers=[InMemoryMetricReader()])
    handler = WikitraceCallbackHandler(tracer_provider=provider, meter_provider=meters)
    traced = {"callbacks": [handler]}
    model = _Model()
    chain = (RunnableLambda(lambda q: q, name="prep") | model).with_config(run_name="chain")
    _measure(
        "chat model (handler's span)",
        lambda: model.invoke("hi"),
        lambda: model.invoke("hi", traced),
        args.rounds,
        args.calls,
    )
    _measure(
        "chain of 2 steps (3 spans)",
        lambda: chain.invoke("hi"),
        lambda: chain.invoke("hi", traced),
        args.rounds,
        args.calls,
    )


if __name__ == "__main__":
    main()
