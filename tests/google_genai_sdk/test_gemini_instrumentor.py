"""Instrument / uninstrument, missing methods, provider names (Gemini, Vertex AI, gateways),
automatic function calling, ``install()`` and the entry point."""

from __future__ import annotations

import importlib
import logging
from typing import Any

import pytest
from gemini_support import MODEL, close_client, make_client
from gemini_tools import get_weather

from otel_helpers import attributes, only_span
from wikitrace_otel.instrumentors.google_genai import _METHODS, GoogleGenAIInstrumentor
from wikitrace_otel.testing.fake_gemini import FakeGeminiServer, FakeResponse, payloads


def _originals() -> dict[tuple[type, str], Any]:
    found = {}
    for module, sync_name, async_name, method, _, _ in _METHODS:
        for name in (sync_name, async_name):
            cls = getattr(importlib.import_module(module), name)
            found[(cls, method)] = cls.__dict__[method]
    return found


def test_uninstrument_restores_the_sdk_exactly(instrument_gemini: Any, gemini_client: Any, span_exporter: Any) -> None:
    before = _originals()
    instrumentor = instrument_gemini()
    GoogleGenAIInstrumentor().instrument()  # the singleton is instrumented already: no second wrapping
    assert all(value is not before[key] for key, value in _originals().items())
    gemini_client.models.generate_content(model=MODEL, contents="Hi")
    assert len(span_exporter.get_finished_spans()) == 1
    GoogleGenAIInstrumentor().uninstrument()  # a fresh handle on the singleton
    assert _originals() == before
    gemini_client.models.generate_content(model=MODEL, contents="Hi")
    assert len(span_exporter.get_finished_spans()) == 1
    assert instrumentor is GoogleGenAIInstrumentor()


def test_a_missing_method_skips_only_that_wrapper(
    instrument_gemini: Any,
    gemini_client: Any,
    span_exporter: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from google.genai import models

    monkeypatch.delattr(models.Models, "embed_content")
    caplog.set_level(logging.DEBUG, logger="wikitrace_otel.instrumentors.google_genai")
    instrument_gemini()
    assert any("not tracing" in r.getMessage() and "Models.embed_content" in r.getMessage() for r in caplog.records)
    gemini_client.models.generate_content(model=MODEL, contents="Hi")
    assert only_span(span_exporter).name == f"generate_content {MODEL}"
    assert not hasattr(models.Models, "embed_content")


def test_gateway_named_by_provider_hosts(
    instrument_gemini: Any, fake_gemini: FakeGeminiServer, gemini_client: Any, span_exporter: Any
) -> None:
    instrument_gemini(provider_hosts={f"127.0.0.1:{fake_gemini.port}": "my_gateway"})
    gemini_client.models.generate_content(model=MODEL, contents="Hi")
    assert attributes(only_span(span_exporter))["gen_ai.provider.name"] == "my_gateway"


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_vertex_ai_express_mode(fake_gemini: FakeGeminiServer, span_exporter: Any, is_async: bool) -> None:
    client = make_client(fake_gemini, vertexai=True)
    models = client.aio.models if is_async else client.models
    answer = models.generate_content(model=MODEL, contents="Hi")
    vectors = models.embed_content(model="text-embedding-004", contents=["a", "b"])
    if is_async:
        answer, vectors = await answer, await vectors
    await close_client(client)
    assert answer.text == payloads.DEFAULT_TEXT and len(vectors.embeddings) == 2
    paths = [r.path for r in fake_gemini.requests]
    assert paths == [
        f"/v1beta1/publishers/google/models/{MODEL}:generateContent",
        "/v1beta1/publishers/google/models/text-embedding-004:predict",
    ]
    generate, embed = (attributes(s) for s in span_exporter.get_finished_spans())
    assert generate["gen_ai.provider.name"] == embed["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert embed["gen_ai.usage.input_tokens"] == 6  # Vertex counts tokens per embedded text


def test_provider_from_the_client_mode() -> None:
    from google import genai

    from wikitrace_otel.instrumentors.google_genai.provider import resolve

    gemini = genai.Client(api_key="k")
    vertex = genai.Client(vertexai=True, api_key="k")
    assert resolve(gemini._api_client, {}) == ("gcp.gemini", "generativelanguage.googleapis.com", None)
    assert resolve(vertex._api_client, {})[0] == "gcp.vertex_ai"
    assert resolve(vertex._api_client, {})[1].endswith("aiplatform.googleapis.com")


@pytest.mark.usefixtures("instrumented")
def test_automatic_function_calling_is_one_span(
    fake_gemini: FakeGeminiServer, gemini_client: Any, span_exporter: Any
) -> None:
    fake_gemini.enqueue(
        FakeResponse.json(
            payloads.response(
                MODEL,
                [payloads.candidate([payloads.function_call_part("get_weather", {"city": "Paris"})])],
                usage_body=payloads.usage(10, 3),
            )
        )
    )
    fake_gemini.enqueue(FakeResponse.json(payloads.response(MODEL, usage_body=payloads.usage(20, 6))))
    answer = gemini_client.models.generate_content(model=MODEL, contents="Weather?", config={"tools": [get_weather]})
    assert answer.text == payloads.DEFAULT_TEXT
    assert len(fake_gemini.requests) == 2
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.usage.input_tokens"] == 20  # the last response's usage, as the SDK returns it
    sent = fake_gemini.requests[-1].body["contents"]
    assert sent[-1]["parts"][0]["functionResponse"]["response"] == {"result": "Sunny in Paris"}


def test_install_and_entry_point_know_the_instrumentor() -> None:
    from importlib.metadata import entry_points

    from wikitrace_otel._install import INSTRUMENTORS

    module, path = INSTRUMENTORS["google_genai"]
    assert module == "google.genai"
    assert path == "wikitrace_otel.instrumentors.google_genai:GoogleGenAIInstrumentor"
    (entry_point,) = entry_points(group="opentelemetry_instrumentor", name="google_genai")
    assert entry_point.load() is GoogleGenAIInstrumentor
    assert GoogleGenAIInstrumentor().instrumentation_dependencies() == ("google-genai >= 1.10.0, < 4",)
