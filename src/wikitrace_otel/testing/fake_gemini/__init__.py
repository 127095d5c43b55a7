"""Fake Gemini API server for tests: the real ``google-genai`` SDK talks to it over HTTP on
127.0.0.1, in Gemini Developer API mode and in Vertex AI express mode alike.

Example::

    from google import genai
    from wikitrace_otel.testing.fake_gemini import FakeGeminiServer, payloads, stream

    with FakeGeminiServer() as server:
        client = genai.Client(api_key="test-key", http_options={"base_url": server.base_url})
        answer = payloads.response("gemini-x", usage_body=payloads.usage(10, 4, cached=6, thoughts=3))
        server.enqueue(stream(payloads.stream_chunks(answer), cut_after=1))
        ...
        assert server.requests[-1].path == "/v1beta/models/gemini-x:streamGenerateContent"

In pytest, wrap :func:`running_server` in a fixture::

    fake_gemini = pytest.fixture(scope="session")(running_server)

Modules: ``server`` (routes, queue, :func:`error`, :func:`stream`) and ``payloads``
(responses, candidates, parts, usage, stream chunks, embeddings, error bodies).
"""

from __future__ import annotations

from collections.abc import Iterator

from wikitrace_otel.testing._http import FakeResponse, RecordedRequest

from . import payloads
from .server import FakeGeminiServer, default_response, error, stream

__all__ = [
    "FakeGeminiServer",
    "FakeResponse",
    "RecordedRequest",
    "default_response",
    "error",
    "payloads",
    "running_server",
    "stream",
]


def running_server() -> Iterator[FakeGeminiServer]:
    """Generator suited to a pytest fixture: yields a started server, stops it after."""
    with FakeGeminiServer() as server:
        yield server
