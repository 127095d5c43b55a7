"""The collector's write-ahead log: append-only segment files of length- and CRC-framed records.

Layout and format (shared with the query engine, so keep them stable)::

    <store>/wal/<signal>/<n:020d>.wal       n = 1, 2, 3 ... increasing

A segment is a sequence of records. A record is an 8-byte header
``struct.pack("<II", len(payload), zlib.crc32(payload))`` followed by the payload, the serialized
protobuf ``Export{Trace,Metrics,Logs}ServiceRequest`` (always protobuf, even when the client sent
JSON). Segments roll over at 64 MiB and a record never spans two segments.

Reading (:func:`iter_records`) stops at the first incomplete or CRC-failing record of the *last*
segment, which may be mid-write or torn by a crash, so a later call resumes from there. In an
earlier segment such a record ends that segment: it is counted in :class:`WalReadStats` and
logged. On start-up :class:`WalWriter` truncates a torn tail of the last segment before appending.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

_logger = logging.getLogger(__name__)

HEADER: Final = struct.Struct("<II")
"""Record header: payload length, then ``zlib.crc32`` of the payload, both little-endian uint32."""
SEGMENT_BYTES: Final = 64 * 1024 * 1024
"""A segment that would grow past this size is closed and the next one started."""
SUFFIX: Final = ".wal"
MAX_RECORD_BYTES: Final = 0xFFFFFFFF
"""The header stores the length in 32 bits."""

Position = tuple[int, int]
"""``(segment_number, byte_offset)``: where the next record starts."""


@dataclass
class WalReadStats:
    """What :func:`iter_records` skipped: damaged records that ended an earlier segment."""

    damaged_segments: int = 0
    """Segments (not the last one) whose tail after a damaged record was skipped."""
    skipped_bytes: int = 0
    """Bytes skipped in those segments."""


def segment_name(number: int) -> str:
    """The file name of segment ``number``: 20 zero-padded digits and ``.wal``."""
    return f"{number:020d}{SUFFIX}"


def list_segments(directory: str | os.PathLike[str]) -> list[tuple[int, Path]]:
    """The segments of ``directory`` as ``(number, path)`` in increasing order; [] if it does not exist."""
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    found = []
    for name in names:
        stem = name[: -len(SUFFIX)]
        if name.endswith(SUFFIX) and len(stem) == 20 and stem.isdigit():
            found.append((int(stem), Path(directory, name)))
    found.sort()
    return found


def encode_record(payload: bytes) -> bytes:
    """The header of one record (the payload follows it unchanged)."""
    return HEADER.pack(len(payload), zlib.crc32(payload))


def _read_record(stream: BinaryIO) -> bytes | None:
    """The next record's payload, or None if it is incomplete or fails its CRC."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    length, crc = HEADER.unpack(header)
    # A damaged header may declare gigabytes: never ask for more than the file still holds.
    if length > os.fstat(stream.fileno()).st_size - stream.tell():
        return None
    payload = stream.read(length)
    if len(payload) < length or zlib.crc32(payload) != crc:
        return None
    return payload


def iter_records(
    directory: str | os.PathLike[str], start: Position = (0, 0), stats: WalReadStats | None = None
) -> Iterator[tuple[Position, bytes]]:
    """Yield ``(position_after_record, payload)`` for every complete record from ``start`` on.

    Args:
        directory: one signal's WAL directory, e.g. ``<store>/wal/traces``.
        start: a position yielded earlier (resume after that record), or ``(0, 0)`` for the beginning.
        stats: counts damaged records that ended an earlier segment.

    The last segment may be growing while it is read: reading stops before its first incomplete
    record, and a later call with the last position yielded picks up what was appended since.
    """
    segments = [(number, path) for number, path in list_segments(directory) if number >= start[0]]
    for index, (number, path) in enumerate(segments):
        last = index == len(segments) - 1
        offset = start[1] if number == start[0] else 0
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed below; the generator may be abandoned
        except FileNotFoundError:  # removed by an operator between listing and opening
            continue
        with stream:
            stream.seek(offset)
            while True:
                payload = _read_record(stream)
                if payload is None:
                    break
                offset += HEADER.size + len(payload)
                yield (number, offset), payload
            if last:
                return
            _note_damage(path, offset, stats)


def _note_damage(path: Path, offset: int, stats: WalReadStats | None) -> None:
    size = path.stat().st_size
    if offset >= size:
        return
    _logger.warning("WAL segment %s is damaged at byte %d; skipping its last %d bytes", path, offset, size - offset)
    if stats is not None:
        stats.damaged_segments += 1
        stats.skipped_bytes += size - offset


def valid_length(path: Path) -> int:
    """Length of the longest prefix of ``path`` made of complete, CRC-valid records."""
    offset = 0
    with open(path, "rb") as stream:
        while (payload := _read_record(stream)) is not None:
            offset += HEADER.size + len(payload)
    return offset


def _fsync_directory(directory: Path) -> None:
    """Make a new file's directory entry durable (POSIX only; Windows has no directory fsync)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_durable_directory(directory: Path) -> None:
    """``mkdir -p``, then fsync each new directory's parent so the new entries survive a crash."""
    missing = []
    path = directory
    while not path.exists():
        missing.append(path)
        path = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    for created in reversed(missing):
        _fsync_directory(created.parent)


class WalWriter:
    """Appends records to one signal's WAL directory. Not thread-safe: one writer thread owns it.

    ``append`` writes without syncing; ``sync`` makes everything appended so far durable. The
    group committer calls ``append`` for a batch of requests, then ``sync`` once, then answers.
    """

    def __init__(self, directory: str | os.PathLike[str], segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self._segment_bytes = segment_bytes
        _make_durable_directory(self.directory)
        segments = list_segments(self.directory)
        self._number = segments[-1][0] if segments else 0
        self._fd = -1
        self._size = 0
        self._dirty = False
        if segments:
            self._open_existing(segments[-1][1])

    def _open_existing(self, path: Path) -> None:
        good = valid_length(path)
        self._fd = os.open(path, os.O_WRONLY | getattr(os, "O_BINARY", 0))
        size = os.fstat(self._fd).st_size
        if good < size:
            _logger.warning("WAL segment %s has a torn tail: truncating %d bytes", path, size - good)
            os.ftruncate(self._fd, good)
            os.fsync(self._fd)
        os.lseek(self._fd, good, os.SEEK_SET)
        self._size = good

    def _roll(self) -> None:
        self._close_fd()
        self._number += 1
        path = self.directory / segment_name(self._number)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
        self._size = 0
        _fsync_directory(self.directory)

    def append(self, payloads: Sequence[bytes]) -> None:
        """Write ``payloads`` as records (not yet durable). On failure nothing of this call remains."""
        parts: list[bytes] = []
        pending = 0
        for payload in payloads:
            if len(payload) > MAX_RECORD_BYTES:
                raise ValueError("WAL record too large")
            record = HEADER.size + len(payload)
            if self._fd < 0 or (self._size + pending > 0 and self._size + pending + record > self._segment_bytes):
                self._write(parts)
                parts, pending = [], 0
                self._roll()
            parts += (encode_record(payload), payload)
            pending += record
        self._write(parts)

    def _write(self, parts: list[bytes]) -> None:
        if not parts:
            return
        data = b"".join(parts)
        start = self._size
        try:
            view = memoryview(data)
            while view:
                written = os.write(self._fd, view)
                self._size += written
                view = view[written:]
        except OSError:
            self._undo(start)
            raise
        self._dirty = True

    def _undo(self, start: int) -> None:
        """Cut a failed write off so no partial record stays in the middle of a segment."""
        try:
            os.ftruncate(self._fd, start)
            os.lseek(self._fd, start, os.SEEK_SET)
            self._size = start
        except OSError:
            # The segment may now end in a partial record: continue in a fresh segment, where a
            # reader treats that tail as the (counted) end of an earlier segment.
            fd, self._fd, self._dirty = self._fd, -1, False
            os.close(fd)

    def sync(self) -> None:
        """fsync the current segment if anything was appended since the last sync."""
        if self._dirty and self._fd >= 0:
            os.fsync(self._fd)
            self._dirty = False

    def _close_fd(self) -> None:
        if self._fd >= 0:
            if self._dirty:
                os.fsync(self._fd)
                self._dirty = False
            os.close(self._fd)
            self._fd = -1

    def close(self) -> None:
        """Sync and close the current segment."""
        self._close_fd()
