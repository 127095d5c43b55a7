"""A fake OpenAI HTTP server for tests (stdlib only).

``FakeOpenAIServer`` runs a ``ThreadingHTTPServer`` on ``127.0.0.1`` (random
port) in a daemon thread and speaks HTTP/1.1 with keep-alive, so the real
``openai`` SDK talks to it over real sockets.  Every request is recorded as a
``RecordedRequest``; the answer is the next queued ``FakeResponse`` if any, else
a deterministic default derived from the request (see ``payloads`` and
``responses_api``).

Wire formats:

* JSON answers carry ``Content-Length`` and ``content-type: application/json``.
* Streams (``text/event-stream``) use ``Transfer-Encoding: chunked``, one HTTP
  chunk per SSE event.  An event is ``data: <json>\\n\\n``, preceded by an
  ``event: <type>`` line when the payload has a string ``type`` (the Responses
  API does this); a plain string is sent as raw ``data`` (e.g. ``[DONE]``).
* Every answer carries ``x-request-id: req_fake_<n>`` (n counts requests from 1,
  restarting at ``reset()``) unless the ``FakeResponse`` sets its own.

Routes (any of the prefixes ``/v1``, ``/openai`` and
``/openai/deployments/<deployment>``, the Azure forms, which send
``?api-version=...``; for Azure the deployment stands in for a missing model):
``POST /chat/completions``, ``POST /completions``, ``POST /embeddings``,
``POST /responses``, ``GET /responses/<id>`` (``?stream=true`` for events; a
response created earlier in this session, else the default response for model
``gpt-fake`` under that id).  Streams end with ``data: [DONE]`` except the
Responses API's, which (like the real API) just end after ``response.completed``.
Anything else gets a 404 OpenAI error (code ``unknown_url``).
"""

from __future__ import annotations

import contextlib
import json as _json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import payloads, responses_api

JSON = dict[str, Any]
SSEEvent = JSON | str


@dataclass
class RecordedRequest:
    """One request as the server saw it. ``query`` keeps the last value of each
    parameter; ``headers`` has lower-case names; ``body`` is the parsed JSON
    body, or ``None`` if empty or not JSON."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeResponse:
    """What the server answers: a JSON body, or an SSE stream if ``events`` is set.

    ``cut_after=k`` sends only the first ``k`` events and then closes the socket
    without the final zero-length chunk (and without ``[DONE]``).  The client's
    HTTP layer sees an incomplete chunked body: openai>=2 (httpx2) raises
    ``openai.APIConnectionError`` while iterating; openai 1.x lets
    ``httpx.RemoteProtocolError`` escape (no ``openai`` wrapper).  Events
    already received are yielded first in both.

    Errors inside a stream: an ``{"error": {...}}`` event makes both SDK lines
    raise ``openai.APIError`` (not an ``APIStatusError``: the HTTP status was
    200) with ``message``/``code``/``type`` taken from it.  A Responses-style
    ``{"type": "error", ...}`` event is *not* raised: it is yielded as a
    ``ResponseErrorEvent`` (``get_final_response()`` then raises RuntimeError).

    ``delay_s`` sleeps before each event; a client read timeout shorter than it
    raises ``openai.APITimeoutError`` on openai>=2 and a bare
    ``httpx.ReadTimeout`` on openai 1.x.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    events: list[SSEEvent] | None = None
    cut_after: int | None = None
    delay_s: float = 0.0
    done: bool = True

    @classmethod
    def json(cls, body: JSON, status: int = 200, headers: dict[str, str] | None = None) -> FakeResponse:
        """A JSON answer with the given status."""
        return cls(status=status, headers=dict(headers or {}), body=_json.dumps(body).encode())

    @classmethod
    def error(
        cls,
        status: int,
        message: str = "Fake error",
        code: str | None = None,
        type_: str = "invalid_request_error",
        headers: dict[str, str] | None = None,
        param: str | None = None,
    ) -> FakeResponse:
        """An OpenAI error: ``{"error": {"message", "type", "param", "code"}}``."""
        return cls.json(payloads.error_body(message, type_, code, param), status, headers)

    @classmethod
    def sse(
        cls,
        events: list[SSEEvent],
        cut_after: int | None = None,
        done: bool = True,
        headers: dict[str, str] | None = None,
        delay_s: float = 0.0,
    ) -> FakeResponse:
        """An event stream; ``data: [DONE]`` follows unless ``done=False`` or cut."""
        return cls(headers=dict(headers or {}), events=list(events), cut_after=cut_after, delay_s=delay_s, done=done)

    @classmethod
    def slow_sse(cls, events: list[SSEEvent], delay_s: float, cut_after: int | None = None) -> FakeResponse:
        """Like ``sse`` but sleeps ``delay_s`` before each event."""
        return cls.sse(events, cut_after=cut_after, delay_s=delay_s)


def encode_sse(event: SSEEvent) -> bytes:
    """Serialise one SSE event (see the module docstring)."""
    if isinstance(event, str):
        return f"data: {event}\n\n".encode()
    name = event.get("type")
    prefix = f"event: {name}\n" if isinstance(name, str) else ""
    return f"{prefix}data: {_json.dumps(event, separators=(',', ':'))}\n\n".encode()


# --------------------------------------------------------------------------- routing

_PREFIX = re.compile(r"^(?:/v1|/openai(?:/deployments/(?P<deployment>[^/]+))?)(?P<rest>/.*)$")
Handler = Callable[[JSON, dict[str, str], dict[str, JSON], str], FakeResponse]


def _chat(body: JSON, query: dict[str, str], store: dict[str, JSON], arg: str) -> FakeResponse:
    if body.get("stream"):
        return FakeResponse.sse(payloads.chat_completion_chunks(body))
    return FakeResponse.json(payloads.chat_completion(body))


def _completions(body: JSON, query: dict[str, str], store: dict[str, JSON], arg: str) -> FakeResponse:
    if body.get("stream"):
        return FakeResponse.sse(payloads.completion_chunks(body))
    return FakeResponse.json(payloads.completion(body))


def _embeddings(body: JSON, query: dict[str, str], store: dict[str, JSON], arg: str) -> FakeResponse:
    return FakeResponse.json(payloads.embeddings(body))


def _create_response(body: JSON, query: dict[str, str], store: dict[str, JSON], arg: str) -> FakeResponse:
    response = responses_api.response_object(body)
    store[response["id"]] = response
    if body.get("stream"):
        return FakeResponse.sse(responses_api.response_events(response), done=False)
    return FakeResponse.json(response)


def _retrieve_response(body: JSON, query: dict[str, str], store: dict[str, JSON], arg: str) -> FakeResponse:
    response = store.get(arg) or responses_api.response_object({}, response_id=arg)
    if query.get("stream") == "true":
        return FakeResponse.sse(responses_api.response_events(response), done=False)
    return FakeResponse.json(response)


_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("POST", re.compile(r"/chat/completions"), _chat),
    ("POST", re.compile(r"/completions"), _completions),
    ("POST", re.compile(r"/embeddings"), _embeddings),
    ("POST", re.compile(r"/responses"), _create_response),
    ("GET", re.compile(r"/responses/(?P<arg>[^/]+)"), _retrieve_response),
]


def default_response(request: RecordedRequest, store: dict[str, JSON]) -> FakeResponse:
    """The deterministic answer for ``request`` when nothing is queued."""
    prefixed = _PREFIX.match(request.path)
    body: JSON = request.body if isinstance(request.body, dict) else {}
    if prefixed:
        if prefixed["deployment"] and "model" not in body:
            body = {**body, "model": prefixed["deployment"]}
        for method, pattern, handler in _ROUTES:
            found = pattern.fullmatch(prefixed["rest"])
            if found and method == request.method:
                return handler(body, request.query, store, found.groupdict().get("arg", ""))
    message = f"Invalid URL ({request.method} {request.path})"
    return FakeResponse.error(404, message, code="unknown_url")


# --------------------------------------------------------------------------- HTTP plumbing


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Tests open dozens of connections at once (concurrent clients); the default backlog of 5
    # would reset some of them before they are accepted.
    request_queue_size = 128
    fake: FakeOpenAIServer


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer
    # Headers and body go out in separate writes: without this, Nagle's algorithm meets the
    # client's delayed ACK and every response waits ~40 ms.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging."""

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError):  # the client dropped a kept-alive connection
            super().handle()

    def _read_request(self) -> RecordedRequest:
        url = urlsplit(self.path)
        query = {key: values[-1] for key, values in parse_qs(url.query, keep_blank_values=True).items()}
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = _json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        return RecordedRequest(self.command, url.path, query, headers, body)

    def _serve(self) -> None:
        request_id, response = self.server.fake._answer(self._read_request())
        content_type = "text/event-stream; charset=utf-8" if response.events is not None else "application/json"
        headers = {"content-type": content_type, "x-request-id": request_id, **response.headers}
        self.send_response(response.status)
        for name, value in headers.items():
            self.send_header(name, value)
        try:
            if response.events is None:
                self._send_body(response.body)
            else:
                self._send_stream(response)
        except OSError:  # the client went away mid-answer
            self.close_connection = True

    def _send_body(self, body: bytes) -> None:
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_stream(self, response: FakeResponse) -> None:
        self.send_header("transfer-encoding", "chunked")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        events = list(response.events or [])
        if response.cut_after is not None:
            events = events[: response.cut_after]
        elif response.done:
            events.append("[DONE]")
        for event in events:
            if response.delay_s:
                time.sleep(response.delay_s)
            self._send_chunk(encode_sse(event))
        if response.cut_after is not None:
            self.close_connection = True  # no terminating chunk: an incomplete body
            return
        self._send_chunk(b"")

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


class FakeOpenAIServer:
    """Fake OpenAI API on ``127.0.0.1``; see the module docstring.

    Use ``base_url`` for ``OpenAI(base_url=...)`` and ``azure_endpoint`` for
    ``AzureOpenAI(azure_endpoint=..., api_version=...)``.  Thread-safe.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queue: deque[FakeResponse] = deque()
        self._stored: dict[str, JSON] = {}
        self._count = 0
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> FakeOpenAIServer:
        """Start serving (idempotent); returns ``self``."""
        if self._httpd is None:
            httpd = _HTTPServer(("127.0.0.1", 0), _RequestHandler)
            httpd.fake = self
            self._thread = threading.Thread(
                target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openai", daemon=True
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

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FakeOpenAIServer is not running; call start() first")
        return int(self._httpd.server_address[1])

    @property
    def azure_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.azure_endpoint}/v1"

    def reset(self) -> None:
        """Forget recorded requests, queued answers and stored responses."""
        with self._lock:
            self.requests.clear()
            self._queue.clear()
            self._stored.clear()
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
            queued = self._queue.popleft() if self._queue else None
            if queued is not None:
                return request_id, queued
            try:
                return request_id, default_response(request, self._stored)
            except Exception as exc:  # noqa: BLE001 (a fake-server bug: make it visible to the test)
                return request_id, FakeResponse.error(500, f"fake server failure: {exc!r}", type_="server_error")
