"""Incremental indexing: what was appended to the store since the last refresh becomes new parts.

Read positions live in the manifest next to the parts they produced and are published with them
in one atomic replace, so a crash loses no span and indexes none twice: JSONL files by byte
offset per file (files are append-only and rotated by name; an unterminated last line waits for
its newline), the WAL by (segment, offset).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from wikitrace_otel.query import _wal
from wikitrace_otel.query._decode import rows_from_json, rows_from_request
from wikitrace_otel.query._parts import PartStore

_logger = logging.getLogger(__name__)

PART_ROWS: Final = 50_000
PART_BYTES: Final = 32 * 1024 * 1024
"""Or this much source data (large captured content makes few rows big)."""
"""Rows collected in memory before they are written as one part (bounds the indexer's memory)."""
_READ_BYTES: Final = 4 * 1024 * 1024


class Indexer:
    """Moves new spans of one store root into its :class:`PartStore`. Call under the writer lock."""

    def __init__(self, root: Path, parts: PartStore, connection: Any) -> None:
        self._root = root
        self._parts = parts
        self._connection = connection
        self.skipped_lines = 0
        self.skipped_records = 0
        self._published = ""

    def run(self) -> int:
        """Index everything new; returns the number of spans added."""
        manifest = json.loads(json.dumps(self._parts.manifest()))  # a private copy to update
        self._published = _positions(manifest)
        self._parts.collect_garbage(manifest)
        added = 0
        rows: list[tuple[Any, ...]] = []
        pending = 0
        for consumed in self._new_rows(manifest, rows):
            pending += consumed
            if len(rows) >= PART_ROWS or pending >= PART_BYTES:
                added += self._flush(manifest, rows)
                pending = 0
        added += self._flush(manifest, rows)
        while self._parts.merge(self._connection, manifest):
            self._parts.publish(manifest)
        return added

    def _flush(self, manifest: dict[str, Any], rows: list[tuple[Any, ...]]) -> int:
        if not rows:
            if _positions(manifest) != self._published:  # moved past data that held no spans
                self._parts.publish(manifest)
                self._published = _positions(manifest)
            return 0
        manifest["parts"].append(self._parts.write_part(self._connection, rows))
        manifest["spans"] += len(rows)
        manifest["next_batch"] += 1
        self._parts.publish(manifest)
        self._published = _positions(manifest)
        count = len(rows)
        rows.clear()
        return count

    def _new_rows(self, manifest: dict[str, Any], rows: list[tuple[Any, ...]]) -> Iterator[int]:
        """Append new rows to ``rows``, yielding the source bytes read after each chunk so the caller can flush.

        Positions in ``manifest`` advance only past data whose rows are in ``rows`` or flushed.
        """
        yield from self._jsonl(manifest, rows)
        yield from self._wal(manifest, rows)

    def _jsonl(self, manifest: dict[str, Any], rows: list[tuple[Any, ...]]) -> Iterator[int]:
        offsets: dict[str, int] = manifest["jsonl"]
        try:
            names = sorted(entry.name for entry in os.scandir(self._root) if entry.name.endswith(".jsonl"))
        except FileNotFoundError:
            names = []
        for gone in set(offsets) - set(names):
            del offsets[gone]  # deleted by the user; its spans stay indexed
        for name in names:
            path = self._root / name
            while True:
                chunk = _read_lines(path, offsets.get(name, 0))
                if chunk is None:
                    break
                start = offsets.get(name, 0)
                self._decode_lines(chunk, name, start, manifest["next_batch"], rows)
                offsets[name] = start + len(chunk)
                yield len(chunk)

    def _decode_lines(self, chunk: bytes, name: str, offset: int, batch: int, rows: list[tuple[Any, ...]]) -> None:
        for line in chunk.splitlines(keepends=True):
            where = offset
            offset += len(line)
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                rows.extend(list(rows_from_json(data, batch, (name, where))))
            except (KeyError, TypeError, ValueError, AttributeError) as error:
                # A damaged line is skipped whole: rows_from_json is consumed only when it succeeded.
                self.skipped_lines += 1
                _logger.debug("index: skipped malformed JSONL line: %r", error)

    def _wal(self, manifest: dict[str, Any], rows: list[tuple[Any, ...]]) -> Iterator[int]:
        from google.protobuf.message import DecodeError

        directory = self._root / "wal" / "traces"
        segment, offset = manifest["wal"]
        for position, payload in _wal.iter_records(directory, start=(segment, offset)):
            source = (f"wal/traces/{position[0]:020d}.wal", position[1] - _wal.HEADER_SIZE - len(payload))
            try:
                rows.extend(list(rows_from_request(payload, manifest["next_batch"], source)))
            except (DecodeError, ValueError, KeyError) as error:
                self.skipped_records += 1
                _logger.warning("index: skipped an undecodable WAL record before %s: %r", position, error)
            manifest["wal"] = list(position)
            yield _wal.HEADER_SIZE + len(payload)


def _read_lines(path: Path, offset: int) -> bytes | None:
    """Up to ~4 MiB of whole lines from ``offset``; None when no complete line follows it."""
    try:
        with open(path, "rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            if size <= offset:
                return None
            stream.seek(offset)
            data = stream.read(_READ_BYTES)
            end = data.rfind(b"\n")
            while end < 0 and len(data) < size - offset:  # one line longer than a chunk
                data += stream.read(_READ_BYTES)
                end = data.rfind(b"\n")
    except FileNotFoundError:
        return None
    return data[: end + 1] if end >= 0 else None


def _positions(manifest: dict[str, Any]) -> str:
    return json.dumps([manifest["jsonl"], manifest["wal"]], sort_keys=True)
