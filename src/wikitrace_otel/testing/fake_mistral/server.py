"""A fake Mistral API server for tests (stdlib only).

It shares the HTTP plumbing of :mod:`wikitrace_otel.testing.fake_openai` (a
``ThreadingHTTPServer`` on ``127.0.0.1``, random port, keep-alive, chunked SSE, recorded
requests, queued answers) and answers in Mistral's wire format:

- ``POST /v1/chat/completions``: a chat completion (see :mod:`.payloads`), or with
  ``"stream": true`` its chunks as ``text/event-stream`` (``data: <json>`` each, then
  ``data: [DONE]``);
- ``POST /v1/embeddings``: one vector per input;
- anything else: 404 with Mistral's error JSON.

A test scripts the next answers with :meth:`FakeMistralServer.enqueue`:
:meth:`FakeResponse.json`, :func:`error` (status + Mistral error JSON), :func:`stream`
(chunks, optionally cut after ``k``: the socket closes mid-body, and the SDK raises after
yielding those chunks).

:class:`FakeServer` is the provider-neutral part (start, stop, queue, record); a provider
fake subclasses it and implements :meth:`FakeServer.default_response`.
"""

from __future__ import annotations

import threading
from collections import deque
from types import TracebackType
from typing import Any

from wikitrace_otel.testing.fake_openai.server import FakeResponse, RecordedRequest, _HTTPServer, _RequestHandler

from . import payloads

JSON = dict[str, Any]


def error(status: int, message: str = "Fake error", error_type: str = "invalid_request_error") -> FakeResponse:
    """An HTTP error with Mistral's error JSON, e.g. ``error(429, "Rate limit", "rate_limited")``."""
    return FakeResponse.json(payloads.error_body(message, error_type), status)


def stream(chunks: list[JSON], cut_after: int | None = None, delay_s: float = 0.0) -> FakeResponse:
    """A chunk stream ending with ``data: [DONE]``; ``cut_after=k`` sends ``k`` chunks, then drops the connection."""
    return FakeResponse.sse(chunks, cut_after=cut_after, delay_s=delay_s)


class FakeServer:
    """A fake HTTP API on ``127.0.0.1``: records requests, answers queued responses first. Thread-safe.

    Use ``base_url`` to point an SDK at it; ``requests`` holds what was received.
    """

    name = "fake"

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queue: deque[FakeResponse] = deque()
        self._count = 0
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def default_response(self, request: RecordedRequest) -> FakeResponse:
        """The deterministic answer to ``request`` when nothing is queued."""
        raise NotImplementedError

    def start(self) -> Any:
        """Start serving (idempotent); returns ``self``."""
        if self._httpd is None:
            httpd = _HTTPServer(("127.0.0.1", 0), _RequestHandler)
            httpd.fake = self  # type: ignore[assignment]
            self._thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=self.name, daemon=True
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

    def __enter__(self) -> Any:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not running; call start() first")
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
                response = self.default_response(request)
            except Exception as exc:  # noqa: BLE001 - a fake-server bug: make it visible to the test
                response = FakeResponse.json({"message": f"fake server failure: {exc!r}"}, 500)
        return request_id, response


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
