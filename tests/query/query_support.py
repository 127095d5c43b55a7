"""Helpers for the query tests: WAL segments written per the segment format, span comparisons."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan

AgentRun = Callable[..., str]
"""The ``agent`` fixture: runs one instrumented agent call into the store, returns its trace id."""


def wal_record(payload: bytes) -> bytes:
    """One WAL record: ``<II`` length and CRC-32, then the payload."""
    return struct.pack("<II", len(payload), zlib.crc32(payload)) + payload


def write_wal(root: Path, batches: Sequence[Sequence[ReadableSpan]], segment: int = 1, *, tail: bytes = b"") -> Path:
    """Append one record per batch (a serialized ``ExportTraceServiceRequest``) to a segment, then ``tail``."""
    directory = root / "wal" / "traces"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{segment:020d}.wal"
    with open(path, "ab") as stream:
        for spans in batches:
            stream.write(wal_record(encode_spans(list(spans)).SerializeToString()))
        stream.write(tail)
    return path


def hex_id(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def sdk_attributes(span: ReadableSpan) -> dict[str, Any]:
    """The SDK span's attributes as the query API returns them (tuples as lists)."""
    return {key: list(value) if isinstance(value, tuple) else value for key, value in (span.attributes or {}).items()}


def by_trace(spans: Sequence[ReadableSpan]) -> dict[str, list[ReadableSpan]]:
    result: dict[str, list[ReadableSpan]] = {}
    for span in spans:
        result.setdefault(hex_id(span.context.trace_id, 32), []).append(span)
    return result
