"""The processors install() adds: each GenAI span priced once, other spans passed through
untouched, and the combined processor behaving as the public processors added one by one."""

from __future__ import annotations

import gc
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanContext, StatusCode, TraceFlags

from otel_helpers import metric_points
from wikitrace_otel import _install, budgets
from wikitrace_otel.alerts import Alert, AlertSpanProcessor
from wikitrace_otel.alerts._watch import WatchSettings
from wikitrace_otel.budgets import BudgetSpanProcessor
from wikitrace_otel.budgets._gatekeeper import ensure_gate
from wikitrace_otel.pricing import PriceTable
from wikitrace_otel.processors import CostEnrichingProcessor, CostSpanProcessor, SessionSpanProcessor, _view
from wikitrace_otel.processors.enrich import _with_attributes
from wikitrace_otel.sessions import session

MODEL = "house-model"
CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": MODEL,
    "gen_ai.usage.input_tokens": 1_000_000,
    "gen_ai.usage.output_tokens": 500_000,
}
CHAT_COST = 2.0 + 4.0
PLAIN = {"http.request.method": "GET", "url.path": "/x"}
COST_KEYS = {"gen_ai.usage.cost.amount", "gen_ai.usage.cost.currency", "gen_ai.usage.cost.source", "gen_ai.usage.cost"}


class CountingPrices(PriceTable):
    """A real price table that counts how often a span is priced."""

    def __init__(self) -> None:
        super().__init__({MODEL: {"input": 2.0, "output": 8.0}})
        self.lookups = 0

    def lookup(self, *args: Any, **kwargs: Any) -> Any:
        self.lookups += 1
        return super().lookup(*args, **kwargs)


class Kept(SpanProcessor):
    """Keeps what reaches it, as an exporting processor would see it."""

    def __init__(self) -> None:
        self.ended: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span)


@pytest.fixture
def prices() -> Iterator[CountingPrices]:
    table = CountingPrices()
    gate = ensure_gate()
    gate.prices = table  # as install() does: budgets charge at the prices the spans carry
    yield table
    gate.prices = None


def installed(
    prices: PriceTable, meter_provider: MeterProvider, watch: AlertSpanProcessor | None = None
) -> tuple[TracerProvider, Kept]:
    """A provider with exactly what install() adds, in front of one exporting processor."""
    provider, kept = TracerProvider(), Kept()
    combined = _install._add_span_processors(provider, CostSpanProcessor(prices, meter_provider, preload=False), [kept])
    if watch is not None:
        combined.alerts = watch
    return provider, kept


def separate(
    prices: PriceTable, meter_provider: MeterProvider, watch: AlertSpanProcessor | None = None
) -> tuple[TracerProvider, Kept]:
    """The public processors added one by one, in install()'s order."""
    provider, kept = TracerProvider(), Kept()
    cost = CostSpanProcessor(prices, meter_provider, preload=False)
    for processor in (SessionSpanProcessor(), cost, BudgetSpanProcessor(), watch or AlertSpanProcessor(no_alert, idle)):
        provider.add_span_processor(processor)
    provider.add_span_processor(CostEnrichingProcessor(kept, prices))
    return provider, kept


def no_alert(alert: Alert) -> bool:
    raise AssertionError(f"no alert expected: {alert}")


def idle() -> None:
    return None


def cost_sum(reader: InMemoryMetricReader) -> tuple[int, float]:
    (point,) = metric_points(reader)["gen_ai.client.operation.cost"]
    return point.count, point.sum


@pytest.mark.parametrize("build", [installed, separate], ids=["installed", "separate"])
def test_each_genai_span_is_priced_once(build, prices, meter_provider, metric_reader) -> None:
    provider, kept = build(prices, meter_provider)
    tracer = provider.get_tracer("other.instrumentation")
    for _ in range(3):
        tracer.start_span("chat", attributes=CHAT).end()

    assert prices.lookups == 3  # cost histogram and exported copy share one pricing per span
    assert [span.attributes["gen_ai.usage.cost.amount"] for span in kept.ended] == [CHAT_COST] * 3
    assert cost_sum(metric_reader) == (3, pytest.approx(3 * CHAT_COST))


@pytest.mark.parametrize("build", [installed, separate], ids=["installed", "separate"])
def test_a_budget_is_charged_the_price_already_computed(build, prices, meter_provider) -> None:
    provider, _ = build(prices, meter_provider)
    tracer = provider.get_tracer("other.instrumentation")
    with budgets.budget(usd=100.0) as spending:
        tracer.start_span("chat", attributes=CHAT).end()
        tracer.start_span("chat", attributes=CHAT).end()
        assert spending.spent == pytest.approx(2 * CHAT_COST)  # reading it applies the queued charges

    assert spending.calls == 2
    assert prices.lookups == 2


def test_a_budget_at_other_prices_prices_the_span_itself(prices, meter_provider) -> None:
    provider, _ = installed(PriceTable({MODEL: {"input": 1.0, "output": 1.0}}), meter_provider)
    with budgets.budget(usd=100.0) as spending:
        provider.get_tracer("other").start_span("chat", attributes=CHAT).end()
        assert spending.spent == pytest.approx(CHAT_COST)  # the gate's table, not the processor's

    assert prices.lookups == 1


def test_spans_outside_genai_pass_through_untouched(prices, meter_provider, metric_reader) -> None:
    provider, kept = TracerProvider(), Kept()
    cost = CostSpanProcessor(prices, meter_provider, preload=False)
    combined = _install._add_span_processors(provider, cost, [kept])
    tracer = provider.get_tracer("web")
    with budgets.budget(usd=1.0) as spending:
        tracer.start_span("GET /x", attributes=PLAIN).end()
        tracer.start_span("execute_tool", attributes={"gen_ai.operation.name": "execute_tool"}).end()
        assert spending.calls == 0

    plain, tool = kept.ended
    assert type(plain) is ReadableSpan and type(tool) is ReadableSpan  # the SDK's own objects, not copies
    assert dict(plain.attributes) == PLAIN
    assert prices.lookups == 0
    assert "gen_ai.client.operation.cost" not in metric_points(metric_reader)
    assert not combined.budget._pending  # the budgets they started under are forgotten


def test_the_enricher_hands_on_the_very_span_it_was_given_when_nothing_is_added(prices) -> None:
    kept = Kept()
    enricher = CostEnrichingProcessor(kept, prices)
    provider = TracerProvider()
    provider.add_span_processor(enricher)
    tracer = provider.get_tracer("t")
    tracer.start_span("GET", attributes=PLAIN).end()
    tracer.start_span("chat", attributes={**CHAT, "gen_ai.usage.cost.amount": 0.5}).end()
    tracer.start_span("chat", attributes={**CHAT, "gen_ai.request.model": "unknown-model"}).end()

    assert [type(span) for span in kept.ended] == [ReadableSpan] * 3
    assert all(COST_KEYS.isdisjoint(span.attributes) or span.attributes["gen_ai.usage.cost.amount"] == 0.5
               for span in kept.ended)  # fmt: skip


def test_memo_keeps_one_span_per_thread(prices, meter_provider) -> None:
    seen: list[weakref.ref[ReadableSpan]] = []

    class Watch(SpanProcessor):
        def on_end(self, span: ReadableSpan) -> None:
            seen.append(weakref.ref(span))

    provider = TracerProvider()
    _install._add_span_processors(provider, CostSpanProcessor(prices, meter_provider, preload=False), [])
    provider.add_span_processor(Watch())  # sees the spans the SDK made, as the memo does
    tracer = provider.get_tracer("t")
    for _ in range(50):
        tracer.start_span("chat", attributes=CHAT).end()
    gc.collect()

    alive = [ref for ref in seen if ref() is not None]
    assert alive == [seen[-1]]  # only the last span, kept for the processors after the first


def test_spans_ended_in_other_threads_are_priced_there(prices, meter_provider, metric_reader) -> None:
    provider, kept = installed(prices, meter_provider)
    tracer = provider.get_tracer("t")

    def work() -> None:
        for _ in range(20):
            tracer.start_span("chat", attributes=CHAT).end()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert prices.lookups == 80
    assert len(kept.ended) == 80
    assert all(span.attributes["gen_ai.usage.cost.amount"] == CHAT_COST for span in kept.ended)
    assert cost_sum(metric_reader) == (80, pytest.approx(80 * CHAT_COST))


SETTINGS = WatchSettings(error_rate=0.5, error_window=60.0, min_calls=1, latency=1.0, cooldown=0.0)


def scenario(build: Any, prices: PriceTable) -> tuple[Any, ...]:
    """Spans of every kind through ``build``'s processors: what is exported, alerted, measured, charged."""
    reader = InMemoryMetricReader()
    alerted: list[tuple[str, str | None, str | None]] = []

    def publish(alert: Alert) -> bool:
        alerted.append((alert.kind, alert.session, alert.model))
        return True

    provider, kept = build(
        prices, MeterProvider(metric_readers=[reader]), AlertSpanProcessor(publish, lambda: SETTINGS)
    )
    tracer = provider.get_tracer("other")
    with session(id="s-1", user="u-1"), budgets.budget(usd=100.0) as spending:
        tracer.start_span("GET", attributes=PLAIN).end()
        slow = tracer.start_span("chat", attributes=CHAT)
        slow.end(end_time=slow.start_time + 3_000_000_000)
        failed = tracer.start_span("chat", attributes={**CHAT, "error.type": "RateLimitError"})
        failed.set_status(StatusCode.ERROR)
        failed.end()
        tracer.start_span("tool", attributes={"gen_ai.operation.name": "execute_tool"}).end()
        charged = (spending.spent, spending.calls)
    exported = [(span.name, dict(span.attributes), span.status.status_code) for span in kept.ended]
    return exported, alerted, cost_sum(reader), charged


def test_combined_processor_behaves_as_the_processors_one_by_one(prices) -> None:
    combined = scenario(installed, prices)

    assert combined == scenario(separate, prices)
    exported, alerted, measured, charged = combined
    assert [attributes["session.id"] for _, attributes, _ in exported] == ["s-1"] * 4
    assert [attributes.get("gen_ai.usage.cost.amount") for _, attributes, _ in exported] == [None, 6.0, 6.0, None]
    assert sorted(alerted) == [("error_rate", "s-1", MODEL), ("latency", "s-1", MODEL)]
    assert measured == (2, pytest.approx(2 * CHAT_COST))
    assert charged == (pytest.approx(2 * CHAT_COST), 2)


def test_the_enriched_copy_is_the_span_with_cost_added(prices) -> None:
    kept = Kept()
    provider = TracerProvider(span_limits=SpanLimits(max_span_attributes=len(CHAT) + 1))
    provider.add_span_processor(CostEnrichingProcessor(kept, prices))
    tracer = provider.get_tracer("t", "1.0")
    link = Link(tracer.start_span("linked").get_span_context(), {"k": "v"})
    span = tracer.start_span("chat", attributes={"dropped": 0, "kept": 1, **CHAT}, links=[link])
    span.add_event("first token", {"n": 1})
    span.end()

    original = span._readable_span()
    fast = _with_attributes(original, {**original.attributes, "x": 1})
    rebuilt = _with_attributes(Subclassed(original), {**original.attributes, "x": 1})
    for copy in (fast, rebuilt):
        assert public_view(copy) == {**public_view(original), "attributes": {**original.attributes, "x": 1}}
        assert copy.dropped_attributes == original.dropped_attributes == 1
        assert copy.to_json()
    assert "gen_ai.usage.cost.amount" in kept.ended[-1].attributes


class Subclassed(ReadableSpan):
    """A span the SDK did not make (here, the same fields through the constructor)."""

    def __init__(self, span: ReadableSpan) -> None:
        super().__init__(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=span.attributes,
            events=span.events,
            links=span.links,
            kind=span.kind,
            status=span.status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )
        self._dropped_here = span.dropped_attributes

    @property
    def dropped_attributes(self) -> int:
        return self._dropped_here


def public_view(span: ReadableSpan) -> dict[str, Any]:
    names = ("name", "context", "parent", "resource", "events", "links", "kind", "start_time", "end_time")
    view = {name: getattr(span, name) for name in names}
    view |= {
        "attributes": dict(span.attributes),
        "status": (span.status.status_code, span.status.description),
        "scope": span.instrumentation_scope,
        "dropped": (span.dropped_events, span.dropped_links),
    }
    return view


def test_this_sdk_keeps_attributes_where_the_fast_path_reads_them() -> None:
    kept = Kept()
    provider = TracerProvider()
    provider.add_span_processor(kept)
    provider.get_tracer("t").start_span("x", attributes=PLAIN).end()
    (span,) = kept.ended

    stored = _view.stored_attributes(span)
    assert type(stored) is dict and stored == PLAIN  # not the slower public fallback
    assert _view.stored_attributes(ReadableSpan("bare")) == {}
    assert _view.genai_values(ReadableSpan("copy", attributes={**CHAT})) == CHAT  # spans built by hand


def test_session_baggage_is_still_read_when_the_quick_check_cannot_be_made(monkeypatch, span_exporter) -> None:
    from wikitrace_otel.processors import session as session_module

    monkeypatch.setattr(session_module, "_BAGGAGE_KEY", None)
    provider = TracerProvider()
    provider.add_span_processor(SessionSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    token = otel_context.attach(baggage.set_baggage("session.id", "from-upstream"))
    try:
        provider.get_tracer("t").start_span("x").end()
    finally:
        otel_context.detach(token)

    (span,) = span_exporter.get_finished_spans()
    assert span.attributes["session.id"] == "from-upstream"


def test_histogram_attribute_sets_are_shared_and_bounded(prices, meter_provider, metric_reader) -> None:
    from wikitrace_otel.processors import cost as cost_module

    provider, _ = installed(prices, meter_provider)
    tracer = provider.get_tracer("t")
    for n in range(cost_module._METRIC_SETS + 50):  # a model name per request
        tracer.start_span("chat", attributes={**CHAT, "gen_ai.response.model": f"{MODEL}-{n}"}).end()
    tracer.start_span("chat", attributes=CHAT).end()
    tracer.start_span("chat", attributes=CHAT).end()

    assert len(cost_module._metric_sets) <= cost_module._METRIC_SETS
    points = metric_points(metric_reader)["gen_ai.client.operation.cost"]
    (plain,) = [p for p in points if "gen_ai.response.model" not in p.attributes]
    assert (plain.count, dict(plain.attributes)) == (
        2,
        {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": MODEL},
    )


def test_a_span_built_by_hand_with_a_list_value_is_still_measured(prices, meter_provider, metric_reader) -> None:
    processor = CostSpanProcessor(prices, meter_provider, preload=False)
    context = SpanContext(trace_id=1, span_id=2, is_remote=False, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    span = ReadableSpan("chat", context=context, attributes={**CHAT, "gen_ai.system": ["odd", "list"]})

    processor.on_end(span)
    processor.on_end(span)  # the same object twice: measured twice, priced once

    assert cost_sum(metric_reader) == (2, pytest.approx(2 * CHAT_COST))
    assert prices.lookups == 1
