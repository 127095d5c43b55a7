"""Fake Mistral API server for tests: the real ``mistralai`` SDK talks to it over HTTP on 127.0.0.1.

Example::

    from wikitrace_otel.testing.fake_mistral import FakeMistralServer, payloads, stream

    with FakeMistralServer() as server:
        client = Mistral(api_key="test", server_url=server.base_url)
        answer = payloads.chat_completion("mistral-small", "Hi", usage_body=payloads.usage(5, 2))
        server.enqueue(stream(payloads.chat_chunks(answer), cut_after=2))
        ...
        assert server.requests[-1].headers["authorization"] == "Bearer test"

In pytest, wrap :func:`running_server` in a fixture::

    fake_mistral = pytest.fixture(scope="session")(running_server)

Modules: ``server`` (routes, queue, :func:`error`, :func:`stream`, the provider-neutral
:class:`FakeServer`) and ``payloads`` (completions, chunks, usage, embeddings, error bodies).
"""

from __future__ import annotations

from collections.abc import Iterator

from wikitrace_otel.testing._http import FakeResponse, RecordedRequest

from . import payloads
from .server import FakeMistralServer, FakeServer, error, stream

__all__ = [
    "FakeMistralServer",
    "FakeResponse",
    "FakeServer",
    "RecordedRequest",
    "error",
    "payloads",
    "running_server",
    "stream",
]


def running_server() -> Iterator[FakeMistralServer]:
    """Generator suited to a pytest fixture: yields a started server, stops it after."""
    with FakeMistralServer() as server:
        yield server
