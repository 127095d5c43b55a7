"""A fake Cohere v2 API server for tests (stdlib only).

Built on :class:`wikitrace_otel.testing._http.FakeServer` (the HTTP plumbing every fake
server shares), answering in Cohere's v2 wire format:

- ``POST /v2/chat``: a chat response (see :mod:`.payloads`), or with ``"stream": true`` its
  events as ``text/event-stream`` (``event: <type>`` then ``data: <json>``; no ``[DONE]``);
- ``POST /v2/embed``: one vector per text; ``POST /v2/rerank``: the documents reordered;
- anything else: 404 with Cohere's error JSON.

A test scripts the next answers with ``enqueue``: :meth:`FakeResponse.json`, :func:`error`
(status + ``{"message"}``), :func:`stream` (events, optionally cut after ``k``: the socket
closes mid-body).
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel.testing._http import FakeResponse, FakeServer, RecordedRequest

from . import payloads

JSON = dict[str, Any]


def error(status: int, message: str = "Fake error") -> FakeResponse:
    """An HTTP error with Cohere's error JSON, e.g. ``error(429, "Too many requests")``."""
    return FakeResponse.json(payloads.error_body(message), status)


def stream(events: list[JSON], cut_after: int | None = None, delay_s: float = 0.0) -> FakeResponse:
    """An event stream; ``cut_after=k`` sends only ``k`` events, then drops the connection."""
    return FakeResponse(events=list(events), cut_after=cut_after, delay_s=delay_s, done=False)


class FakeCohereServer(FakeServer):
    """Fake Cohere v2 API; see the module docstring. ``ClientV2(base_url=server.base_url)``."""

    name = "fake-cohere"

    def default_response(self, request: RecordedRequest) -> FakeResponse:
        body: JSON = request.body if isinstance(request.body, dict) else {}
        if request.method == "POST" and request.path == "/v2/chat":
            answer = payloads.chat_response()
            return stream(payloads.chat_events(answer)) if body.get("stream") else FakeResponse.json(answer)
        if request.method == "POST" and request.path == "/v2/embed":
            texts = [str(t) for t in body.get("texts") or []]
            return FakeResponse.json(payloads.embed_response(texts, int(body.get("output_dimension") or 4)))
        if request.method == "POST" and request.path == "/v2/rerank":
            return FakeResponse.json(payloads.rerank_response(len(body.get("documents") or []), body.get("top_n")))
        return error(404, f"Not found: {request.method} {request.path}")
