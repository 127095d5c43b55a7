"""Reading the collector's write-ahead log, from its segment format.

A segment ``<n:020d>.wal`` is a sequence of records, each an 8-byte header
``struct.pack("<II", len(payload), zlib.crc32(payload))`` and the payload. Reading stops at the
first incomplete or CRC-failing record of the last segment (it may be mid-write, or torn by a
crash) and resumes from there on the next call; in an earlier segment such a record ends that
segment (logged, counted in :data:`skipped_segment_tails`).

:func:`iter_records` uses the collector's own reader (``wikitrace_otel.collector.wal``) when it
provides one, so both sides agree on the format.
"""

from __future__ import annotations

import logging
import os
import re
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

_logger = logging.getLogger(__name__)

Position = tuple[int, int]
"""(segment number, byte offset after the last record read)."""

_HEADER = struct.Struct("<II")
HEADER_SIZE = _HEADER.size
_SEGMENT = re.compile(r"^(\d{20})\.wal$")

skipped_segment_tails = 0
"""Damaged records that ended an earlier (not the last) segment, since the process started."""


def segments(directory: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """The directory's segments as (number, path), in order; empty when it does not exist."""
    try:
        names = os.listdir(directory)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = [(int(match.group(1)), Path(directory, name)) for name in names if (match := _SEGMENT.match(name))]
    return sorted(found)


def iter_records(directory: str | os.PathLike[str], start: Position = (0, 0)) -> Iterator[tuple[Position, bytes]]:
    """Yield ``(position_after_record, payload)`` for each record from ``start`` on.

    Args:
        directory: the WAL directory of one signal (``<root>/wal/traces``).
        start: where the previous read stopped; ``(0, 0)`` reads from the first segment.
    """
    reader = _collector_reader()
    if reader is None:
        yield from read_records(directory, start)
        return
    for position, payload in reader(directory, start=start):
        yield (int(position[0]), int(position[1])), bytes(payload)


def read_records(directory: str | os.PathLike[str], start: Position = (0, 0)) -> Iterator[tuple[Position, bytes]]:
    """This module's own reader of the segment format; :func:`iter_records` without the collector."""
    found = [item for item in segments(directory) if item[0] >= start[0]]
    for index, (number, path) in enumerate(found):
        offset = start[1] if number == start[0] else 0
        last = index == len(found) - 1
        yield from _segment_records(number, path, offset, last)


def _segment_records(number: int, path: Path, offset: int, last: bool) -> Iterator[tuple[Position, bytes]]:
    global skipped_segment_tails
    try:
        stream = path.open("rb")
    except FileNotFoundError:  # removed by retention between listing and opening
        return
    with stream:
        size = os.fstat(stream.fileno()).st_size
        stream.seek(offset)
        while offset < size:
            payload = _record(stream, offset, size)
            if payload is None:
                if not last:
                    skipped_segment_tails += 1
                    _logger.warning("WAL segment %s: damaged record at byte %d ends the segment", path, offset)
                return
            offset += _HEADER.size + len(payload)
            yield (number, offset), payload


def _record(stream: BinaryIO, offset: int, size: int) -> bytes | None:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    length, crc = _HEADER.unpack(header)
    if offset + _HEADER.size + length > size:  # incomplete (or a torn length): never read past the end
        return None
    payload = stream.read(length)
    if len(payload) < length or zlib.crc32(payload) != crc:
        return None
    return payload


def _collector_reader() -> Callable[..., Iterator[tuple[Position, bytes]]] | None:
    try:
        from wikitrace_otel.collector import wal  # type: ignore[attr-defined]
    except ImportError:
        return None
    return getattr(wal, "iter_records", None)
