"""Fake AWS Bedrock Runtime server for tests: the real ``boto3`` client talks to it over HTTP on
127.0.0.1, event streams included.

Example::

    from wikitrace_otel.testing.fake_bedrock import FakeBedrockServer, payloads, stream

    with FakeBedrockServer() as server:
        client = boto3.client(
            "bedrock-runtime", region_name="us-east-1", endpoint_url=server.endpoint_url,
            aws_access_key_id="AKIDFAKE", aws_secret_access_key="fake",
        )
        server.enqueue(stream(payloads.converse_events(payloads.converse_answer("Hi")), cut_after=3))
        ...

Modules: ``server`` (routes, queue, :func:`error`, :func:`stream`), ``eventstream`` (AWS
event-stream framing) and ``payloads`` (Converse answers and events, invoke chunks).
"""

from __future__ import annotations

from collections.abc import Iterator

from wikitrace_otel.testing._http import FakeResponse, RecordedRequest

from . import eventstream, payloads
from .server import FakeBedrockServer, default_response, error, json_answer, stream

__all__ = [
    "FakeBedrockServer",
    "FakeResponse",
    "RecordedRequest",
    "default_response",
    "error",
    "eventstream",
    "json_answer",
    "payloads",
    "running_server",
    "stream",
]


def running_server() -> Iterator[FakeBedrockServer]:
    """Generator suited to a pytest fixture: yields a started server, stops it after."""
    with FakeBedrockServer() as server:
        yield server
