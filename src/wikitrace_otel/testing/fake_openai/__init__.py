"""Fake OpenAI HTTP server for tests: the real ``openai`` SDK talks to it over
HTTP on 127.0.0.1.

Example::

    with FakeOpenAIServer() as server:
        client = OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0)
        server.enqueue(FakeResponse.error(429, "Slow down", code="rate_limit_exceeded"))
        ...
        assert server.requests[-1].headers["authorization"] == "Bearer sk-test"

The project's ``tests/conftest.py`` provides the fixtures ``fake_openai_session`` (one server
per session) and ``fake_openai`` (that server, ``reset()`` before each test).
Elsewhere, wrap ``running_server`` in a fixture::

    fake_openai = pytest.fixture(scope="session")(running_server)

Modules: ``server`` (HTTP, recording, queue, routing), ``payloads`` (chat,
legacy completions, embeddings, errors) and ``responses_api`` (Responses API
objects and stream events).
"""

from __future__ import annotations

from collections.abc import Iterator

from .server import FakeOpenAIServer, FakeResponse, RecordedRequest, default_response, encode_sse

__all__ = [
    "FakeOpenAIServer",
    "FakeResponse",
    "RecordedRequest",
    "default_response",
    "encode_sse",
    "running_server",
]


def running_server() -> Iterator[FakeOpenAIServer]:
    """Generator suited to a pytest fixture: yields a started server, stops it after."""
    with FakeOpenAIServer() as server:
        yield server
