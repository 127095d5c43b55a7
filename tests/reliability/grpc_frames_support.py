"""Raw OTLP/gRPC calls over HTTP/2, for what the grpc client library never sends.

The grpc client frames every message correctly and keeps its own reserved headers, so the odd
``grpc-encoding`` values, compressed-flag mismatches, damaged gzip, wrong length prefixes and
missing or extra messages of :func:`frame_cases` go out through :func:`h2_call`, a client made
of the ``h2`` protocol library and a socket.

Some of these calls never reach the collector's code: gRPC itself answers them, with the status
its own table of library-generated codes gives (``doc/statuscodes.md`` in gRPC): INTERNAL for a
message it could not decompress, UNIMPLEMENTED for a unary call without exactly one message,
RESOURCE_EXHAUSTED for a message over the limit. grpcio answers INTERNAL, not the UNIMPLEMENTED of
gRPC's compression document, for an encoding it does not know, and takes the first message of a
unary call that has two; :class:`FrameCase` allows what grpcio does there and says why.
"""

from __future__ import annotations

import base64
import gzip
import random
import socket
import zlib
from dataclasses import dataclass
from urllib.parse import unquote

import grpc
import h2.config
import h2.connection
import h2.events
from fuzz_grpc_support import TIMEOUT_S, Answer, metadata
from fuzz_support import mutate
from hypothesis import strategies as st
from otlp_bodies_support import MAX_BODY, SERVICES, Expected, expect, requests

from grpc_h2_support import binary_header, call_headers, client_connection
from grpc_h2_support import grpc_frame as frame

FRAME_KINDS = (
    "plain",
    "compressed",
    "damaged compression",
    "flag without encoding",
    "unknown encoding",
    "no whole message",
    "two messages",
    "declared over the limit",
    "content type",
    "timeout header",
)
_UNKNOWN_ENCODINGS = ("x", "br", "snappy", "GZIP", "gzip, deflate", "", "identity,gzip")
_CONTENT_TYPES = ("application/grpc+proto", "application/grpc+json", "application/json", "text/plain")
_ENCODING_REFUSED = frozenset({"INTERNAL", "UNIMPLEMENTED", "RESET"})
_RESERVED = frozenset({"grpc-encoding", "grpc-accept-encoding", "content-type", "te"})


@dataclass(frozen=True)
class FrameCase:
    """One raw call: its HTTP/2 request, and what may end it."""

    kind: str
    path: str
    data: bytes
    headers: tuple[tuple[str, str], ...]
    tenant: str | None
    body: bytes
    """The request message the receiver parses if the call gets that far."""
    library: frozenset[str] = frozenset()
    """Statuses gRPC itself may answer before the receiver sees the message."""
    receiver: bool = True
    """Whether the receiver's answer to ``body`` is also a right end."""

    @property
    def expected(self) -> Expected:
        return expect(self.path, self.body, self.tenant)

    @property
    def allowed(self) -> frozenset[str]:
        return self.library | ({self.expected.code.name} if self.receiver else set())

    def describe(self) -> str:
        return f"raw {self.kind} ({len(self.data)} bytes of frames) on {self.path} with {self.headers!r}"


def _header_value(name: str, value: str | bytes) -> str:
    """A metadata value as HTTP/2 carries it: binary ``-bin`` values in base64."""
    if name.endswith("-bin"):
        return base64.b64encode(value if isinstance(value, bytes) else value.encode()).decode()
    return value if isinstance(value, str) else value.decode("latin-1")


@st.composite
def frame_cases(draw: st.DrawFn, kind: str) -> FrameCase:
    """A raw call of ``kind`` (one of :data:`FRAME_KINDS`) carrying a valid request of any signal."""
    service = draw(st.sampled_from(SERVICES))
    body = draw(requests(service)).SerializeToString()
    pairs, tenant = draw(metadata())
    # The kinds below set the reserved headers themselves.
    headers = tuple((name, _header_value(name, value)) for name, value in pairs if name not in _RESERVED)
    data, extra, library, receiver = frame(body), (), frozenset[str](), True
    if kind == "compressed":
        encoding = draw(st.sampled_from(("gzip", "deflate")))
        data, extra = frame(gzip.compress(body) if encoding == "gzip" else zlib.compress(body), 1), (encoding,)
    elif kind == "damaged compression":  # gzip checks a CRC: what inflates at all is the original body
        packed = gzip.compress(body)
        damaged = mutate(packed, random.Random(draw(st.integers(0, 2**32))))
        data, extra, library = frame(damaged, 1), ("gzip",), frozenset({"INTERNAL"})
    elif kind == "flag without encoding":  # grpcio 1.63 reads the message as it is
        data, extra, library = frame(body, 1), draw(st.sampled_from(((), ("identity",)))), frozenset({"INTERNAL"})
    elif kind == "unknown encoding":  # grpcio 1.63 resets the stream
        flag = draw(st.sampled_from((0, 1)))
        extra, library, receiver = (draw(st.sampled_from(_UNKNOWN_ENCODINGS)),), _ENCODING_REFUSED, False
        data = frame(body, flag)
    elif kind == "no whole message":
        cut = draw(st.integers(0, len(data) - 1))
        data, library, receiver = data[:cut], frozenset({"UNIMPLEMENTED"}), False
    elif kind == "two messages":  # grpcio stores the first; gRPC's table says UNIMPLEMENTED
        data, library = data + frame(draw(requests(service)).SerializeToString()), frozenset({"UNIMPLEMENTED"})
    elif kind == "declared over the limit":  # grpcio 1.63 waits for the whole message: it never comes
        length = draw(st.integers(MAX_BODY + 1, 2**32 - 1))
        data, library, receiver = frame(body, length=length), frozenset({"RESOURCE_EXHAUSTED", "UNIMPLEMENTED"}), False
    encodings = tuple(("grpc-encoding", encoding) for encoding in extra)
    content_type = draw(st.sampled_from(_CONTENT_TYPES)) if kind == "content type" else "application/grpc"
    if kind == "timeout header":  # gRPC refuses one it cannot parse; a valid one is a deadline like any other
        timeout = draw(st.sampled_from(("abc", "-1S", "1", "99999999H", "10S", "1n")))
        headers += (("grpc-timeout", timeout),)
        library = frozenset({"INTERNAL", "DEADLINE_EXCEEDED", "RESET"})
    all_headers = (("content-type", content_type), *encodings, *headers)
    return FrameCase(kind, service.path, data, all_headers, tenant, body, frozenset(library), receiver)


def h2_call(port: int, case: FrameCase, timeout: float = TIMEOUT_S) -> Answer:
    """Send ``case`` as the only stream of a fresh HTTP/2 connection; returns how the stream ended."""
    connection = client_connection()
    stream = connection.get_next_available_stream_id()
    connection.send_headers(stream, call_headers(case.path, *case.headers), end_stream=not case.data)
    step = connection.max_outbound_frame_size
    assert len(case.data) < connection.local_flow_control_window(stream), "larger calls need flow control"
    for start in range(0, len(case.data), step):
        connection.send_data(stream, case.data[start : start + step], end_stream=start + step >= len(case.data))
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(connection.data_to_send())
        return _read_answer(sock, connection)


def _read_answer(sock: socket.socket, connection: h2.connection.H2Connection) -> Answer:
    headers: dict[str, str] = {}
    data = b""
    while True:
        try:
            received = sock.recv(65536)
        except TimeoutError:
            return Answer("HANG", "no end of the stream in time")
        if not received:
            return Answer("RESET", "connection closed")
        for event in connection.receive_data(received):
            if isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
                headers.update((str(name), str(value)) for name, value in event.headers)
            elif isinstance(event, h2.events.DataReceived):
                data += event.data
                connection.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamReset | h2.events.ConnectionTerminated):
                return Answer("RESET", str(event.error_code))
            elif isinstance(event, h2.events.StreamEnded):
                return _grpc_answer(headers, data)
        sock.sendall(connection.data_to_send())


def _grpc_answer(headers: dict[str, str], data: bytes) -> Answer:
    status = grpc.StatusCode.UNKNOWN.name
    if headers.get("grpc-status", "").isdigit():
        status = next((code.name for code in grpc.StatusCode if code.value[0] == int(headers["grpc-status"])), status)
    trailers: dict[str, object] = {}
    if "grpc-status-details-bin" in headers:
        trailers["grpc-status-details-bin"] = binary_header(headers["grpc-status-details-bin"])
    response = data[5:] if status == "OK" else None
    # grpc-message is percent-encoded UTF-8.
    return Answer(status, unquote(headers.get("grpc-message", "")), response, trailers)


def stall_calls(port: int, path: str, count: int) -> socket.socket:
    """Start ``count`` calls on one connection that send half a message and wait: each stays in progress.

    Close the returned socket to end them.
    """
    connection = client_connection()
    headers = call_headers(path, ("content-type", "application/grpc"))
    for _ in range(count):
        stream = connection.get_next_available_stream_id()
        connection.send_headers(stream, headers)
        connection.send_data(stream, frame(b"\x0a\x00")[:3])
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
    sock.sendall(connection.data_to_send())
    return sock
