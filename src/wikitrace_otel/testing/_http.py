"""The HTTP plumbing every fake provider server shares (stdlib only).

:class:`FakeServer` runs a ``ThreadingHTTPServer`` on ``127.0.0.1`` (random port) in a daemon
thread and speaks HTTP/1.1 with keep-alive, so a real provider SDK talks to it over real
sockets.  Every request is recorded as a :class:`RecordedRequest`; the answer is the next
queued :class:`FakeResponse` if any, else the subclass's :meth:`FakeServer.default_response`.

Wire formats:

* JSON answers carry ``Content-Length`` and ``content-type: application/json``.
* Streams use ``Transfer-Encoding: chunked``, one HTTP chunk per event, encoded by the server's
  :class:`StreamFormat`: :data:`SSE` (``text/event-stream``, see :func:`encode_sse`) unless a
  subclass names another (Bedrock's binary event stream).
* Every answer carries the request id ``<request_id_prefix><n>`` (n counts requests from 1,
  restarting at ``reset()``) under each of ``request_id_headers``, unless the ``FakeResponse``
  sets that header itself.

A provider fake subclasses :class:`FakeServer`, passes its routing function (or overrides
``default_response``) and, where its API has its own error JSON, overrides ``failure_response``.
"""

from __future__ import annotations

import contextlib
import json as _json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, TypeVar
from urllib.parse import parse_qs, urlsplit

JSON = dict[str, Any]
SSEEvent = JSON | str

_Server = TypeVar("_Server", bound="FakeServer")


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
    """What the server answers: a JSON body, or a stream if ``events`` is set.

    Every fake server answers with this one class; the SDK behaviours named below are the
    ``openai`` SDK's (the other SDKs report a cut stream as their own connection error).

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

    Harsher faults, for the events a stream sends (``cut_after`` counts events only):

    * ``tail``: raw bytes sent as one more HTTP chunk after the events (before ``[DONE]``, if
      any), unencoded: half an event (``b'data: {"id": "chatcmpl-'``) before a cut, say.
    * ``reset=True`` (with ``cut_after``): the connection ends with a TCP reset (``SO_LINGER``
      zero) instead of an orderly close, as a crashed proxy or load balancer would end it.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    events: list[Any] | None = None
    cut_after: int | None = None
    delay_s: float = 0.0
    done: bool = True
    tail: bytes = b""
    reset: bool = False

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
        # The OpenAI envelope lives with the OpenAI payloads, whose package imports this module.
        from wikitrace_otel.testing.fake_openai import payloads

        return cls.json(payloads.error_body(message, type_, code, param), status, headers)

    @classmethod
    def sse(
        cls,
        events: list[SSEEvent],
        cut_after: int | None = None,
        done: bool = True,
        headers: dict[str, str] | None = None,
        delay_s: float = 0.0,
        tail: bytes = b"",
        reset: bool = False,
    ) -> FakeResponse:
        """An event stream; ``data: [DONE]`` follows unless ``done=False`` or cut."""
        return cls(
            headers=dict(headers or {}),
            events=list(events),
            cut_after=cut_after,
            delay_s=delay_s,
            done=done,
            tail=tail,
            reset=reset,
        )

    @classmethod
    def slow_sse(cls, events: list[SSEEvent], delay_s: float, cut_after: int | None = None) -> FakeResponse:
        """Like ``sse`` but sleeps ``delay_s`` before each event."""
        return cls.sse(events, cut_after=cut_after, delay_s=delay_s)


def encode_sse(event: SSEEvent) -> bytes:
    """Serialise one SSE event: ``data: <json>\\n\\n``, preceded by an ``event: <type>`` line when
    the payload has a string ``type``; a plain string is sent as raw ``data`` (e.g. ``[DONE]``)."""
    if isinstance(event, str):
        return f"data: {event}\n\n".encode()
    name = event.get("type")
    prefix = f"event: {name}\n" if isinstance(name, str) else ""
    return f"{prefix}data: {_json.dumps(event, separators=(',', ':'))}\n\n".encode()


@dataclass(frozen=True)
class StreamFormat:
    """How a fake server frames a streamed answer.

    ``encode`` turns one event into the bytes of one HTTP chunk; ``headers`` go out after
    ``transfer-encoding``; ``done_event``, if set, is sent last when the response has ``done``.
    """

    content_type: str
    encode: Callable[[Any], bytes]
    headers: dict[str, str] = field(default_factory=dict)
    done_event: Any = None


SSE = StreamFormat("text/event-stream; charset=utf-8", encode_sse, {"cache-control": "no-cache"}, "[DONE]")
"""Server-sent events, ending with ``data: [DONE]`` unless the response says ``done=False``."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Tests open dozens of connections at once (concurrent clients); the default backlog of 5
    # would reset some of them before they are accepted.
    request_queue_size = 128
    fake: FakeServer


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
        fake = self.server.fake
        request_id, response = fake._answer(self._read_request())
        stream_format = fake.stream_format
        content_type = stream_format.content_type if response.events is not None else "application/json"
        ids = dict.fromkeys(fake.request_id_headers, request_id)
        self.send_response(response.status)
        for name, value in {"content-type": content_type, **ids, **response.headers}.items():
            self.send_header(name, value)
        try:
            if response.events is None:
                self._send_body(response.body)
            else:
                self._send_stream(response, stream_format)
        except OSError:  # the client went away mid-answer
            self.close_connection = True

    def _send_body(self, body: bytes) -> None:
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _send_stream(self, response: FakeResponse, stream_format: StreamFormat) -> None:
        self.send_header("transfer-encoding", "chunked")
        for name, value in stream_format.headers.items():
            self.send_header(name, value)
        self.end_headers()
        events = list(response.events or [])
        if response.cut_after is not None:
            events = events[: response.cut_after]
        for event in events:
            if response.delay_s:
                time.sleep(response.delay_s)
            self._send_chunk(stream_format.encode(event))
        if response.tail:
            self._send_chunk(response.tail)
        if response.cut_after is None and response.done and stream_format.done_event is not None:
            if response.delay_s:
                time.sleep(response.delay_s)
            self._send_chunk(stream_format.encode(stream_format.done_event))
        if response.cut_after is not None:
            self.close_connection = True  # no terminating chunk: an incomplete body
            if response.reset:
                self._reset_connection()
            return
        self._send_chunk(b"")

    def _reset_connection(self) -> None:
        # A zero linger timeout makes close() send RST at once; the orderly shutdown that
        # socketserver does after the handler returns then fails quietly on the closed socket.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def _send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


class FakeServer:
    """A fake HTTP API on ``127.0.0.1``: records requests, answers queued responses first. Thread-safe.

    Use ``base_url`` to point an SDK at it; ``requests`` holds what was received.  Give it a
    routing function (or override :meth:`default_response`); a subclass may set the class
    attributes below.
    """

    name: ClassVar[str] = "fake"
    """The serving thread's name."""
    stream_format: ClassVar[StreamFormat] = SSE
    """How streamed answers are framed."""
    request_id_headers: ClassVar[tuple[str, ...]] = ("x-request-id",)
    """The response headers that carry the request id."""
    request_id_prefix: ClassVar[str] = "req_fake_"
    """The request id is this followed by the request's number."""

    def __init__(self, route: Callable[[RecordedRequest], FakeResponse] | None = None) -> None:
        """``route``, if given, answers requests when nothing is queued (else ``default_response`` does)."""
        self.requests: list[RecordedRequest] = []
        self._route = route
        self._queue: deque[FakeResponse] = deque()
        self._count = 0
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    def default_response(self, request: RecordedRequest) -> FakeResponse:
        """The deterministic answer to ``request`` when nothing is queued: ``route(request)``."""
        if self._route is None:
            raise NotImplementedError(f"{type(self).__name__} has no route; pass one or override default_response")
        return self._route(request)

    def failure_response(self, message: str) -> FakeResponse:
        """The 500 answer when ``default_response`` raised (a fake-server bug, made visible to the test)."""
        return FakeResponse.json({"message": message}, 500)

    def start(self: _Server) -> _Server:
        """Start serving (idempotent); returns ``self``."""
        if self._httpd is None:
            httpd = _HTTPServer(("127.0.0.1", 0), _RequestHandler)
            httpd.fake = self
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

    def __enter__(self: _Server) -> _Server:
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
            request_id = f"{self.request_id_prefix}{self._count}"
            self.requests.append(request)
            response = self._queue.popleft() if self._queue else None
        if response is None:
            try:
                response = self.default_response(request)
            except Exception as exc:  # noqa: BLE001 - a fake-server bug: make it visible to the test
                response = self.failure_response(f"fake server failure: {exc!r}")
        return request_id, response
