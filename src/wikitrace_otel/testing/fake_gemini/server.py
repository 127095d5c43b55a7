"""A fake Gemini API server for tests (stdlib only).

It shares the HTTP plumbing of :mod:`wikitrace_otel.testing.fake_openai` (a
``ThreadingHTTPServer`` on ``127.0.0.1``, random port, keep-alive, chunked SSE, recorded
requests, queued answers) and answers in the Gemini REST wire format:

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
import threading
from collections import deque
from types import TracebackType
from typing import Any

from wikitrace_otel.testing.fake_openai.server import FakeResponse, RecordedRequest, _HTTPServer, _RequestHandler

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


class FakeGeminiServer:
    """Fake Gemini API on ``127.0.0.1``; see the module docstring. Thread-safe.

    Use ``base_url`` for ``genai.Client(http_options={"base_url": ...})``; ``requests`` holds
    what was received.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queue: deque[FakeResponse] = deque()
        self._count = 0
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeGeminiServer:
        """Start serving (idempotent); returns ``self``."""
        if self._httpd is None:
            httpd = _HTTPServer(("127.0.0.1", 0), _RequestHandler)
            httpd.fake = self  # type: ignore[assignment]
            self._thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-gemini", daemon=True
            )
            self._httpd = httpd
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeGeminiServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeGeminiServer is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        """Forget recorded requests and queued answers."""
        with self._lock:
            self.requests.clear()
            self._queue.clear()
            self._count = 0

    def enqueue(self, response: FakeResponse) -> None:
        """Answer the next request (whatever its path) with ``response``."""
        with self._lock:
            self._queue.append(response)

    def _answer(self, request: RecordedRequest) -> tuple[str, FakeResponse]:
        with self._lock:
            self._count += 1
            request_id = f"req_fake_{self._count}"
            self.requests.append(request)
            response = self._queue.popleft() if self._queue else None
        if response is None:
            try:
                response = default_response(request)
            except Exception as exc:  # noqa: BLE001 - a fake-server bug: make it visible to the test
                response = error(500, "INTERNAL", f"fake server failure: {exc!r}")
        return request_id, response
