"""Exported GenAI spans carry their cost, whoever emitted them (CostEnrichingProcessor)."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from wikitrace_otel.pricing import PriceTable
from wikitrace_otel.processors import CostEnrichingProcessor

PRICES = PriceTable({"house-model": {"input": 2.0, "output": 8.0, "cache_read": 0.5}})


def pipeline() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(CostEnrichingProcessor(SimpleSpanProcessor(exporter), PRICES))
    return provider, exporter


def test_a_span_from_another_instrumentation_gets_cost() -> None:
    provider, exporter = pipeline()
    # The attribute names an older instrumentation emits: gen_ai.system and prompt/completion tokens.
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.system": "openai",
        "gen_ai.request.model": "house-model",
        "gen_ai.usage.prompt_tokens": 1_000_000,
        "gen_ai.usage.completion_tokens": 500_000,
    }
    provider.get_tracer("other.instrumentation").start_span("chat house-model", attributes=attributes).end()

    (span,) = exporter.get_finished_spans()
    assert span.attributes["gen_ai.usage.cost.amount"] == 2.0 + 4.0
    assert span.attributes["gen_ai.usage.cost"] == 6.0
    assert span.attributes["gen_ai.usage.cost.currency"] == "USD"
    assert span.attributes["gen_ai.usage.cost.source"] == "local"
    assert span.instrumentation_scope.name == "other.instrumentation"
    assert span.attributes["gen_ai.usage.prompt_tokens"] == 1_000_000


def test_cached_input_is_priced_at_the_cache_rate() -> None:
    provider, exporter = pipeline()
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "house-model",
        "gen_ai.usage.input_tokens": 1_000_000,
        "gen_ai.usage.cache_read.input_tokens": 400_000,
        "gen_ai.usage.output_tokens": 0,
    }
    provider.get_tracer("t").start_span("chat", attributes=attributes).end()

    (span,) = exporter.get_finished_spans()
    assert abs(span.attributes["gen_ai.usage.cost.amount"] - (0.6 * 2.0 + 0.4 * 0.5)) < 1e-12


def test_spans_without_a_price_or_outside_genai_pass_through_untouched() -> None:
    provider, exporter = pipeline()
    tracer = provider.get_tracer("t")
    tracer.start_span("GET /", attributes={"http.request.method": "GET"}).end()
    unknown = {"gen_ai.operation.name": "chat", "gen_ai.request.model": "no-such-model", "gen_ai.usage.input_tokens": 5}
    tracer.start_span("chat no-such-model", attributes=unknown).end()
    carried = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "house-model",
        "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.cost.amount": 0.25,
    }
    tracer.start_span("chat priced by provider", attributes=carried).end()

    plain, unpriced, provided = exporter.get_finished_spans()
    assert "gen_ai.usage.cost.amount" not in plain.attributes
    assert "gen_ai.usage.cost.amount" not in unpriced.attributes
    assert provided.attributes["gen_ai.usage.cost.amount"] == 0.25
    assert "gen_ai.usage.cost.source" not in provided.attributes
