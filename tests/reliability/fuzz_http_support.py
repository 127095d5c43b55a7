"""A raw HTTP client and the hostile requests of the collector fuzz run.

:func:`exchange` writes bytes on a fresh connection, half-closes it (so the server never waits
for more from us) and reads every answer until the server closes; a read that takes longer than
the timeout is a hang. :func:`hostile_request` builds one of the request kinds below from a seeded
``random.Random``, so every run sends the same barrage.
"""

from __future__ import annotations

import gzip
import json
import random
import socket
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from fuzz_support import mutate, to_otlp_json
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
GZIP = {"Content-Encoding": "gzip"}
TIMEOUT_S = 10.0
"""Longest wait for the server's answers after the request was sent and the connection half-closed."""
LEGITIMATE_5XX = frozenset({501, 503, 505})
"""Unknown method, overloaded (OTLP's retry signal), unsupported HTTP version: the right answers."""


HTTP09 = 9
"""The "status" of an HTTP/0.9 answer (no status line)."""


class HangError(Exception):
    """The server neither answered nor closed within :data:`TIMEOUT_S`."""


def exchange(port: int, raw: bytes, timeout: float = TIMEOUT_S) -> list[int]:
    """Send ``raw``, half-close, and return the status of every answer read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(raw)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server refused early (413, 431...) and closed: its answer is still readable
            pass
        chunks = []
        while True:
            try:
                data = sock.recv(65536)
            except TimeoutError:
                raise HangError(raw[:120]) from None
            except ConnectionResetError:
                break
            if not data:
                break
            chunks.append(data)
    return statuses(b"".join(chunks))


def statuses(stream: bytes) -> list[int]:
    """The status codes of the HTTP/1.x responses in ``stream``, skipping each body by its length.

    An answer without a status line is :data:`HTTP09`: what ``http.server`` sends to a request
    line of two words, which HTTP/0.9 had.
    """
    if stream and not stream.startswith(b"HTTP/"):
        return [HTTP09]
    found = []
    while stream.startswith(b"HTTP/"):
        head, _, rest = stream.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        found.append(int(lines[0].split()[1]))
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        stream = rest[length:]
    return found


def request(
    method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None, length: bool = True
) -> bytes:
    """One HTTP/1.1 request as bytes; ``length`` adds a Content-Length of the body."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def export(body: bytes, content_type: str = PROTOBUF, headers: dict[str, str] | None = None) -> bytes:
    """A POST /v1/traces request; ``headers`` are added (and may replace the Content-Type)."""
    return request("POST", "/v1/traces", body, {"Content-Type": content_type, **(headers or {})})


@dataclass
class Sent:
    """One hostile request: its bytes, and the body the collector decodes if it accepts it."""

    kind: str
    raw: bytes
    body: bytes | None = None
    """The OTLP body as the receiver will decode it (after gzip), when the request may be accepted."""
    is_json: bool = False
    traces: bool = True
    """Whether the request goes to the traces endpoint (else, when accepted, it stores no spans)."""


def gzip_bomb(inflated: int) -> bytes:
    """A gzip stream of ``inflated`` zero bytes (about 1/1000 of that on the wire)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    parts = [compressor.compress(zeros) for _ in range(inflated >> 20)]
    return b"".join(parts) + compressor.flush()


def _chunked(body: bytes, rng: random.Random) -> bytes:
    out = b""
    while body:
        size = rng.randint(1, 64)
        out += f"{size:x}\r\n".encode() + body[:size] + b"\r\n"
        body = body[size:]
    return out + b"0\r\n\r\n"


# Header values: printable ASCII and latin-1 letters. Latin-1 digits such as "²" are left out: they
# are the subject of an xfail test in test_fuzz_collector_http.py.
_HEADER_CHARS = "".join(chr(c) for c in range(0x20, 0x7F)) + "éàÿ"


def _valid(request_: ExportTraceServiceRequest, rng: random.Random) -> Sent:
    if rng.random() < 0.5:
        body = request_.SerializeToString()
        return Sent("valid protobuf", export(body), body)
    body = json.dumps(to_otlp_json(request_)).encode()
    return Sent("valid json", export(body, JSON), body, True)


def _mutated(request_: ExportTraceServiceRequest, rng: random.Random) -> Sent:
    is_json = rng.random() < 0.4
    body = json.dumps(to_otlp_json(request_)).encode() if is_json else request_.SerializeToString()
    damaged = mutate(body, rng)
    return Sent("damaged body", export(damaged, JSON if is_json else PROTOBUF), damaged, is_json)


def _gzipped(request_: ExportTraceServiceRequest, rng: random.Random) -> Sent:
    body = request_.SerializeToString()
    packed = gzip.compress(body)
    choice = rng.randrange(4)
    if choice == 0:
        return Sent("gzip", export(packed, headers=GZIP), body)
    if choice == 1:
        return Sent("gzip truncated", export(packed[: rng.randrange(len(packed))], headers=GZIP))
    if choice == 2:  # gzip's header fields are not checked and its CRC is: if accepted, the body is intact
        return Sent("gzip damaged", export(mutate(packed, rng), headers=GZIP), body)
    encoding = rng.choice(["br", "deflate", "x", "gzip, br"])
    return Sent("encoding unknown", export(packed, headers={"Content-Encoding": encoding}))


def _framing(request_: ExportTraceServiceRequest, rng: random.Random) -> Sent:
    body = request_.SerializeToString()
    head = f"POST /v1/traces HTTP/1.1\r\nContent-Type: {PROTOBUF}\r\n"
    choice = rng.randrange(6)
    if choice == 0:  # chunked, well formed
        raw = (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + _chunked(body, rng)
        return Sent("chunked", raw, body)
    if choice == 1:  # chunked, then cut short or with a bad size line (if accepted, the body was whole)
        chunks = _chunked(body, rng)
        if rng.random() < 0.5:
            chunks = chunks[: rng.randrange(len(chunks))]
        else:
            bad = rng.choice([b"-1", b"zz", b"", b"1" * 40, b"ffffffffffffffff", b" "])
            chunks = bad + chunks[chunks.index(b"\r\n") :]
        return Sent("chunked damaged", (head + "Transfer-Encoding: chunked\r\n\r\n").encode() + chunks, body)
    if choice == 2:  # declares more than it sends
        return Sent("short body", (head + f"Content-Length: {len(body) + rng.randint(1, 99)}\r\n\r\n").encode() + body)
    if choice == 3:  # no length at all
        return Sent("no length", (head + "\r\n").encode() + body)
    if choice == 4:  # a bad length
        bad = rng.choice(["abc", "-1", "1e3", "0x10", "", " ", "99999999999999999999999", "1, 2", "+5"])
        return Sent("bad length", (head + f"Content-Length: {bad}\r\n\r\n").encode() + body)
    return Sent("oversized", (head + f"Content-Length: {rng.randint(1 << 21, 1 << 40)}\r\n\r\n").encode())


def _content_type(request_: ExportTraceServiceRequest, rng: random.Random) -> Sent:
    body = request_.SerializeToString()
    kind = rng.choice(["text/plain", "", "application/json", "application/protobuf", "multipart/form-data", "*/*"])
    return Sent("content type", export(body, kind))


def _method_or_path(request_: ExportTraceServiceRequest, rng: random.Random) -> Sent:
    method = rng.choice(["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO", "POST"])
    path = rng.choice(
        [
            "/v1/traces",
            "/v1/metrics",
            "/",
            "//v1//traces",
            "/v1/traces/../../etc/passwd",
            "/api/",
            "/api/traces/" + "g" * 32,
            "/api/traces/" + "a" * rng.randint(0, 40),
            "/api/nope",
            "/%00",
            "/" + "".join(rng.choice("abc/%?#.") for _ in range(rng.randint(1, 40))),
            "*",
            "http://elsewhere.example/v1/traces",
        ]
    )
    body = request_.SerializeToString()
    raw = request(method, path, body, {"Content-Type": PROTOBUF})
    # An absolute URL is a valid request target: POST to it is an export like any other.
    traces = urlsplit(path).path == "/v1/traces"
    return Sent("method/path", raw, body, traces=traces)


def _api_query(request_: ExportTraceServiceRequest, rng: random.Random) -> Sent:
    key = rng.choice(["service", "model", "user", "status", "since", "until", "limit", "search", "by", "x", ""])
    value = rng.choice(
        [
            "x'%20OR%201=1%20--",
            "%00",
            "%ff%fe",
            "1h",
            "-1h",
            "2026-13-01",
            "0",
            "100001",
            "9" * 20 + "w",  # beyond int64 in nanoseconds; larger ones are in the xfail tests
            "%" + "".join(rng.choice("0123456789abcdefg") for _ in range(2)),
            "".join(rng.choice("abc%'\"_;-") for _ in range(rng.randint(0, 30))),
        ]
    )
    route = rng.choice(["/api/traces", "/api/stats", "/api/health"])
    return Sent("api query", request("GET", f"{route}?{key}={value}&{key}={value}", length=False))


def _protocol(request_: ExportTraceServiceRequest, rng: random.Random) -> Sent:
    choice = rng.randrange(6)
    if choice == 0:
        return Sent("garbage line", rng.randbytes(rng.randint(1, 200)) + b"\r\n\r\n")
    if choice == 1:
        return Sent("huge path", request("GET", "/api/" + "a" * 70_000, length=False))
    if choice == 2:
        return Sent("huge header", export(b"", headers={"X-Big": "v" * 70_000}))
    if choice == 3:
        headers = {f"X-H{index}": "v" for index in range(rng.randint(101, 300))}
        return Sent("many headers", request("POST", "/v1/traces", b"", headers))
    if choice == 4:
        value = "".join(rng.choice(_HEADER_CHARS) for _ in range(rng.randint(0, 80)))
        name = rng.choice(["Content-Type", "Content-Encoding", "Authorization", "Transfer-Encoding", "X-Junk"])
        body = request_.SerializeToString()
        return Sent("header value", export(body, headers={name: value}), body)
    version = rng.choice(["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTX/1.1", "HTTP/1", ""])
    return Sent("version", f"POST /v1/traces {version}\r\nContent-Length: 0\r\n\r\n".encode())


KINDS: tuple[Callable[[ExportTraceServiceRequest, random.Random], Sent], ...] = (
    _valid,
    _mutated,
    _mutated,
    _gzipped,
    _framing,
    _content_type,
    _method_or_path,
    _api_query,
    _protocol,
)


def hostile_request(request_: ExportTraceServiceRequest, rng: random.Random) -> Sent:
    """One request of a random kind, built around ``request_`` where it carries a body."""
    return rng.choice(KINDS)(request_, rng)
