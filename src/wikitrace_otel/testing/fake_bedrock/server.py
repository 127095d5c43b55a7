"""A fake Bedrock Runtime server for tests (stdlib only).

It is a :class:`wikitrace_otel.testing._http.FakeServer` (a ``ThreadingHTTPServer`` on
``127.0.0.1``, random port, keep-alive, recorded requests, queued answers) and answers in
Bedrock's wire format, so boto3's own signing, HTTP and event-stream parsing run for real
(point a client's ``endpoint_url`` at :attr:`FakeBedrockServer.endpoint_url`, with any static
credentials):

- ``POST /model/<modelId>/converse``: a Converse answer (JSON);
- ``POST /model/<modelId>/converse-stream``: its events, ``application/vnd.amazon.eventstream``
  (see :mod:`.eventstream`), one HTTP chunk per message;
- ``POST /model/<modelId>/invoke`` and ``/invoke-with-response-stream``: only what the test
  queued (each model family has its own body);
- anything else, and an ``invoke`` with nothing queued: 400 ``ValidationException``.

A test scripts the next answers with :meth:`FakeBedrockServer.enqueue`: :func:`json_answer`,
:func:`error` (status + ``x-amzn-ErrorType``), :func:`stream` (frames, optionally cut after
``k``: the connection closes mid-body).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from wikitrace_otel.testing._http import FakeResponse, FakeServer, RecordedRequest, StreamFormat

from . import eventstream, payloads

JSON = dict[str, Any]
_ROUTE = re.compile(r"/model/(?P<model>[^/]+)/(?P<verb>converse|converse-stream|invoke|invoke-with-response-stream)")
_EVENTSTREAM = "application/vnd.amazon.eventstream"


def json_answer(body: JSON, headers: dict[str, str] | None = None) -> FakeResponse:
    """A 200 JSON answer (``invoke_model`` token-count headers may go in ``headers``)."""
    return FakeResponse.json(body, 200, headers)


def error(status: int, code: str, message: str = "Fake error") -> FakeResponse:
    """An AWS error: ``x-amzn-ErrorType: <code>`` and ``{"message": ...}``."""
    return FakeResponse.json({"message": message}, status, {"x-amzn-ErrorType": f"{code}:http://internal.amazon.com/"})


def stream(frames: list[eventstream.Frame], cut_after: int | None = None) -> FakeResponse:
    """An event stream; ``cut_after=k`` sends only ``k`` messages, then drops the connection."""
    return FakeResponse(events=list(frames), cut_after=cut_after, done=False)


def default_response(request: RecordedRequest) -> FakeResponse:
    """The deterministic answer to ``request`` when nothing is queued."""
    route = _ROUTE.fullmatch(request.path)
    if request.method != "POST" or route is None or route["verb"].startswith("invoke"):
        return error(400, "ValidationException", f"Nothing faked for {request.method} {request.path}")
    answer = payloads.converse_answer(f"Hello from {unquote(route['model'])}.")
    return stream(payloads.converse_events(answer)) if route["verb"] == "converse-stream" else json_answer(answer)


class FakeBedrockServer(FakeServer):
    """Fake Bedrock Runtime on ``127.0.0.1``; see the module docstring. Thread-safe."""

    name = "fake-bedrock"
    # One HTTP chunk per event-stream message; a stream has no end marker of its own.
    stream_format = StreamFormat(_EVENTSTREAM, eventstream.encode)
    request_id_headers = ("x-amzn-requestid",)
    request_id_prefix = "req-fake-"

    def __init__(self) -> None:
        super().__init__(default_response)

    def failure_response(self, message: str) -> FakeResponse:
        return error(500, "InternalServerException", message)

    @property
    def endpoint_url(self) -> str:
        """What to pass as ``boto3.client("bedrock-runtime", endpoint_url=...)``."""
        return self.base_url
