"""Fake Anthropic Messages API server for tests: the real ``anthropic`` SDK talks to it over
HTTP on 127.0.0.1.

Example::

    from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, payloads, stream

    with FakeAnthropicServer() as server:
        client = anthropic.Anthropic(api_key="sk-ant-test", base_url=server.base_url, max_retries=0)
        answer = payloads.message("claude-x", [payloads.thinking_block("Hmm."), payloads.text_block("Hi")])
        server.enqueue(stream(payloads.message_events(answer), cut_after=4))
        ...
        assert server.requests[-1].headers["x-api-key"] == "sk-ant-test"

In pytest, wrap :func:`running_server` in a fixture::

    fake_anthropic = pytest.fixture(scope="session")(running_server)

Modules: ``server`` (routes, queue, :func:`error`, :func:`stream`) and ``payloads``
(messages, blocks, usage, stream events, error bodies).
"""

from __future__ import annotations

from collections.abc import Iterator

from wikitrace_otel.testing._http import FakeResponse, RecordedRequest

from . import payloads
from .server import FakeAnthropicServer, default_response, error, stream

__all__ = [
    "FakeAnthropicServer",
    "FakeResponse",
    "RecordedRequest",
    "default_response",
    "error",
    "payloads",
    "running_server",
    "stream",
]


def running_server() -> Iterator[FakeAnthropicServer]:
    """Generator suited to a pytest fixture: yields a started server, stops it after."""
    with FakeAnthropicServer() as server:
        yield server
