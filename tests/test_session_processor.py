"""``SessionSpanProcessor``: which spans it stamps, W3C baggage across services, and that it
never raises into the code that starts a span."""

from __future__ import annotations

import contextvars
import logging
from typing import Any

import pytest
from opentelemetry import baggage, trace
from opentelemetry import context as otel_context
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from otel_helpers import attributes
from wikitrace_otel._genai.errors import InternalErrorRaised
from wikitrace_otel.processors import SessionSpanProcessor
from wikitrace_otel.sessions import clear_session, current_session, session, session_reset, set_session

W3C = CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])


def make_tracer(exporter: InMemorySpanExporter, **settings: Any) -> Tracer:
    provider = TracerProvider()
    provider.add_span_processor(SessionSpanProcessor(**settings))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test")


@pytest.fixture
def tracer(span_exporter: InMemorySpanExporter) -> Tracer:
    return make_tracer(span_exporter)


def spans(exporter: InMemorySpanExporter) -> dict[str, dict[str, Any]]:
    return {span.name: attributes(span) for span in exporter.get_finished_spans()}


class RecordingSpan:
    """Stands in for an SDK span: records what the processor sets."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def set_attributes(self, attrs: Any) -> None:
        self.calls.append(dict(attrs))


class BrokenSpan:
    def set_attributes(self, attrs: Any) -> None:
        raise RuntimeError("broken span")


# --- which spans ----------------------------------------------------------------------


def test_every_span_of_the_trace_is_stamped(tracer, span_exporter) -> None:
    with session(id="s", user="u"), tracer.start_as_current_span("request"):
        with tracer.start_as_current_span("db.query"):
            pass
        with tracer.start_as_current_span("chat gpt-4o"):
            pass

    found = spans(span_exporter)
    assert set(found) == {"request", "db.query", "chat gpt-4o"}
    for attrs in found.values():
        assert attrs == {"session.id": "s", "user.id": "u", "wikitrace.session.segment": 0}


def test_start_span_that_never_becomes_current(tracer, span_exporter) -> None:
    with session(id="s"):
        background = tracer.start_span("background")
    background.end()  # ended after the block: the attributes were set at start
    tracer.start_span("later").end()

    found = spans(span_exporter)
    assert found["background"]["session.id"] == "s"
    assert found["later"] == {}


def test_span_parented_elsewhere_takes_the_session_of_the_code_starting_it(tracer, span_exporter) -> None:
    with tracer.start_as_current_span("parent") as parent:
        parent_ctx = trace.set_span_in_context(parent)
    with session(id="s"):
        tracer.start_span("child", context=parent_ctx).end()

    found = spans(span_exporter)
    assert (found["parent"], found["child"]["session.id"]) == ({}, "s")


def test_one_set_attributes_with_the_precomputed_dict() -> None:
    processor = SessionSpanProcessor()
    span = RecordingSpan()
    with session(id="s", tags=["t"]) as active:
        assert active.attributes is current_session().attributes  # computed once per state
        processor.on_start(span)  # type: ignore[arg-type]
        session_reset()
        processor.on_start(span)  # type: ignore[arg-type]

    assert [call["wikitrace.session.segment"] for call in span.calls] == [0, 1]
    assert span.calls[0] == dict(active.attributes)
    processor.on_start(span)  # type: ignore[arg-type]
    assert len(span.calls) == 2  # no session, no baggage: nothing set


# --- baggage across services ----------------------------------------------------------


def downstream(carrier: dict[str, str], work: Any) -> Any:
    """Run ``work(extracted_context)`` as a separate service would: in an empty context."""
    return contextvars.Context().run(lambda: work(W3C.extract(carrier)))


def test_propagated_session_is_stamped_downstream(tracer, span_exporter) -> None:
    carrier: dict[str, str] = {}
    with session(id="s-up", user="u-up", tags=["local-only"], propagate=True), tracer.start_as_current_span("client"):
        W3C.inject(carrier)

    def server(ctx: otel_context.Context) -> None:
        assert current_session() is None
        tracer.start_span("server", context=ctx).end()
        token = otel_context.attach(ctx)
        try:
            tracer.start_span("handler").end()  # parent context read from the current one
        finally:
            otel_context.detach(token)

    downstream(carrier, server)

    assert "session.id=s-up" in carrier["baggage"]
    found = spans(span_exporter)
    assert found["server"] == found["handler"] == {"session.id": "s-up", "user.id": "u-up"}
    assert found["server"]["session.id"] == found["client"]["session.id"]


def test_downstream_session_continues_the_propagated_id(tracer) -> None:
    carrier: dict[str, str] = {}
    with session(id="s-up", user="u-up", propagate=True):
        W3C.inject(carrier)

    def server(ctx: otel_context.Context) -> tuple[str, str | None]:
        token = otel_context.attach(ctx)
        try:
            with session(tags=["downstream"]) as active:
                return active.id, active.user
        finally:
            otel_context.detach(token)

    assert downstream(carrier, server) == ("s-up", "u-up")


def test_baggage_is_attached_only_for_the_block_and_kept_up_to_date() -> None:
    with session(id="s", propagate=True):
        assert dict(baggage.get_all()) == {"session.id": "s"}
        with session(user="u"):  # inherits propagate: the baggage follows the merged session
            assert dict(baggage.get_all()) == {"session.id": "s", "user.id": "u"}
        assert dict(baggage.get_all()) == {"session.id": "s"}
    assert dict(baggage.get_all()) == {}

    with session(id="quiet", user="u"):
        carrier: dict[str, str] = {}
        W3C.inject(carrier)
    assert "baggage" not in carrier


def test_read_baggage_off(span_exporter) -> None:
    tracer = make_tracer(span_exporter, read_baggage=False)
    ctx = baggage.set_baggage("session.id", "spoofed", baggage.set_baggage("user.id", "admin"))

    tracer.start_span("server", context=ctx).end()

    assert spans(span_exporter)["server"] == {}


def test_clear_session_without_token_drops_session_baggage(tracer, span_exporter) -> None:
    def request() -> dict[str, object]:
        set_session(id="s", user="u", propagate=True)
        otel_context.attach(baggage.set_baggage("tenant", "t1"))
        clear_session()
        tracer.start_span("after").end()
        return dict(baggage.get_all())

    assert contextvars.Context().run(request) == {"tenant": "t1"}
    assert spans(span_exporter)["after"] == {}


# --- never raises ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "entries",
    [
        {"session.id": 42, "user.id": None},
        {"session.id": "", "user.id": "   "},
        {"session.id": ["s"]},
        {"other": "x"},
    ],
    ids=["non-strings", "blank", "list", "unrelated"],
)
def test_odd_baggage_is_ignored(entries) -> None:
    ctx = otel_context.get_current()
    for key, value in entries.items():
        ctx = baggage.set_baggage(key, value, ctx)
    span = RecordingSpan()

    SessionSpanProcessor().on_start(span, ctx)  # type: ignore[arg-type]

    assert span.calls == []


def test_long_baggage_values_are_cut() -> None:
    span = RecordingSpan()
    ctx = baggage.set_baggage("session.id", "s" * 5000)

    SessionSpanProcessor().on_start(span, ctx)  # type: ignore[arg-type]

    assert span.calls == [{"session.id": "s" * 256}]


def test_failure_is_logged_not_raised(monkeypatch, caplog) -> None:
    monkeypatch.setenv("WIKITRACE_RAISE_INTERNAL_ERRORS", "false")
    processor = SessionSpanProcessor()
    with caplog.at_level(logging.DEBUG, logger="wikitrace_otel"), session(id="s"):
        processor.on_start(BrokenSpan())  # type: ignore[arg-type]
        processor.on_start(object())  # type: ignore[arg-type]  # no set_attributes at all

    assert "telemetry failed" in caplog.text


def test_failure_surfaces_under_the_test_setting() -> None:
    with session(id="s"), pytest.raises(InternalErrorRaised):
        SessionSpanProcessor().on_start(BrokenSpan())  # type: ignore[arg-type]


def test_ended_span_and_shutdown(tracer, span_exporter, caplog) -> None:
    processor = SessionSpanProcessor()
    ended = tracer.start_span("ended")
    ended.end()
    with session(id="s"):
        processor.on_start(ended)  # the SDK only logs: setting attributes on an ended span
        processor.on_end(ended)
        assert processor.force_flush() is True
        processor.shutdown()
        processor.shutdown()
        span = RecordingSpan()
        processor.on_start(span)  # type: ignore[arg-type]

    assert span.calls == []
    assert spans(span_exporter)["ended"] == {}
