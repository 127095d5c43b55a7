"""A fake Mistral API server for tests (stdlib only).

It is a :class:`wikitrace_otel.testing._http.FakeServer` (a ``ThreadingHTTPServer`` on
``127.0.0.1``, random port, keep-alive, chunked SSE, recorded requests, queued answers) and
answers in Mistral's wire format:

- ``POST /v1/chat/completions``: a chat completion (see :mod:`.payloads`), or with
  ``"stream": true`` its chunks as ``text/event-stream`` (``data: <json>`` each, then
  ``data: [DONE]``);
- ``POST /v1/embeddings``: one vector per input;
- anything else: 404 with Mistral's error JSON.

A test scripts the next answers with :meth:`FakeMistralServer.enqueue`:
:meth:`FakeResponse.json`, :func:`error` (status + Mistral error JSON), :func:`stream`
(chunks, optionally cut after ``k``: the socket closes mid-body, and the SDK raises after
yielding those chunks).

:class:`FakeServer` (re-exported here from :mod:`wikitrace_otel.testing._http`) is the
provider-neutral part (start, stop, queue, record); a provider fake subclasses it and
implements :meth:`FakeServer.default_response`.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel.testing._http import FakeResponse, FakeServer, RecordedRequest

from . import payloads

JSON = dict[str, Any]


def error(status: int, message: str = "Fake error", error_type: str = "invalid_request_error") -> FakeResponse:
    """An HTTP error with Mistral's error JSON, e.g. ``error(429, "Rate limit", "rate_limited")``."""
    return FakeResponse.json(payloads.error_body(message, error_type), status)


def stream(chunks: list[JSON], cut_after: int | None = None, delay_s: float = 0.0) -> FakeResponse:
    """A chunk stream ending with ``data: [DONE]``; ``cut_after=k`` sends ``k`` chunks, then drops the connection."""
    return FakeResponse.sse(chunks, cut_after=cut_after, delay_s=delay_s)


class FakeMistralServer(FakeServer):
    """Fake Mistral API; see the module docstring. ``Mistral(server_url=server.base_url)``."""

    name = "fake-mistral"

    def default_response(self, request: RecordedRequest) -> FakeResponse:
        body: JSON = request.body if isinstance(request.body, dict) else {}
        model = str(body.get("model") or "mistral-fake")
        if request.method == "POST" and request.path == "/v1/chat/completions":
            answer = payloads.chat_completion(model, choices=int(body.get("n") or 1))
            return stream(payloads.chat_chunks(answer)) if body.get("stream") else FakeResponse.json(answer)
        if request.method == "POST" and request.path == "/v1/embeddings":
            dimensions = body.get("output_dimension")
            return FakeResponse.json(
                payloads.embeddings(model, body.get("inputs") or body.get("input"), int(dimensions or 4))
            )
        return error(404, f"Not found: {request.method} {request.path}", "not_found")
