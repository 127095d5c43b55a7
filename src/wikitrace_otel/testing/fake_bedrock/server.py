"""A fake Bedrock Runtime server for tests (stdlib only).

It shares the HTTP plumbing of :mod:`wikitrace_otel.testing.fake_openai` (a
``ThreadingHTTPServer`` on ``127.0.0.1``, random port, keep-alive, recorded requests, queued
answers) and answers in Bedrock's wire format, so boto3's own signing, HTTP and event-stream
parsing run for real (point a client's ``endpoint_url`` at :attr:`FakeBedrockServer.endpoint_url`,
with any static credentials):

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
import threading
import time
from collections import deque
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from wikitrace_otel.testing.fake_openai.server import FakeResponse, RecordedRequest, _HTTPServer, _RequestHandler

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


class _Handler(_RequestHandler):
    def _serve(self) -> None:
        request_id, response = self.server.fake._answer(self._read_request())
        content_type = _EVENTSTREAM if response.events is not None else "application/json"
        self.send_response(response.status)
        for name, value in {"content-type": content_type, "x-amzn-requestid": request_id, **response.headers}.items():
            self.send_header(name, value)
        try:
            if response.events is None:
                self._send_body(response.body)
            else:
                self._send_frames(response)
        except OSError:  # the client went away mid-answer
            self.close_connection = True

    def _send_frames(self, response: FakeResponse) -> None:
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        frames = list(response.events or [])
        if response.cut_after is not None:
            frames = frames[: response.cut_after]
        for frame in frames:
            if response.delay_s:
                time.sleep(response.delay_s)
            self._send_chunk(eventstream.encode(frame))  # type: ignore[arg-type]
        if response.cut_after is not None:
            self.close_connection = True  # no terminating chunk: an incomplete body
            return
        self._send_chunk(b"")


class FakeBedrockServer:
    """Fake Bedrock Runtime on ``127.0.0.1``; see the module docstring. Thread-safe."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queue: deque[FakeResponse] = deque()
        self._count = 0
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeBedrockServer:
        """Start serving (idempotent); returns ``self``."""
        if self._httpd is None:
            httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
            httpd.fake = self  # type: ignore[assignment]
            self._thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-bedrock", daemon=True
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

    def __enter__(self) -> FakeBedrockServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """What to pass as ``boto3.client("bedrock-runtime", endpoint_url=...)``."""
        if self._httpd is None:
            raise RuntimeError("FakeBedrockServer is not running; call start() first")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

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
            request_id = f"req-fake-{self._count}"
            self.requests.append(request)
            response = self._queue.popleft() if self._queue else None
        if response is None:
            try:
                response = default_response(request)
            except Exception as exc:  # noqa: BLE001 - a fake-server bug: make it visible to the test
                response = error(500, "InternalServerException", f"fake server failure: {exc!r}")
        return request_id, response
