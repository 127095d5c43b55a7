"""``QueryStore``: the query API over one store root. See :mod:`wikitrace_otel.query` for the manual."""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final, TextIO

from wikitrace_otel.query import _export, _sql
from wikitrace_otel.query._fetch import SpanLoader
from wikitrace_otel.query._filter import TraceFilter
from wikitrace_otel.query._indexer import Indexer
from wikitrace_otel.query._parts import PartStore, sql_string
from wikitrace_otel.query._rows import COLUMN_NAMES
from wikitrace_otel.query._spans import span_dict, trace_summary

STATS_GROUPS: Final = tuple(_sql.GROUPS)
_SOURCE: Final = COLUMN_NAMES.index("Source")
_SPAN_ID: Final = COLUMN_NAMES.index("SpanId")
_TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
_MEMORY_LIMIT: Final = "512MB"
_ATTEMPTS: Final = 10
_NEEDS_DUCKDB: Final = "querying the store needs DuckDB: pip install 'wikitrace-otel[query]'"


class QueryStore:
    """Queries over one store root (file-exporter JSONL and collector WAL), through its index.

    Args:
        root: the store directory. The index lives in ``<root>/index/``, created on the first
            :meth:`refresh`. ``<root>/tenants/`` is never read.
        memory_limit: DuckDB's memory limit (queries and merges spill to ``index/spill/`` past it).
        threads: DuckDB worker threads per query; None lets DuckDB use every core.
    """

    def __init__(
        self, root: str | os.PathLike[str], *, memory_limit: str = _MEMORY_LIMIT, threads: int | None = None
    ) -> None:
        try:
            import duckdb
        except ImportError as error:
            raise ImportError(f"{_NEEDS_DUCKDB}: {error}") from error

        self.root = Path(root)
        self._parts = PartStore(self.root / "index")
        # One spill directory per instance: DuckDB's temporary file names are not unique across processes.
        self._spill = self._parts.directory / "spill" / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        config: dict[str, Any] = {"memory_limit": memory_limit, "temp_directory": str(self._spill)}
        if threads is not None:
            config["threads"] = threads
        self._connection = duckdb.connect(":memory:", config=config)
        self._refresh_lock = threading.Lock()
        self._connection_lock = threading.Lock()
        self._closed = False
        self._spill_ready = False
        self._io_error: type[BaseException] = duckdb.IOException
        self.skipped_lines = 0
        self.skipped_records = 0

    # --- indexing -------------------------------------------------------------------------

    def refresh(self, timeout: float = 30.0) -> int:
        """Index the spans added to the store since the last refresh (by any process).

        Only one process indexes a store at a time; the others wait for it up to ``timeout``
        seconds and then return 0 (what it indexed is visible to them as soon as it publishes).

        Returns:
            The number of spans this call added.
        """
        if not self.root.is_dir():  # nothing to index, and no reason to create the store
            return 0
        with self._refresh_lock, self._parts.writer_lock(timeout) as locked:
            if not locked:
                return 0
            cursor = self._cursor()
            try:
                indexer = Indexer(self.root, self._parts, cursor)
                added = indexer.run()
            finally:
                cursor.close()
            self.skipped_lines += indexer.skipped_lines
            self.skipped_records += indexer.skipped_records
            return added

    @property
    def span_count(self) -> int:
        """Spans in the index."""
        return int(self._parts.manifest()["spans"])

    # --- queries --------------------------------------------------------------------------

    def list_traces(self, selection: TraceFilter | None = None) -> list[dict[str, Any]]:
        """One dict per selected trace, newest first, at most ``selection.limit``.

        Keys: ``trace_id``, ``start_time`` (ISO 8601 UTC), ``start_time_unix_nano``,
        ``duration_ms``, ``root_name``, ``service``, ``span_count``, ``models``,
        ``input_tokens``, ``output_tokens``, ``tokens``, ``cost``, ``errors``, ``status``
        (``error``/``ok``), ``session_id``, ``user_id``.
        """
        selection = selection or TraceFilter()
        candidates = _sql.candidate_traces(selection)
        page, params = _sql.matching_traces(selection, page=True, candidates=candidates is not None)
        if candidates is not None:
            params[0] = [row[0] for row in self._query(*candidates)]
            if not params[0]:
                return []
        ids = [row[0] for row in self._query(page, params)]
        if not ids:
            return []
        return [trace_summary(row) for row in self._query(_sql.list_traces(), [ids])]

    def get_trace(self, trace_id: str) -> list[dict[str, Any]] | None:
        """The trace's spans in start order (see :func:`wikitrace_otel.query.span_dict`), None if unknown.

        Raises:
            ValueError: ``trace_id`` is not 32 hex digits.
        """
        if not _TRACE_ID.match(trace_id or ""):
            raise ValueError(f"not a trace id: {trace_id!r} (32 hex digits)")
        sql = f"SELECT {', '.join(COLUMN_NAMES)} FROM spans WHERE TraceId = ? ORDER BY Timestamp, SpanId"
        rows = self._query(sql, [trace_id.lower()])
        return self._dicts(rows, full=True) or None

    def stats(self, by: str, selection: TraceFilter | None = None) -> list[dict[str, Any]]:
        """Figures per group over model calls (inference and embeddings spans).

        Args:
            by: ``model``, ``provider``, ``service``, ``user``, ``session``, ``day`` or ``hour`` (UTC).
            selection: which calls count (each call is checked on its own).

        Returns:
            One dict per group: ``key``, ``calls``, ``errors``, ``error_rate``, ``input_tokens``,
            ``output_tokens``, ``cache_read_tokens``, ``reasoning_tokens``, ``cost`` (None when no call
            was priced), ``p50_ms``, ``p95_ms``, ``p99_ms``. Busiest first (time groups in time order).

        Raises:
            ValueError: an unknown ``by``.
        """
        if by not in _sql.GROUPS:
            raise ValueError(f"cannot group by {by!r}: use one of {', '.join(_sql.GROUPS)}")
        sql, params = _sql.stats(by, selection or TraceFilter())
        names = ("key", "calls", "errors", "input_tokens", "output_tokens", "cache_read_tokens", "reasoning_tokens")
        result = []
        for row in self._query(sql, params):
            entry = dict(zip(names, row[:7], strict=True))
            entry["error_rate"] = row[2] / row[1] if row[1] else 0.0
            entry["cost"] = row[7]
            entry.update(zip(("p50_ms", "p95_ms", "p99_ms"), [value / 1e6 for value in row[8]], strict=True))
            result.append(entry)
        return result

    def spans_after(
        self, batch: int, selection: TraceFilter | None = None, *, full: bool = True
    ) -> tuple[list[dict[str, Any]], int]:
        """Spans indexed after refresh number ``batch`` (0: all), in start order; and the newest batch seen.

        ``tail`` calls this in a loop with the batch it got back. ``selection`` applies span by span.
        ``full=False`` skips reading attributes, events and links back from the sources.
        """
        selection = selection or TraceFilter()
        newest = self.last_batch()
        conditions, params = _sql.span_conditions(selection, with_status=True)
        conditions[:0] = ["Batch > ?", "Batch <= ?"]
        params[:0] = [batch, newest]
        sql = f"SELECT {', '.join(COLUMN_NAMES)} FROM spans WHERE {' AND '.join(conditions)} ORDER BY Timestamp"
        return self._dicts(self._query(sql, params), full=full), max(newest, batch)

    def recent_spans(
        self, count: int, selection: TraceFilter | None = None, *, full: bool = True
    ) -> tuple[list[dict[str, Any]], int]:
        """The ``count`` latest-starting spans, in start order, and the newest batch (for :meth:`spans_after`)."""
        newest = self.last_batch()
        conditions, params = _sql.span_conditions(selection or TraceFilter(), with_status=True)
        conditions.insert(0, "Batch <= ?")
        params.insert(0, newest)
        where = " AND ".join(conditions)
        sql = f"SELECT {', '.join(COLUMN_NAMES)} FROM spans WHERE {where} ORDER BY Timestamp DESC LIMIT {int(count)}"
        return self._dicts(list(reversed(self._query(sql, params))), full=full), newest

    def last_batch(self) -> int:
        """The number of the newest refresh that indexed spans (0 when none did)."""
        return int(self._parts.manifest()["next_batch"]) - 1

    def export(self, out: TextIO, form: str = "otlp-json", selection: TraceFilter | None = None) -> int:
        """Write every span of each selected trace to ``out``; returns the number of spans.

        Args:
            out: a text stream.
            form: ``otlp-json`` (OTLP JSON Lines, every field as stored: what the file exporter
                writes and the Collector's ``otlpjsonfile`` receiver reads), ``json`` (one array
                of :func:`span_dict` objects) or ``csv`` (the indexed columns).
            selection: which traces (``limit`` does not apply: all of them).

        Memory stays bounded: rows are streamed in chunks, in source order.
        """
        if form not in _export.FORMATS:
            raise ValueError(f"unknown export format {form!r}: use one of {', '.join(_export.FORMATS)}")
        matched, params = _sql.matching_traces(selection or TraceFilter())
        sql = f"SELECT {', '.join(COLUMN_NAMES)} FROM spans WHERE TraceId IN ({matched}) ORDER BY Source, SourceOffset"
        return _export.write(self._stream(sql, params, 10_000), out, form, SpanLoader(self.root))

    def close(self) -> None:
        """Release the DuckDB connection. The store must not be used afterwards."""
        with self._connection_lock:
            if not self._closed:
                self._closed = True
                self._connection.close()
                shutil.rmtree(self._spill, ignore_errors=True)

    def __enter__(self) -> QueryStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- plumbing -------------------------------------------------------------------------

    def _cursor(self) -> Any:
        if not self._spill_ready and self._parts.directory.is_dir():
            # DuckDB creates its temporary directory but not the parents, and only when it spills.
            self._spill.parent.mkdir(exist_ok=True)
            self._spill_ready = True
        with self._connection_lock:
            if self._closed:
                raise ValueError("the query store is closed")
            cursor = self._connection.cursor()  # one per use: DuckDB connections are not shared across threads
        return cursor

    def _dicts(self, rows: list[tuple[Any, ...]], *, full: bool) -> list[dict[str, Any]]:
        if not full:
            return [span_dict(row, None) for row in rows]
        loader = SpanLoader(self.root)
        return [span_dict(row, loader.load(row[_SOURCE], row[_SOURCE + 1], row[_SPAN_ID])) for row in rows]

    def _query(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        for attempt in range(_ATTEMPTS):
            paths = self._parts.part_paths(self._parts.manifest())
            if not paths:
                return []
            cursor = self._cursor()
            try:
                return cursor.execute(_with_spans(sql, paths), params).fetchall()
            except self._io_error:
                # A part merged away and deleted under us (only after RETIRE_SECONDS, unless a
                # query ran that long): read the new manifest and try again.
                if attempt == _ATTEMPTS - 1:
                    raise
                time.sleep(0.01 * attempt)
            finally:
                cursor.close()
        return []

    def _stream(self, sql: str, params: list[Any], chunk: int) -> Iterator[tuple[Any, ...]]:
        paths = self._parts.part_paths(self._parts.manifest())
        if not paths:
            return
        cursor = self._cursor()
        try:
            cursor.execute(_with_spans(sql, paths), params)
            while rows := cursor.fetchmany(chunk):
                yield from rows
        finally:
            cursor.close()


def _with_spans(sql: str, paths: list[str]) -> str:
    files = ", ".join(sql_string(path) for path in paths)
    return f"WITH spans AS (SELECT * FROM read_parquet([{files}])) {sql}"
