"""Failures: the SDK's exceptions pass through unchanged, the span records them once with
Google's status as ``error.type``."""

from __future__ import annotations

from typing import Any

import pytest
from gemini_support import MODEL, GeminiSdk

from otel_helpers import attributes, only_span
from sdk_support import EndCounter
from wikitrace_otel.testing.fake_gemini import FakeGeminiServer, error

pytestmark = pytest.mark.usefixtures("instrumented")


@pytest.mark.parametrize(
    ("code", "status"), [(429, "RESOURCE_EXHAUSTED"), (400, "INVALID_ARGUMENT"), (503, "UNAVAILABLE")]
)
async def test_an_http_error(
    sdk: GeminiSdk, fake_gemini: FakeGeminiServer, span_exporter: Any, ends: EndCounter, code: int, status: str
) -> None:
    from google.genai import errors

    fake_gemini.enqueue(error(code, status, "Nope"))
    with pytest.raises(errors.APIError) as caught:
        await sdk.call("generate_content", model=MODEL, contents="Hi")
    assert caught.value.code == code and caught.value.status == status
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert not span.status.is_ok
    assert attributes(span)["error.type"] == status
    (event,) = span.events
    assert event.name == "exception"
    assert (event.attributes or {})["exception.type"].endswith(type(caught.value).__name__)


async def test_an_http_error_on_a_stream(
    sdk: GeminiSdk, fake_gemini: FakeGeminiServer, span_exporter: Any, ends: EndCounter
) -> None:
    from google.genai import errors

    fake_gemini.enqueue(error(404, "NOT_FOUND", "No such model"))
    chunks = await sdk.call("generate_content_stream", model=MODEL, contents="Hi")
    with pytest.raises(errors.ClientError):
        await sdk.drain(chunks)
    ends.check(span_exporter)
    found = attributes(only_span(span_exporter))
    assert found["error.type"] == "NOT_FOUND"
    assert found["gen_ai.response.finish_reasons"] == ["error"]


async def test_an_embeddings_error(
    sdk: GeminiSdk, fake_gemini: FakeGeminiServer, span_exporter: Any, ends: EndCounter
) -> None:
    from google.genai import errors

    fake_gemini.enqueue(error(500, "INTERNAL"))
    with pytest.raises(errors.ServerError):
        await sdk.call("embed_content", model="text-embedding-004", contents="a")
    ends.check(span_exporter)
    assert attributes(only_span(span_exporter))["error.type"] == "INTERNAL"


async def test_a_server_that_is_not_there(span_exporter: Any, ends: EndCounter) -> None:
    import socket

    from google import genai

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = genai.Client(api_key="k", http_options={"base_url": f"http://127.0.0.1:{port}"})
    with pytest.raises(Exception) as caught:
        client.models.generate_content(model=MODEL, contents="Hi")
    ends.check(span_exporter)
    found = attributes(only_span(span_exporter))
    assert found["error.type"].endswith(type(caught.value).__name__)
    assert found["server.port"] == port
