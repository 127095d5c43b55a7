"""gRPC spoken by hand over HTTP/2 (the ``h2`` library), for tests that need what the grpc client
never sends: half messages, wrong length prefixes, odd reserved headers, calls kept in order on
one connection."""

from __future__ import annotations

import base64
import struct

import h2.config
import h2.connection


def grpc_frame(message: bytes, flag: int = 0, length: int | None = None) -> bytes:
    """A gRPC length-prefixed message: compressed flag, 4-byte length (``len(message)`` unless given), bytes."""
    return bytes([flag]) + struct.pack(">I", len(message) if length is None else length) + message


def client_connection() -> h2.connection.H2Connection:
    """A client-side HTTP/2 connection with its preface queued (send ``data_to_send()``)."""
    connection = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    connection.initiate_connection()
    return connection


def call_headers(path: str, *more: tuple[str, str]) -> list[tuple[str, str]]:
    """The request headers of a gRPC call to ``path`` on 127.0.0.1, then ``more`` (content type included)."""
    start = [(":method", "POST"), (":scheme", "http"), (":path", path), (":authority", "127.0.0.1")]
    return [*start, ("te", "trailers"), *more]


def binary_header(value: str) -> bytes:
    """A ``-bin`` header or trailer's bytes: HTTP/2 carries them as unpadded base64."""
    return base64.b64decode(value + "=" * (-len(value) % 4))
