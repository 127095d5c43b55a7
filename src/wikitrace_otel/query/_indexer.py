"""Incremental indexing: what was appended to the store since the last refresh becomes new parts.

Read positions live in the manifest next to the parts they produced and are published with them
in one atomic replace, so a crash loses no span and indexes none twice: JSONL files by byte
offset per file (files are append-only and rotated by name; an unterminated last line waits for
its newline), the WAL by (segment, offset).
"""

from __future__ import annotations

import contextlib
import copy
import gc
import json
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from wikitrace_otel.query import _wal
from wikitrace_otel.query._columns import Columns
from wikitrace_otel.query._decode import add_json, add_request
from wikitrace_otel.query._parts import PartStore

_logger = logging.getLogger(__name__)

PART_ROWS: Final = 50_000
"""Rows collected in memory before they are written as one part (bounds the indexer's memory)."""
PART_BYTES: Final = 32 * 1024 * 1024
"""Or this much source data (large captured content makes few rows big)."""
_READ_BYTES: Final = 4 * 1024 * 1024


class Indexer:
    """Moves new spans of one store root into its :class:`PartStore`. Call under the writer lock.

    Decoding runs in the calling thread, with Python's cyclic garbage collector paused (see
    :func:`_gc_paused`); each part's bulk load into Parquet runs in a second thread while
    the next part is decoded (DuckDB releases the GIL), and parts are published in order. At most
    two parts are in memory: the one being decoded and the one being loaded.
    """

    def __init__(self, root: Path, parts: PartStore, connection: Any) -> None:
        self._root = root
        self._parts = parts
        self._connection = connection
        self.skipped_lines = 0
        self.skipped_records = 0
        self._published: dict[str, Any] = {}
        self._loading: _Load | None = None

    def run(self) -> int:
        """Index everything new; returns the number of spans added."""
        with _gc_paused():
            return self._run()

    def _run(self) -> int:
        manifest = copy.deepcopy(self._parts.manifest())  # read positions advance here as data is read
        self._parts.collect_garbage(manifest)
        self._published = copy.deepcopy(manifest)  # what readers see, updated as parts are published
        added = 0
        columns = Columns()
        try:
            for _chunk in self._new_rows(manifest, columns):
                if len(columns) >= PART_ROWS or columns.source_bytes >= PART_BYTES:
                    added += self._cut(manifest, columns)
            added += self._cut(manifest, columns)
            self._finish_loading()
        finally:
            if self._loading is not None:  # an error on the way: let the load end before leaving
                self._loading.wait()
                self._loading = None
        if _positions(manifest) != _positions(self._published):  # moved past data that held no spans
            self._published.update(jsonl=manifest["jsonl"], wal=manifest["wal"])
            self._parts.publish(self._published)
        while self._parts.merge(self._connection, self._published):
            self._parts.publish(self._published)
        return added

    def _cut(self, manifest: dict[str, Any], columns: Columns) -> int:
        """Start loading ``columns`` as a part (publishing the previous one first); returns its row count."""
        if not columns:
            return 0
        name, load = self._parts.new_part(columns)  # the CSV, written in this thread
        state = {"jsonl": dict(manifest["jsonl"]), "wal": list(manifest["wal"])}
        manifest["next_batch"] += 1  # rows read from here on belong to the next refresh batch
        state.update(next_batch=manifest["next_batch"], rows=len(columns))
        state["min_batch"], state["max_batch"] = min(columns.data[-1]), max(columns.data[-1])
        count = len(columns)
        columns.clear()
        self._finish_loading()
        self._loading = _Load(self._parts, self._connection, name, load, state)
        return count

    def _finish_loading(self) -> None:
        """Wait for the part being loaded and publish it with the read positions it covers."""
        loading, self._loading = self._loading, None
        if loading is None:
            return
        state = loading.result()
        entry = {"name": loading.name, "rows": state["rows"], "level": 0}
        entry.update(min_batch=state["min_batch"], max_batch=state["max_batch"])
        published = self._published
        published["parts"].append(entry)
        published["spans"] += state["rows"]
        published.update(next_batch=state["next_batch"], jsonl=state["jsonl"], wal=state["wal"])
        self._parts.publish(published)

    def _new_rows(self, manifest: dict[str, Any], columns: Columns) -> Iterator[None]:
        """Append new rows to ``columns``, yielding after each chunk so the caller can cut a part.

        Positions in ``manifest`` advance only past data whose rows are in ``columns`` or cut.
        """
        yield from self._jsonl(manifest, columns)
        yield from self._wal(manifest, columns)

    def _jsonl(self, manifest: dict[str, Any], columns: Columns) -> Iterator[None]:
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
                self._decode_lines(chunk, name, start, manifest["next_batch"], columns)
                offsets[name] = start + len(chunk)
                columns.source_bytes += len(chunk)
                yield None

    def _decode_lines(self, chunk: bytes, name: str, offset: int, batch: int, columns: Columns) -> None:
        loads = json.loads
        for line in chunk.splitlines(keepends=True):
            where = offset
            offset += len(line)
            if not line.strip():
                continue
            try:
                add_json(columns, loads(line), batch, (name, where))
            except (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError) as error:
                # A damaged line is skipped whole: add_json adds all of its rows or none.
                self.skipped_lines += 1
                _logger.debug("index: skipped malformed JSONL line: %r", error)

    def _wal(self, manifest: dict[str, Any], columns: Columns) -> Iterator[None]:
        from google.protobuf.message import DecodeError

        directory = self._root / "wal" / "traces"
        segment, offset = manifest["wal"]
        for position, payload in _wal.iter_records(directory, start=(segment, offset)):
            source = (f"wal/traces/{position[0]:020d}.wal", position[1] - _wal.HEADER_SIZE - len(payload))
            try:
                add_request(columns, payload, manifest["next_batch"], source)
            except (DecodeError, ValueError, KeyError) as error:
                self.skipped_records += 1
                _logger.warning("index: skipped an undecodable WAL record before %s: %r", position, error)
            manifest["wal"] = list(position)
            columns.source_bytes += _wal.HEADER_SIZE + len(payload)
            yield None


_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Turn Python's cyclic garbage collector off while indexing runs (in any thread of the process).

    Decoding allocates millions of short-lived dicts and lists and creates no reference cycles, yet
    each allocation burst makes the collector walk the young objects: a fifth to a third of the
    decoding time. Reference counting still frees everything at once; the collector is back on
    (if it was on) when the last concurrent run ends.
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


class _Load:
    """One part's bulk load (CSV to Parquet) running in its own thread."""

    def __init__(self, parts: PartStore, connection: Any, name: str, load: Path, state: dict[str, Any]) -> None:
        self.name = name
        self._state = state
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(parts, connection, load), name="wikitrace-index-load", daemon=True
        )
        self._thread.start()

    def _run(self, parts: PartStore, connection: Any, load: Path) -> None:
        try:
            parts.load_part(connection, load, self.name)
        except BaseException as error:  # noqa: BLE001 - handed to the indexing thread by result()
            self._error = error

    def wait(self) -> None:
        self._thread.join()

    def result(self) -> dict[str, Any]:
        """The part's state once loaded; raises what the load raised."""
        self.wait()
        if self._error is not None:
            raise self._error
        return self._state


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
