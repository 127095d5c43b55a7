"""A fake Anthropic Messages API server for tests (stdlib only).

It is a :class:`wikitrace_otel.testing._http.FakeServer` (a ``ThreadingHTTPServer`` on
``127.0.0.1``, random port, keep-alive, chunked SSE, recorded requests, queued answers) and
answers in Anthropic's wire format:

- ``POST /v1/messages``: a ``message`` (see :mod:`.payloads`), or with ``"stream": true`` its
  events as ``text/event-stream`` (``event: <type>`` then ``data: <json>``; no ``[DONE]``);
- ``POST /v1/messages/count_tokens``: ``{"input_tokens": n}``;
- the Bedrock routes ``POST /model/<model>/invoke`` and the Vertex routes
  ``POST .../models/<model>:rawPredict`` / ``:streamRawPredict`` (the model comes from the path);
- anything else: 404 with Anthropic's error JSON (``not_found_error``).

Every answer carries ``request-id: req_fake_<n>`` (and ``x-request-id``). A test scripts the
next answers with :meth:`FakeAnthropicServer.enqueue`: :meth:`FakeResponse.json`, :func:`error`
(status + Anthropic error JSON), :func:`stream` (events, optionally cut after ``k`` events: the
socket closes mid-body, which the SDK reports as a connection error after yielding those events).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from wikitrace_otel.testing._http import FakeResponse, FakeServer, RecordedRequest

from . import payloads

JSON = dict[str, Any]

_BEDROCK = re.compile(r"/model/(?P<model>[^/]+)/invoke(?P<stream>-with-response-stream)?")
_VERTEX = re.compile(r"/v1/projects/[^/]+/locations/[^/]+/publishers/anthropic/models/(?P<model>[^/:]+):(?P<verb>\w+)")


def error(
    status: int, error_type: str, message: str = "Fake error", headers: dict[str, str] | None = None
) -> FakeResponse:
    """An HTTP error with Anthropic's error JSON, e.g. ``error(529, "overloaded_error")``."""
    return FakeResponse.json(payloads.error_body(error_type, message), status, headers)


def stream(events: list[JSON], cut_after: int | None = None, delay_s: float = 0.0) -> FakeResponse:
    """An event stream; ``cut_after=k`` sends only ``k`` events, then drops the connection."""
    return FakeResponse(events=list(events), cut_after=cut_after, delay_s=delay_s, done=False)


def default_response(request: RecordedRequest) -> FakeResponse:
    """The deterministic answer to ``request`` when nothing is queued."""
    body: JSON = request.body if isinstance(request.body, dict) else {}
    path = request.path
    if request.method == "POST" and path == "/v1/messages/count_tokens":
        return FakeResponse.json(payloads.count_tokens(body))
    if request.method == "POST" and path == "/v1/messages":
        return _message(body, str(body.get("model") or "claude-fake"), bool(body.get("stream")))
    bedrock = _BEDROCK.fullmatch(path)
    if request.method == "POST" and bedrock:
        if bedrock["stream"]:  # Bedrock streams use AWS's binary event-stream framing, not SSE
            return error(501, "api_error", "bedrock streaming is not faked")
        return _message(body, unquote(bedrock["model"]), False)
    vertex = _VERTEX.fullmatch(path)
    if request.method == "POST" and vertex:
        if vertex["model"] == "count-tokens":
            return FakeResponse.json(payloads.count_tokens(body))
        return _message(body, vertex["model"], vertex["verb"] == "streamRawPredict")
    return error(404, "not_found_error", f"Not found: {request.method} {path}")


def _message(body: JSON, model: str, streamed: bool) -> FakeResponse:
    answer = payloads.message(model)
    return stream(payloads.message_events(answer)) if streamed else FakeResponse.json(answer)


class FakeAnthropicServer(FakeServer):
    """Fake Anthropic API on ``127.0.0.1``; see the module docstring. Thread-safe.

    Use ``base_url`` for ``Anthropic(base_url=...)``; ``requests`` holds what was received.
    """

    name = "fake-anthropic"
    request_id_headers = ("x-request-id", "request-id")

    def __init__(self) -> None:
        super().__init__(default_response)

    def failure_response(self, message: str) -> FakeResponse:
        return error(500, "api_error", message)
