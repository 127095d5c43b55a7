"""CostSpanProcessor: cost of GenAI spans from any instrumentation, on the SDKs we support."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult

from otel_helpers import attributes, metric_points, only_span, point_attributes
from wikitrace_otel._genai.errors import InternalErrorRaised
from wikitrace_otel.pricing import PriceTable
from wikitrace_otel.processors.cost import CostSpanProcessor, cost_attributes

genai_prices = pytest.importorskip("genai_prices")
from genai_prices.data import providers as _gp_providers  # noqa: E402 - only once genai-prices is known present

M = 1_000_000
COST = "gen_ai.client.operation.cost"
COST_KEYS = {"gen_ai.usage.cost.amount", "gen_ai.usage.cost.currency", "gen_ai.usage.cost.source", "gen_ai.usage.cost"}


def data_prices(provider_id: str, model_id: str) -> Any:
    """genai-prices' own prices for the model now (Decimal per million tokens)."""
    (provider,) = [p for p in _gp_providers if p.id == provider_id]
    (model,) = [m for m in provider.models if m.id == model_id]
    return model.get_prices(datetime.now(timezone.utc))


def on_ending_can_write() -> bool:
    """Whether this SDK lets a processor write to a span from _on_ending (none released so far)."""
    seen: list[bool] = []

    class Probe(SpanProcessor):
        def _on_ending(self, span: Any) -> None:
            seen.append(span.is_recording())

    provider = TracerProvider()
    provider.add_span_processor(Probe())
    provider.get_tracer("probe").start_span("probe").end()
    return seen == [True]


class RecordOnly(Sampler):
    """Records spans without sampling them (they reach processors, not exporters)."""

    def should_sample(self, parent_context, trace_id, name, kind=None, attributes=None, links=None, trace_state=None):
        return SamplingResult(Decision.RECORD_ONLY, attributes)

    def get_description(self) -> str:
        return "RecordOnly"


@pytest.fixture
def traced(
    span_exporter: InMemorySpanExporter, meter_provider: MeterProvider
) -> Callable[..., tuple[TracerProvider, CostSpanProcessor]]:
    """A tracer provider with a CostSpanProcessor registered before the exporting processor."""

    def make(sampler: Sampler | None = None, **kwargs: Any) -> tuple[TracerProvider, CostSpanProcessor]:
        kwargs.setdefault("preload", False)
        processor = CostSpanProcessor(meter_provider=meter_provider, **kwargs)
        provider = TracerProvider(sampler=sampler) if sampler else TracerProvider()
        provider.add_span_processor(processor)
        provider.add_span_processor(SimpleSpanProcessor(span_exporter))
        return provider, processor

    return make


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    real = genai_prices.calc_price

    def counting(usage: Any, model_ref: str, **kwargs: Any) -> Any:
        seen.append(model_ref)
        return real(usage, model_ref, **kwargs)

    monkeypatch.setattr(genai_prices, "calc_price", counting)
    return seen


def emit(provider: TracerProvider, name: str, start: dict[str, Any], end: dict[str, Any] | None = None) -> None:
    """A span made by hand, as another instrumentation would: identity at start, usage before end."""
    with provider.get_tracer("someone.else").start_as_current_span(name, attributes=start) as span:
        span.set_attributes(end or {})


def cost_points(reader: InMemoryMetricReader) -> list[Any]:
    return metric_points(reader).get(COST, [])


# --- spans from other instrumentations --------------------------------------------------

OLD_STYLE_START = {"gen_ai.operation.name": "chat", "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o"}
OLD_STYLE_END = {
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.usage.prompt_tokens": 1200,
    "gen_ai.usage.completion_tokens": 300,
}


def gpt_4o_cost(input_tokens: int, output_tokens: int, cache_read: int = 0) -> float:
    p = data_prices("openai", "gpt-4o")
    uncached = input_tokens - cache_read
    return (
        uncached * float(p.input_mtok) + cache_read * float(p.cache_read_mtok) + output_tokens * float(p.output_mtok)
    ) / M


def test_foreign_span_with_older_names_is_priced(traced, span_exporter, metric_reader) -> None:
    provider, _ = traced()
    emit(provider, "chat gpt-4o", OLD_STYLE_START, OLD_STYLE_END)

    span = only_span(span_exporter)
    if on_ending_can_write():  # a spec-compliant SDK: the span itself carries the cost
        assert attributes(span)["gen_ai.usage.cost.amount"] == pytest.approx(gpt_4o_cost(1200, 300))
    else:  # every released SDK (documented): span untouched, cost still in the histogram
        assert COST_KEYS.isdisjoint(attributes(span))
    (point,) = cost_points(metric_reader)
    assert (point.count, point.sum) == (1, pytest.approx(gpt_4o_cost(1200, 300)))
    assert point_attributes(point) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
    }


def test_released_sdks_do_not_let_on_ending_write() -> None:
    # open-telemetry/opentelemetry-python#5614: the reason for the documented fallback. When an
    # SDK fixes it, this fails: flip the README's claim and keep the enrichment tests above.
    assert on_ending_can_write() is False


def test_where_the_span_is_writable_the_cost_is_set_on_it(traced, span_exporter, metric_reader, calls) -> None:
    # Stands in for a spec-compliant SDK: the hook runs while the span can still be written.
    provider, processor = traced()
    with provider.get_tracer("x").start_as_current_span("chat gpt-4o", attributes=OLD_STYLE_START) as span:
        span.set_attributes(OLD_STYLE_END)
        processor._on_ending(span)

    expected = gpt_4o_cost(1200, 300)
    found = attributes(only_span(span_exporter))
    assert {k: found[k] for k in COST_KEYS} == {
        "gen_ai.usage.cost.amount": pytest.approx(expected),
        "gen_ai.usage.cost.currency": "USD",
        "gen_ai.usage.cost.source": "local",
        "gen_ai.usage.cost": pytest.approx(expected),
    }
    (point,) = cost_points(metric_reader)
    assert (point.count, point.sum) == (1, pytest.approx(expected))  # recorded once, from the span
    assert calls == ["gpt-4o-2024-08-06"]


def test_official_instrumentation_embeddings_span(traced, metric_reader) -> None:
    provider, _ = traced()
    emit(
        provider,
        "embeddings text-embedding-3-small",
        {"gen_ai.operation.name": "embeddings", "gen_ai.provider.name": "openai"},
        {"gen_ai.request.model": "text-embedding-3-small", "gen_ai.usage.input_tokens": 8000},
    )

    expected = 8000 * float(data_prices("openai", "text-embedding-3-small").input_mtok) / M
    (point,) = cost_points(metric_reader)
    assert point.sum == pytest.approx(expected)


def test_anthropic_sdk_style_span_with_cache_write(traced, metric_reader) -> None:
    # The Anthropic SDK's own spans: input includes the cache, cache_write / cache_read apart.
    provider, _ = traced()
    emit(
        provider,
        "anthropic.messages.create",
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "anthropic",
            "gen_ai.request.model": "claude-haiku-4-5",
        },
        {
            "gen_ai.response.model": "claude-haiku-4-5-20251001",
            "gen_ai.usage.input_tokens": 2600,
            "gen_ai.usage.cache_write.input_tokens": 2000,
            "gen_ai.usage.cache_read.input_tokens": 500,
            "gen_ai.usage.output_tokens": 40,
        },
    )

    p = data_prices("anthropic", "claude-haiku-4-5")
    expected = (
        100 * float(p.input_mtok)
        + 2000 * float(p.cache_write_mtok)
        + 500 * float(p.cache_read_mtok)
        + 40 * float(p.output_mtok)
    ) / M
    (point,) = cost_points(metric_reader)
    assert point.sum == pytest.approx(expected)


def test_openllmetry_style_cache_names(traced, metric_reader) -> None:
    provider, _ = traced()
    emit(
        provider,
        "anthropic.chat",
        {"gen_ai.operation.name": "chat", "gen_ai.system": "Anthropic", "gen_ai.request.model": "claude-haiku-4-5"},
        {
            "gen_ai.usage.prompt_tokens": 2600,
            "gen_ai.usage.completion_tokens": 40,
            "gen_ai.usage.cache_read_input_tokens": 500,
            "gen_ai.usage.cache_creation_input_tokens": 2000,
        },
    )

    p = data_prices("anthropic", "claude-haiku-4-5")
    expected = (
        100 * float(p.input_mtok)
        + 2000 * float(p.cache_write_mtok)
        + 500 * float(p.cache_read_mtok)
        + 40 * float(p.output_mtok)
    ) / M
    (point,) = cost_points(metric_reader)
    assert point.sum == pytest.approx(expected)


# --- what is not priced ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ({"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-unknown"},
         {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 10}),
        ({"gen_ai.operation.name": "chat", "gen_ai.provider.name": "ollama", "gen_ai.request.model": "llama3"},
         {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 10}),
        ({"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"}, {}),
        ({"gen_ai.operation.name": "execute_tool", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"},
         {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 10}),
        ({"gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"},
         {"gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 10}),
        ({"http.request.method": "GET"}, {}),
    ],
    ids=["unknown-model", "local-model", "no-usage", "tool-span", "no-operation", "not-genai"],
)  # fmt: skip
def test_no_cost_never_zero(traced, span_exporter, metric_reader, start, end) -> None:
    provider, processor = traced()
    emit(provider, "span", start, end)

    assert COST_KEYS.isdisjoint(attributes(only_span(span_exporter)))
    assert processor.cost_attributes({**start, **end}) == {}
    assert cost_points(metric_reader) == []


def test_unsampled_spans_are_skipped(traced, metric_reader) -> None:
    provider, _ = traced(sampler=RecordOnly())
    emit(provider, "chat gpt-4o", OLD_STYLE_START, OLD_STYLE_END)

    assert cost_points(metric_reader) == []


def test_span_with_a_provider_cost_is_left_alone(traced, span_exporter, metric_reader, calls) -> None:
    provider, processor = traced()
    reported = {
        "gen_ai.usage.cost.amount": 0.5,
        "gen_ai.usage.cost.currency": "USD",
        "gen_ai.usage.cost.source": "provider",
    }
    emit(provider, "chat gpt-4o", OLD_STYLE_START, {**OLD_STYLE_END, **reported})

    assert processor.cost_attributes({**OLD_STYLE_START, **OLD_STYLE_END, **reported}) == {}
    assert attributes(only_span(span_exporter))["gen_ai.usage.cost.source"] == "provider"
    (point,) = cost_points(metric_reader)
    assert point.sum == 0.5
    assert calls == []


def test_cost_in_another_currency_is_not_recorded(traced, metric_reader, calls) -> None:
    provider, _ = traced()
    emit(
        provider,
        "chat",
        OLD_STYLE_START,
        {**OLD_STYLE_END, "gen_ai.usage.cost.amount": 3.0, "gen_ai.usage.cost.currency": "EUR"},
    )

    assert cost_points(metric_reader) == []
    assert calls == []


# --- our own instrumentors: cost_attributes() before ending ------------------------------


def test_cost_attributes_for_our_own_spans(traced, span_exporter, metric_reader) -> None:
    provider, processor = traced()
    final = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2024-08-06",
        "gen_ai.usage.input_tokens": 1200,
        "gen_ai.usage.cache_read.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 300,
    }
    extra = processor.cost_attributes(final)
    expected = gpt_4o_cost(1200, 300, cache_read=1000)
    assert extra == {
        "gen_ai.usage.cost.amount": pytest.approx(expected),
        "gen_ai.usage.cost.currency": "USD",
        "gen_ai.usage.cost.source": "local",
        "gen_ai.usage.cost": pytest.approx(expected),
    }

    emit(provider, "chat gpt-4o", final, extra)

    assert attributes(only_span(span_exporter))["gen_ai.usage.cost.amount"] == pytest.approx(expected)
    (point,) = cost_points(metric_reader)
    assert (point.count, point.sum) == (1, pytest.approx(expected))


def test_module_level_cost_attributes_uses_the_shared_table() -> None:
    found = cost_attributes(
        {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o",
         "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 300}
    )  # fmt: skip

    assert found["gen_ai.usage.cost.amount"] == pytest.approx(gpt_4o_cost(1200, 300))


# --- prices, cache, service tier ---------------------------------------------------------


def test_overrides_through_the_processor(traced, metric_reader) -> None:
    provider, _ = traced(prices={"gpt-4o": {"input": 1, "output": 2}})
    emit(provider, "chat gpt-4o", OLD_STYLE_START, OLD_STYLE_END)

    (point,) = cost_points(metric_reader)
    assert point.sum == pytest.approx((1200 * 1 + 300 * 2) / M)


def test_bad_overrides_fail_at_construction() -> None:
    with pytest.raises(ValueError, match="missing"):
        CostSpanProcessor(prices={"gpt-4o": {"input": 1}}, preload=False)


def test_genai_prices_is_consulted_once_for_many_spans(traced, metric_reader, calls) -> None:
    provider, _ = traced(prices=PriceTable())
    for _ in range(50):
        emit(provider, "chat gpt-4o", OLD_STYLE_START, OLD_STYLE_END)

    assert calls == ["gpt-4o-2024-08-06"]
    (point,) = cost_points(metric_reader)
    assert (point.count, point.sum) == (50, pytest.approx(50 * gpt_4o_cost(1200, 300)))


def test_openai_service_tier_is_priced(traced, metric_reader) -> None:
    provider, _ = traced()
    emit(provider, "chat gpt-4o", OLD_STYLE_START, {**OLD_STYLE_END, "openai.response.service_tier": "priority"})

    (model,) = [m for p in _gp_providers if p.id == "openai" for m in p.models if m.id == "gpt-4o"]
    p = model.get_prices(datetime.now(timezone.utc), {"service_tier": "priority"})
    (point,) = cost_points(metric_reader)
    assert point.sum == pytest.approx((1200 * float(p.input_mtok) + 300 * float(p.output_mtok)) / M)


# --- never breaks span.end() -------------------------------------------------------------


class Exploding(PriceTable):
    def lookup(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")


def test_internal_errors_are_logged_not_raised(traced, metric_reader, monkeypatch, caplog) -> None:
    monkeypatch.delenv("WIKITRACE_RAISE_INTERNAL_ERRORS")
    provider, _ = traced(prices=Exploding())

    with caplog.at_level(logging.DEBUG, logger="wikitrace_otel"):
        emit(provider, "chat gpt-4o", OLD_STYLE_START, OLD_STYLE_END)
        emit(provider, "chat gpt-4o", OLD_STYLE_START, OLD_STYLE_END)

    assert cost_points(metric_reader) == []
    assert any("telemetry failed" in r.getMessage() for r in caplog.records)


def test_internal_errors_surface_under_the_test_setting(traced) -> None:
    provider, _ = traced(prices=Exploding())

    with pytest.raises(InternalErrorRaised):
        emit(provider, "chat gpt-4o", OLD_STYLE_START, OLD_STYLE_END)


def test_shutdown_and_force_flush(traced, metric_reader) -> None:
    provider, processor = traced()
    assert processor.force_flush() is True
    processor.shutdown()
    processor.shutdown()

    emit(provider, "chat gpt-4o", OLD_STYLE_START, OLD_STYLE_END)
    assert cost_points(metric_reader) == []


def test_preload_in_the_background_is_harmless(traced, metric_reader) -> None:
    provider, _ = traced(preload=True)
    emit(provider, "chat gpt-4o", OLD_STYLE_START, OLD_STYLE_END)

    (point,) = cost_points(metric_reader)
    assert point.sum == pytest.approx(gpt_4o_cost(1200, 300))
