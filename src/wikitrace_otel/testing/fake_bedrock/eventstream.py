"""AWS event-stream framing (``application/vnd.amazon.eventstream``), as Bedrock streams use it.

One message is::

    total length (uint32) | headers length (uint32) | CRC32 of those 8 bytes
    headers: name length (uint8), name, value type (uint8; 7 = string), length (uint16), value
    payload
    CRC32 of everything before it

all big-endian. Bedrock's events carry ``:message-type`` (``event`` or ``exception``),
``:event-type`` / ``:exception-type`` and ``:content-type: application/json``; the payload is
the event's JSON (blobs such as ``chunk.bytes`` base64-encoded inside it).
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

Frame = dict[str, Any]
"""``{"headers": {name: str value}, "payload": JSON}``: one message before encoding."""

_STRING = 7


def event(event_type: str, payload: Any) -> Frame:
    """An ``event`` message, e.g. ``event("messageStart", {"role": "assistant"})``."""
    return {"headers": {":message-type": "event", ":event-type": event_type}, "payload": payload}


def chunk(body: Any) -> Frame:
    """An ``invoke_model_with_response_stream`` chunk carrying the model's JSON ``body``."""
    data = json.dumps(body, separators=(",", ":")).encode()
    return event("chunk", {"bytes": base64.b64encode(data).decode("ascii")})


def exception(exception_type: str, message: str = "Fake stream error", **fields: Any) -> Frame:
    """An ``exception`` message, e.g. ``exception("modelStreamErrorException", "boom")``."""
    headers = {":message-type": "exception", ":exception-type": exception_type}
    return {"headers": headers, "payload": {"message": message, **fields}}


def encode(frame: Frame) -> bytes:
    """One message on the wire."""
    headers = b"".join(
        _header(name, value) for name, value in {**frame["headers"], ":content-type": "application/json"}.items()
    )
    payload = json.dumps(frame["payload"], separators=(",", ":")).encode()
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(headers))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + headers + payload
    return head + struct.pack(">I", zlib.crc32(head))


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return struct.pack(">B", len(raw_name)) + raw_name + struct.pack(">BH", _STRING, len(raw_value)) + raw_value
