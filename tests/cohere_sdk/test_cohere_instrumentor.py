"""Instrument / uninstrument, missing methods, provider names, registration."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

import pytest
from cohere_support import MODEL, USER

from otel_helpers import attributes, only_span
from wikitrace_otel import _install
from wikitrace_otel.instrumentors.cohere import _METHODS, CohereInstrumentor


def _originals() -> dict[tuple[type, str], Any]:
    from cohere.v2 import client

    found = {}
    for class_name, method, _, _, _ in _METHODS:
        cls = getattr(client, class_name)
        found[(cls, method)] = cls.__dict__.get(method)
    return found


def test_uninstrument_restores_the_sdk_exactly(instrument_cohere: Any, make_client: Any, span_exporter: Any) -> None:
    before = _originals()
    instrumentor = instrument_cohere()
    cohere_client = make_client(False)
    CohereInstrumentor().instrument()  # the singleton is instrumented already: no second wrapping
    assert all(_originals()[key] is not value for key, value in before.items())
    assert len(before) == 8
    cohere_client.chat(model=MODEL, messages=USER)
    assert len(span_exporter.get_finished_spans()) == 1
    CohereInstrumentor().uninstrument()  # a fresh handle on the singleton
    assert _originals() == before
    cohere_client.chat(model=MODEL, messages=USER)  # a client made while instrumented: no span now
    make_client(False).chat(model=MODEL, messages=USER)
    assert len(span_exporter.get_finished_spans()) == 1
    assert instrumentor is CohereInstrumentor()


def test_a_client_made_before_instrumenting_is_traced_for_every_method(
    instrument_cohere: Any, make_client: Any, span_exporter: Any
) -> None:
    early = make_client(False)
    instrument_cohere()
    early.chat(model=MODEL, messages=USER)  # the SDK copied chat onto the client at creation
    early.rerank(model="rerank-v3.5", query="q", documents=["a"])
    assert [span.name for span in span_exporter.get_finished_spans()] == [f"chat {MODEL}", "rerank rerank-v3.5"]


def test_a_missing_method_skips_only_that_wrapper(
    instrument_cohere: Any,
    make_client: Any,
    span_exporter: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from cohere.v2 import client

    monkeypatch.delattr(client.V2Client, "rerank")
    caplog.set_level(logging.DEBUG, logger="wikitrace_otel.instrumentors.cohere")
    instrument_cohere()
    assert any("not tracing" in r.getMessage() and "rerank" in r.getMessage() for r in caplog.records)
    make_client(False).chat(model=MODEL, messages=USER)
    assert only_span(span_exporter).name == f"chat {MODEL}"
    assert not hasattr(client.V2Client, "rerank")


def test_gateway_named_by_provider_hosts(instrument_cohere: Any, make_client: Any, span_exporter: Any) -> None:
    instrument_cohere(provider_hosts={"127.0.0.1": "my_gateway"})
    make_client(False).chat(model=MODEL, messages=USER)
    assert attributes(only_span(span_exporter))["gen_ai.provider.name"] == "my_gateway"


def test_registered_for_install_and_zero_code() -> None:
    assert _install.INSTRUMENTORS["cohere"] == ("cohere", "wikitrace_otel.instrumentors.cohere:CohereInstrumentor")
    (point,) = [p for p in entry_points(group="opentelemetry_instrumentor") if p.name == "cohere"]
    assert point.load() is CohereInstrumentor
    assert CohereInstrumentor().instrumentation_dependencies() == ("cohere >= 5.14.0, < 8",)
