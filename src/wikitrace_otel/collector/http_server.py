"""OTLP/HTTP receiver and the ``/api/*`` routes, on the standard library's HTTP server.

One thread per connection (bounded: connections over the limit get 503, or over TLS no answer,
and are closed), HTTP/1.1 keep-alive, one ``write`` per response. With TLS the handshake happens
in the connection's own thread, under the same timeout as a request, so a client that never
finishes it holds only its own slot, never the accept loop. Requests are checked in the order
that costs the server least: path, method, key, content type and encoding, declared size,
in-flight budget; only then is the body read.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

from google.rpc import status_pb2

from wikitrace_otel.collector import otlp
from wikitrace_otel.collector.api import ApiService
from wikitrace_otel.collector.auth import KeyRing
from wikitrace_otel.collector.commit import OverloadedError, UnavailableError
from wikitrace_otel.collector.config import RETRY_AFTER_S
from wikitrace_otel.collector.http_framing import (
    HttpError,
    announces_body,
    content_length,
    gunzip,
    is_chunked,
    read_chunked,
)
from wikitrace_otel.collector.ingest import Receiver

_logger = logging.getLogger(__name__)

PROTOBUF: Final = "application/x-protobuf"
JSON: Final = "application/json"
# After refusing a request whose body was not read, the server reads and discards what the
# client is still sending (at most this much, for at most this long) before it closes; closing
# with unread data makes the kernel reset the connection, and a client still sending its body
# would then never see the answer (RFC 9112, section 9.6).
_DRAIN_BYTES: Final = 64 * 1024 * 1024
_DRAIN_SECONDS: Final = 2.0
_GRPC_CODE_FOR_HTTP: Final = {400: 3, 401: 16, 404: 5, 405: 12, 411: 3, 413: 8, 415: 3, 429: 8, 503: 14}


def _retry_headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_S)}


class CollectorHTTPServer(socketserver.ThreadingMixIn, HTTPServer):
    """The threaded HTTP server, with a connection limit and a graceful stop."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        receiver: Receiver,
        keys: KeyRing,
        api: ApiService,
        config: Any,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.receiver = receiver
        self.keys = keys
        self.api = api
        self.max_body_bytes: int = config.max_body_bytes
        self.stopping = False
        self.ssl_context = ssl_context
        self._slots = threading.BoundedSemaphore(config.max_connections)
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._busy = 0
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.receiver.note_refused("connections", client=client_address)
            # Over TLS an answer would need a handshake, that is the thread the limit bounds:
            # the connection is closed unanswered and clients retry it as a connection error.
            if self.ssl_context is None:
                with contextlib.suppress(OSError):
                    request.sendall(_raw_response(503, b"too many connections\n", "text/plain", _retry_headers(), True))
            self.shutdown_request(request)
            return
        with self._lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._open.discard(request)
            self._slots.release()

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.ssl_context is None:
            super().finish_request(request, client_address)
            return
        with self._lock:  # stop() must find the socket that is in use now
            self._open.discard(request)
            tls = self.ssl_context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
            self._open.add(tls)
        try:
            tls.settimeout(_Handler.timeout)
            try:
                tls.do_handshake()
            except (OSError, ValueError) as exc:  # plaintext, an untrusted or missing client certificate, a stall
                self.receiver.note_refused("tls", client=client_address, error=str(exc))
                return
            super().finish_request(tls, client_address)
        finally:
            with self._lock:
                self._open.discard(tls)
            self.shutdown_request(tls)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Called for errors outside a request (reading the request line, a reset connection):
        # routine for a server on a network, so no traceback on stderr.
        _logger.debug("connection from %s ended with an error", client_address, exc_info=True)

    def busy(self, delta: int) -> None:
        """Count requests being served (not idle keep-alive connections)."""
        with self._lock:
            self._busy += delta

    def stop(self, timeout: float) -> None:
        """Stop accepting, let requests in progress finish (up to ``timeout``), close idle connections."""
        self.stopping = True
        self.shutdown()
        deadline = time.monotonic() + timeout
        while self._busy and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                # The plain socket's method: SSLSocket.shutdown would also drop the TLS state
                # that the connection's own thread may be using right now.
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        self.server_close()


def _raw_response(status: int, body: bytes, content_type: str, headers: dict[str, str], close: bool) -> bytes:
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", f"Content-Type: {content_type}"]
    lines += [f"Content-Length: {len(body)}", "Server: wikitrace-otel"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "wikitrace-otel"
    timeout = 60  # an idle or stalled connection frees its thread after this
    server: CollectorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        _logger.debug("%s %s", self.address_string(), format % args)

    def parse_request(self) -> bool:
        # http.server takes a request line without a version as HTTP/0.9, then waits for
        # headers such a request never sends; no OTLP client speaks it.
        if len(self.raw_requestline.split()) == 2:
            self.send_error(400, "the request line has no HTTP version: send HTTP/1.1")
            return False
        return super().parse_request()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's own refusals (a malformed request line, headers too long or
        too many, an unsupported version) in the same JSON form as ours; the connection closes."""
        status = status_pb2.Status(code=_GRPC_CODE_FOR_HTTP.get(code, 2), message=message or HTTPStatus(code).phrase)
        self._status = code
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.write(_raw_response(code, otlp.to_json(status), JSON, {}, True))

    def do_POST(self) -> None:
        self._serve(self._post)

    def do_GET(self) -> None:
        self._serve(self._get)

    def do_PUT(self) -> None:
        self._serve(self._other)

    def do_DELETE(self) -> None:
        self._serve(self._other)

    def do_PATCH(self) -> None:
        self._serve(self._other)

    def _serve(self, route: Callable[[], tuple[int, bytes, str]]) -> None:
        self.server.busy(1)
        started = time.perf_counter()
        self._json_errors = True
        self._unread_body = announces_body(self.headers)
        try:
            status, body, content_type = route()
            self._send(status, body, content_type, {}, False)
        except HttpError as exc:
            self._send_error(exc)
        except OSError as exc:  # the client went away or stalled past the timeout
            _logger.debug("connection from %s failed: %s", self.client_address[0], exc)
            self.close_connection = True
        except Exception:  # a bug answers 500 and is logged; the server keeps serving
            _logger.exception("request %s %s failed", self.command, self.path)
            self._send_error(HttpError(500, "internal error, see the collector's log", close=True))
        finally:
            self.server.busy(-1)
            _logger.debug(
                "%s %s %s from %s in %.1f ms",
                self.command,
                self.path,
                getattr(self, "_status", "-"),
                self.client_address[0],
                (time.perf_counter() - started) * 1000,
            )

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str], close: bool) -> None:
        close = close or self.server.stopping or self.close_connection
        self._status = status
        self.close_connection = close
        try:
            self.wfile.write(_raw_response(status, body, content_type, headers, close))
            if close and self._unread_body:
                self._drain_before_close()
        except OSError as exc:  # the client is gone: nothing left to tell it
            _logger.debug("could not answer %s: %s", self.client_address[0], exc)
            self.close_connection = True

    def _drain_before_close(self) -> None:
        """Half-close, then discard the rest of the request body (bounded in bytes and time)."""
        self.connection.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + _DRAIN_SECONDS
        drained = 0
        while drained < _DRAIN_BYTES:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.connection.settimeout(left)
            chunk = self.connection.recv(256 * 1024)
            if not chunk:
                return
            drained += len(chunk)

    def _send_error(self, exc: HttpError) -> None:
        headers = dict(exc.headers)
        if exc.status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="wikitrace-otel"'
        # OTLP: the error body is a google.rpc.Status in the request's encoding.
        status = status_pb2.Status(code=_GRPC_CODE_FOR_HTTP.get(exc.status, 2), message=exc.message)
        if self._json_errors:
            body, content_type = otlp.to_json(status), JSON
        else:
            body, content_type = status.SerializeToString(), PROTOBUF
        self._send(exc.status, body, content_type, headers, exc.close)

    def _tenant(self) -> str:
        tenant = self.server.keys.authenticate(self.headers)
        if tenant is None:
            self.server.receiver.note_refused("unauthenticated", client=self.client_address[0])
            raise HttpError(401, "missing or unknown API key: send 'Authorization: Bearer <key>'", close=True)
        return tenant

    def _other(self) -> tuple[int, bytes, str]:
        path = urlsplit(self.path).path
        if path in otlp.BY_PATH:
            raise HttpError(405, f"use POST for {path}", headers={"Allow": "POST"}, close=True)
        if path.startswith("/api/"):
            raise HttpError(405, f"use GET for {path}", headers={"Allow": "GET"}, close=True)
        raise HttpError(404, f"no such endpoint: {path}", close=True)

    def _get(self) -> tuple[int, bytes, str]:
        url = urlsplit(self.path)
        if not url.path.startswith("/api/"):
            return self._other()
        tenant = self._tenant()
        status, body = self.server.api.handle(url.path, dict(parse_qsl(url.query)), tenant)
        return status, body, JSON

    def _post(self) -> tuple[int, bytes, str]:
        signal = otlp.BY_PATH.get(urlsplit(self.path).path)
        if signal is None:
            return self._other()
        # Refusals answer in the request's encoding when it is protobuf, else JSON.
        self._json_errors = self._media_type() != PROTOBUF
        tenant = self._tenant()  # before anything else about the request is looked at
        is_json = self._content_type()
        gzipped = self._content_encoding()
        declared = self._declared_length()
        budget = self.server.receiver.budget
        # The body is not read yet: after a refusal the connection must close.
        keep, self.close_connection = self.close_connection, True
        held = self._hold(declared if declared is not None else self.server.max_body_bytes)
        self.close_connection = keep
        try:
            body = self._read_body(declared)
            if gzipped:
                body = gunzip(body, self.server.max_body_bytes)
                held += self._hold(len(body))
            return self._export(signal, tenant, body, is_json)
        finally:
            budget.release(held)

    def _hold(self, size: int) -> int:
        try:
            self.server.receiver.budget.acquire(size)
        except OverloadedError as exc:
            self.server.receiver.note_refused("overloaded")
            # OTLP allows 429 or 503 here. The server is what is overloaded, and OpenTelemetry
            # Python's HTTP exporter 1.41 retries 503 but drops a batch answered 429 (1.45 retries both).
            raise HttpError(503, f"overloaded, retry later ({exc})", headers=_retry_headers()) from None
        return size

    def _export(self, signal: otlp.Signal, tenant: str, body: bytes, is_json: bool) -> tuple[int, bytes, str]:
        try:
            decoded = self.server.receiver.export(signal, tenant, body, is_json)
        except otlp.BadRequestError as exc:
            self.server.receiver.note_refused("invalid")
            raise HttpError(400, str(exc)) from None
        except UnavailableError as exc:
            raise HttpError(503, str(exc), close=True, headers=_retry_headers()) from None
        answer = otlp.response(signal, decoded.rejected)
        if is_json:
            return 200, otlp.to_json(answer), JSON
        return 200, answer.SerializeToString(), PROTOBUF

    def _media_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()

    def _content_type(self) -> bool:
        """True for JSON, False for protobuf; 415 for anything else."""
        value = self._media_type()
        if value == PROTOBUF:
            return False
        if value == JSON:
            return True
        raise HttpError(415, f"unsupported Content-Type {value!r}: use {PROTOBUF} or {JSON}", close=True)

    def _content_encoding(self) -> bool:
        value = (self.headers.get("Content-Encoding") or "identity").strip().lower()
        if value not in ("gzip", "identity"):
            raise HttpError(415, f"unsupported Content-Encoding {value!r}: use gzip or none", close=True)
        return value == "gzip"

    def _declared_length(self) -> int | None:
        if is_chunked(self.headers):
            return None
        length = content_length(self.headers)
        if length is None:
            raise HttpError(411, "Content-Length required", close=True)
        if length > self.server.max_body_bytes:
            self.server.receiver.note_refused("too_large", length=length)
            raise HttpError(413, f"body of {length} bytes exceeds the limit of {self.server.max_body_bytes}", True)
        return length

    def _read_body(self, declared: int | None) -> bytes:
        if declared is None:
            body = read_chunked(self.rfile, self.server.max_body_bytes)
        else:
            body = self.rfile.read(declared)
            if len(body) < declared:
                raise HttpError(400, "the body ended early", close=True)
        self._unread_body = False
        return body
