"""A fake Gemini API server for tests (stdlib only).

It is a :class:`wikitrace_otel.testing._http.FakeServer` (a ``ThreadingHTTPServer`` on
``127.0.0.1``, random port, keep-alive, chunked SSE, recorded requests, queued answers) and
answers in the Gemini REST wire format:

- Gemini Developer API: ``POST /{version}/models/{model}:generateContent``,
  ``:streamGenerateContent?alt=sse`` (``data: <json>`` events, no ``[DONE]``),
  ``:embedContent`` and ``:batchEmbedContents``;
- Vertex AI, the same verbs under ``/{version}/projects/{p}/locations/{l}/publishers/google/models/{m}``
  or, in express mode (API key), ``/{version}/publishers/google/models/{m}``, plus ``:predict``
  for text embedding models;
- anything else: 404 with Google's error JSON ``{"error": {"code", "message", "status"}}``.

A test scripts the next answers with :meth:`FakeGeminiServer.enqueue`:
:meth:`FakeResponse.json`, :func:`error` (status + error JSON), :func:`stream` (chunks,
optionally cut after ``k``: the socket closes mid-body).
"""

from __future__ import annotations

import re
from typing import Any

from wikitrace_otel.testing._http import FakeResponse, FakeServer, RecordedRequest

from . import payloads

JSON = dict[str, Any]

_ROUTE = re.compile(
    r"/(?P<version>v1\w*)/(?:projects/[^/]+/locations/[^/]+/)?(?:publishers/google/)?"
    r"models/(?P<model>[^/:]+):(?P<verb>\w+)"
)
_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
_STATUS.update({429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"})


def error(code: int, status: str | None = None, message: str = "Fake error") -> FakeResponse:
    """An HTTP error with Google's error JSON, e.g. ``error(429, "RESOURCE_EXHAUSTED")``."""
    return FakeResponse.json(payloads.error_body(code, message, status or _STATUS.get(code, "UNKNOWN")), code)


def stream(chunks: list[JSON], cut_after: int | None = None, delay_s: float = 0.0) -> FakeResponse:
    """An SSE stream of response chunks; ``cut_after=k`` sends ``k`` chunks, then drops the connection."""
    return FakeResponse(events=list(chunks), cut_after=cut_after, delay_s=delay_s, done=False)


def default_response(request: RecordedRequest) -> FakeResponse:
    """The deterministic answer to ``request`` when nothing is queued."""
    body: JSON = request.body if isinstance(request.body, dict) else {}
    found = _ROUTE.fullmatch(request.path)
    if request.method != "POST" or found is None:
        return error(404, "NOT_FOUND", f"Not found: {request.method} {request.path}")
    model, verb = found["model"], found["verb"]
    if verb == "generateContent":
        return FakeResponse.json(payloads.response(model))
    if verb == "streamGenerateContent":
        return stream(payloads.stream_chunks(payloads.response(model)))
    if verb == "batchEmbedContents":
        return FakeResponse.json(payloads.batch_embeddings(body))
    if verb == "embedContent":
        return FakeResponse.json(payloads.embedding(body))
    if verb == "predict":
        return FakeResponse.json(payloads.predictions(body))
    return error(404, "NOT_FOUND", f"Unknown method {verb}")


class FakeGeminiServer(FakeServer):
    """Fake Gemini API on ``127.0.0.1``; see the module docstring. Thread-safe.

    Use ``base_url`` for ``genai.Client(http_options={"base_url": ...})``; ``requests`` holds
    what was received.
    """

    name = "fake-gemini"

    def __init__(self) -> None:
        super().__init__(default_response)

    def failure_response(self, message: str) -> FakeResponse:
        return error(500, "INTERNAL", message)
