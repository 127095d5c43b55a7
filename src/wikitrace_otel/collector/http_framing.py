"""How the HTTP receiver finds where a request body ends, and inflates it.

Strict on purpose: the receiver sits on a network, and a lenient reading of the framing is how
a request smuggles a second one past a proxy in front of it. A body is framed by
``Content-Length`` (ASCII digits only) or by ``Transfer-Encoding: chunked`` (chunk sizes of hex
digits only, each chunk followed by CRLF, a bounded trailer section); anything else is refused
with 400 and the connection closed, since the server can no longer tell where the next
request starts (RFC 9112, sections 6 and 7.1).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Any, Final

_CHUNK_SIZE: Final = re.compile(rb"[0-9A-Fa-f]{1,16}")
_LINE_BYTES: Final = 1024  # a chunk-size line (with extensions) or a trailer line
_TRAILER_LINES: Final = 64
_LINE_ENDS: Final = (b"\r\n", b"\n")


class HttpError(Exception):
    """An answer other than success: HTTP status, message, and whether to close the connection."""

    def __init__(self, status: int, message: str, close: bool = False, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.close = close
        self.headers = headers or {}


def is_chunked(headers: Mapping[str, str]) -> bool:
    """Whether the body is sent with ``Transfer-Encoding: chunked``."""
    return (headers.get("Transfer-Encoding") or "").strip().lower() == "chunked"


def content_length(headers: Mapping[str, str]) -> int | None:
    """The declared ``Content-Length``; None when absent. Raises 400 unless it is ASCII digits
    (``str.isdigit`` alone would take "²" or Arabic-Indic digits)."""
    value = headers.get("Content-Length")
    if value is None:
        return None
    value = value.strip()
    if not (value.isascii() and value.isdigit()):
        raise HttpError(400, "invalid Content-Length", close=True)
    return int(value)


def announces_body(headers: Mapping[str, str]) -> bool:
    """Whether the request says a body follows (chunked, or a positive valid length)."""
    if is_chunked(headers):
        return True
    try:
        length = content_length(headers)
    except HttpError:
        return False
    return bool(length)


def read_chunked(rfile: Any, limit: int) -> bytes:
    """A ``Transfer-Encoding: chunked`` body of at most ``limit`` bytes (413 beyond it)."""
    parts: list[bytes] = []
    total = 0
    while True:
        size = _chunk_size(rfile.readline(_LINE_BYTES))
        if size == 0:
            _skip_trailers(rfile)
            return b"".join(parts)
        total += size
        if total > limit:
            raise HttpError(413, f"body exceeds the limit of {limit} bytes", close=True)
        chunk = rfile.read(size)
        if len(chunk) < size:
            raise HttpError(400, "the body ended early", close=True)
        parts.append(chunk)
        if rfile.readline(_LINE_BYTES) not in _LINE_ENDS:
            raise HttpError(400, "invalid chunked body: a chunk is longer than its size", close=True)


def _chunk_size(line: bytes) -> int:
    """The size on a chunk-size line, extensions (after ``;``) ignored."""
    digits = line.split(b";", 1)[0].strip()
    if not line.endswith(b"\n") or _CHUNK_SIZE.fullmatch(digits) is None:
        raise HttpError(400, "invalid chunked body: a chunk size must be hex digits", close=True)
    return int(digits, 16)


def _skip_trailers(rfile: Any) -> None:
    """Read past the trailer section (ignored), up to its empty line."""
    for _ in range(_TRAILER_LINES):
        line = rfile.readline(_LINE_BYTES)
        if line in _LINE_ENDS:
            return
        if not line:
            raise HttpError(400, "the body ended early", close=True)
    raise HttpError(400, f"invalid chunked body: more than {_TRAILER_LINES} trailer lines", close=True)


def gunzip(body: bytes, limit: int) -> bytes:
    """Decompress a gzip body, refusing (413) to inflate past ``limit`` bytes."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit + 1)
        if len(data) > limit or inflater.unconsumed_tail:
            raise HttpError(413, f"the decompressed body exceeds the limit of {limit} bytes")
        if not inflater.eof:
            raise HttpError(400, "truncated gzip body")
    except zlib.error as exc:
        raise HttpError(400, f"invalid gzip body: {exc}") from None
    return data
