"""Fake Cohere v2 API server for tests: the real ``cohere`` SDK talks to it over HTTP on 127.0.0.1.

Example::

    from wikitrace_otel.testing.fake_cohere import FakeCohereServer, payloads, stream

    with FakeCohereServer() as server:
        client = cohere.ClientV2(api_key="test", base_url=server.base_url)
        answer = payloads.chat_response("Hi", usage_body=payloads.usage(5, 2))
        server.enqueue(stream(payloads.chat_events(answer), cut_after=3))
        ...

In pytest, wrap :func:`running_server` in a fixture::

    fake_cohere = pytest.fixture(scope="session")(running_server)

Modules: ``server`` (routes, queue, :func:`error`, :func:`stream`) and ``payloads`` (chat
responses, stream events, usage, embed and rerank answers, error bodies).
"""

from __future__ import annotations

from collections.abc import Iterator

from wikitrace_otel.testing._http import FakeResponse, RecordedRequest

from . import payloads
from .server import FakeCohereServer, error, stream

__all__ = ["FakeCohereServer", "FakeResponse", "RecordedRequest", "error", "payloads", "running_server", "stream"]


def running_server() -> Iterator[FakeCohereServer]:
    """Generator suited to a pytest fixture: yields a started server, stops it after."""
    with FakeCohereServer() as server:
        yield server
