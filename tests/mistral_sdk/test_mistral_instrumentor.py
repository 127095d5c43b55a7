"""Instrument / uninstrument, missing methods, provider names, registration."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from typing import Any

import pytest
from mistral_support import MODEL, USER, sdk_module

from otel_helpers import attributes, only_span
from wikitrace_otel import _install
from wikitrace_otel.instrumentors.mistral import _METHODS, MistralInstrumentor
from wikitrace_otel.testing.fake_mistral import FakeMistralServer


def _originals() -> dict[tuple[type, str], Any]:
    found = {}
    for module, class_name, method, _, _ in _METHODS:
        cls = getattr(sdk_module(module), class_name)
        found[(cls, method)] = cls.__dict__.get(method)
    return found


def test_uninstrument_restores_the_sdk_exactly(
    instrument_mistral: Any, mistral_client: Any, span_exporter: Any
) -> None:
    before = _originals()
    instrumentor = instrument_mistral()
    MistralInstrumentor().instrument()  # the singleton is instrumented already: no second wrapping
    changed = {method for (_, method), value in _originals().items() if value is not before[(_, method)]}
    assert changed == {"complete", "complete_async", "stream", "stream_async", "create", "create_async"}
    mistral_client.chat.complete(model=MODEL, messages=USER)
    assert len(span_exporter.get_finished_spans()) == 1
    MistralInstrumentor().uninstrument()  # a fresh handle on the singleton
    assert _originals() == before
    mistral_client.chat.complete(model=MODEL, messages=USER)
    assert len(span_exporter.get_finished_spans()) == 1
    assert instrumentor is MistralInstrumentor()


def test_a_missing_method_skips_only_that_wrapper(
    instrument_mistral: Any,
    mistral_client: Any,
    span_exporter: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chat = sdk_module("chat").Chat
    monkeypatch.delattr(chat, "stream_async")
    caplog.set_level(logging.DEBUG, logger="wikitrace_otel.instrumentors.mistral")
    instrument_mistral()
    assert any("not tracing" in r.getMessage() and "stream_async" in r.getMessage() for r in caplog.records)
    mistral_client.chat.complete(model=MODEL, messages=USER)
    assert only_span(span_exporter).name == f"chat {MODEL}"
    assert not hasattr(chat, "stream_async")


def test_gateway_named_by_provider_hosts(
    instrument_mistral: Any, fake_mistral: FakeMistralServer, mistral_client: Any, span_exporter: Any
) -> None:
    instrument_mistral(provider_hosts={f"127.0.0.1:{fake_mistral.port}": "my_gateway"})
    mistral_client.chat.complete(model=MODEL, messages=USER)
    assert attributes(only_span(span_exporter))["gen_ai.provider.name"] == "my_gateway"


def test_registered_for_install_and_zero_code() -> None:
    assert _install.INSTRUMENTORS["mistral"] == (
        "mistralai",
        "wikitrace_otel.instrumentors.mistral:MistralInstrumentor",
    )
    (point,) = [p for p in entry_points(group="opentelemetry_instrumentor") if p.name == "mistral"]
    assert point.load() is MistralInstrumentor
    assert MistralInstrumentor().instrumentation_dependencies() == ("mistralai >= 1.9.1, < 4",)
