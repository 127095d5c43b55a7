"""The index on disk: immutable Parquet part files listed by an atomically replaced manifest.

Layout of ``<root>/index/``::

    manifest.json          the published state: parts, read positions, next batch number
    parts/<name>.parquet   immutable; written under tmp/ and renamed into place
    tmp/                   bulk loads (CSV), parts and manifests being written
    spill/<pid>-<id>/      DuckDB's temporary files when a merge or query needs more than its memory limit
    lock                   held (flock) by the one process writing

Readers take no lock: they read ``manifest.json`` (replaced with ``os.replace``, so always whole)
and query the parts it lists. A writer publishes a part by renaming it into ``parts/`` and then
replacing the manifest. Merged parts leave the manifest at once but stay on disk for
:data:`RETIRE_SECONDS`, so a query that read the previous manifest can finish.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from wikitrace_otel.query._columns import Columns
from wikitrace_otel.query._rows import COLUMNS

FORMAT: Final = 1
MERGE_FAN_IN: Final = 8
"""Parts of one level merged together once there are this many (an LSM-style tiered merge)."""
RETIRE_SECONDS: Final = 120.0
SPILL_ORPHAN_SECONDS: Final = 86_400.0
MAX_ROW_BYTES: Final = 8 * 1024 * 1024
"""Longest index row (the indexed content text is cut to fit, see ``_rows.MAX_CONTENT_CHARS``)."""
"""How long a merged-away part stays readable for queries that started before the merge."""
_CSV_TYPES: Final = ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS)
_CSV_OPTIONS: Final = (
    "auto_detect=false, header=false, delim=',', quote='\"', escape='\"', new_line='\\r\\n', "
    f"max_line_size={MAX_ROW_BYTES}, columns={{{_CSV_TYPES}}}"
)


def empty_manifest() -> dict[str, Any]:
    """The state of an index that has read nothing."""
    return {"format": FORMAT, "next_batch": 1, "spans": 0, "parts": [], "retired": [], "jsonl": {}, "wal": [0, 0]}


def sql_string(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


class PartStore:
    """The ``index/`` directory of one store."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.parts_dir = directory / "parts"
        self.tmp_dir = directory / "tmp"
        self._manifest_path = directory / "manifest.json"
        self._cache_key: tuple[int, int, int] | None = None
        self._cache: dict[str, Any] = empty_manifest()
        self._cache_lock = threading.Lock()

    def manifest(self) -> dict[str, Any]:
        """The published manifest (re-read only when the file changed)."""
        try:
            info = os.stat(self._manifest_path)
        except FileNotFoundError:
            return empty_manifest()
        key = (info.st_ino, info.st_mtime_ns, info.st_size)
        with self._cache_lock:
            if key != self._cache_key:
                with open(self._manifest_path, "rb") as stream:
                    manifest = json.load(stream)
                if manifest.get("format") != FORMAT:
                    raise ValueError(f"index {self.directory} has format {manifest.get('format')!r}, expected {FORMAT}")
                self._cache, self._cache_key = manifest, key
            return self._cache

    def part_paths(self, manifest: dict[str, Any]) -> list[str]:
        """Absolute paths of the manifest's parts."""
        return [str(self.parts_dir / part["name"]) for part in manifest["parts"]]

    def prepare(self) -> None:
        """Create the directories (the writer's first step)."""
        for directory in (self.parts_dir, self.tmp_dir, self.directory / "spill"):
            directory.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def writer_lock(self, timeout: float) -> Iterator[bool]:
        """Hold the cross-process writer lock; yields False if another process kept it past ``timeout``."""
        self.prepare()
        fd = os.open(self.directory / "lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + timeout
            while not _try_lock(fd):
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.02)
            try:
                yield True
            finally:
                _unlock(fd)
        finally:
            os.close(fd)

    def new_part(self, columns: Columns) -> tuple[str, Path]:
        """Name a new part and write its rows as the CSV file :meth:`load_part` reads; returns both."""
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        # A CSV file is the fastest way in without pandas or pyarrow: Columns writes it column by
        # column with C-level joins and DuckDB reads it in parallel (list parameters take longer and
        # twice the memory). CRLF rows; an empty field reads as NULL.
        load = self.tmp_dir / f"{name}.csv"
        try:
            columns.write_csv(load)
        except BaseException:
            load.unlink(missing_ok=True)
            raise
        return name, load

    def load_part(self, connection: Any, load: Path, name: str) -> None:
        """Turn the CSV file of :meth:`new_part` into the part ``name`` (not yet published), and delete it."""
        try:
            self._copy(connection, f"SELECT * FROM read_csv({sql_string(str(load))}, {_CSV_OPTIONS})", name)
        finally:
            load.unlink(missing_ok=True)

    def merge(self, connection: Any, manifest: dict[str, Any]) -> bool:
        """Merge one full level of parts into a part of the next level; False when none is full."""
        by_level: dict[int, list[dict[str, Any]]] = {}
        for part in manifest["parts"]:
            by_level.setdefault(part["level"], []).append(part)
        full = next((parts for _level, parts in sorted(by_level.items()) if len(parts) >= MERGE_FAN_IN), None)
        if full is None:
            return False
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.parquet"
        paths = ", ".join(sql_string(str(self.parts_dir / part["name"])) for part in full)
        # Copied in order, not sorted: spans arrive roughly in time order, so the row groups' min/max
        # already let time-bounded queries skip most of a big part, and a copy streams in bounded
        # memory where a sort of large content could not.
        self._copy(connection, f"SELECT * FROM read_parquet([{paths}])", name)
        merged = {
            "name": name,
            "rows": sum(part["rows"] for part in full),
            "level": full[0]["level"] + 1,
            "min_batch": min(part["min_batch"] for part in full),
            "max_batch": max(part["max_batch"] for part in full),
        }
        gone = {part["name"] for part in full}
        manifest["parts"] = [part for part in manifest["parts"] if part["name"] not in gone] + [merged]
        manifest["retired"] += [{"name": part, "at": time.time()} for part in sorted(gone)]
        return True

    def publish(self, manifest: dict[str, Any]) -> None:
        """Atomically replace the manifest."""
        tmp = self.tmp_dir / f"manifest-{uuid.uuid4().hex}.json"
        with open(tmp, "w", encoding="utf-8") as stream:
            json.dump(manifest, stream, separators=(",", ":"))
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, self._manifest_path)

    def collect_garbage(self, manifest: dict[str, Any]) -> None:
        """Delete retired parts past their grace time and leftovers of an interrupted writer."""
        now = time.time()
        keep = [entry for entry in manifest["retired"] if now - entry["at"] < RETIRE_SECONDS]
        manifest["retired"] = keep
        wanted = {part["name"] for part in manifest["parts"]} | {entry["name"] for entry in keep}
        for path in self.parts_dir.glob("*.parquet"):
            if path.name not in wanted:
                path.unlink(missing_ok=True)
        for path in self.tmp_dir.iterdir():
            if path.is_file():  # only the lock holder writes here, so anything left is an orphan
                path.unlink(missing_ok=True)
        spill = self.directory / "spill"
        for path in spill.iterdir() if spill.is_dir() else ():
            with contextlib.suppress(OSError):  # a day old: its process crashed (a live one cleans up on close)
                if now - path.stat().st_mtime > SPILL_ORPHAN_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)

    def _copy(self, connection: Any, query: str, name: str) -> None:
        tmp = self.tmp_dir / name
        connection.execute(f"COPY ({query}) TO {sql_string(str(tmp))} (FORMAT parquet, COMPRESSION zstd)")
        with open(tmp, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(tmp, self.parts_dir / name)


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
        return
    fcntl.flock(fd, fcntl.LOCK_UN)
