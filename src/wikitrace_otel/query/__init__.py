"""Querying the local store: list traces, show one, aggregate, follow, export.

::

    from wikitrace_otel.query import QueryStore, TraceFilter, parse_time

    with QueryStore(".wikitrace") as store:
        store.refresh()                                            # index what was added since last time
        for trace in store.list_traces(TraceFilter(model="gpt-4o-mini", since=parse_time("1h"))):
            print(trace["trace_id"], trace["root_name"], trace["duration_ms"], trace["cost"])
        spans = store.get_trace(trace["trace_id"])                 # None when unknown
        for row in store.stats("model", TraceFilter.from_params({"since": "7d"})):
            print(row["key"], row["calls"], row["error_rate"], row["p95_ms"], row["cost"])

What is read
    The root's ``*.jsonl`` files (written by ``install()``'s file exporter) and the collector's
    write-ahead log ``<root>/wal/traces/*.wal``. ``<root>/tenants/`` is never read: open
    ``QueryStore(root / "tenants" / name)`` for a tenant.

The index
    ``<root>/index/`` holds immutable Parquet part files and a ``manifest.json`` naming them
    together with how far each source has been read. :meth:`QueryStore.refresh` indexes what
    was appended since (only new bytes are read: files are append-only), writes it as a new part
    with DuckDB and publishes it by atomically replacing the manifest; later refreshes merge
    small parts. Queries run in an in-memory DuckDB over the parts the manifest lists, so nothing
    holds the index open. A row holds the columns queries need (ids, times, names, service,
    status, GenAI operation, provider, models, tokens, cost, session, user, error type, captured
    content) and where the whole span is (its JSONL line or WAL record): ``get_trace`` and
    ``export`` read attributes, events and links back from there.

    Spans that carry no cost but report usage of a known model are priced while indexed
    (:func:`wikitrace_otel.processors.cost.cost_attributes`), so spans received from other SDKs
    have costs too.

Processes and threads
    Any number of processes and threads may query at once, also while one refreshes. One
    process refreshes at a time (a lock file); another process's ``refresh()`` waits for it.

Filters
    :class:`TraceFilter`: ``service``, ``model``, ``provider``, ``status`` (``error``/``ok``),
    ``user``, ``session``, ``since``/``until`` (ns; :func:`parse_time` reads ``1h``, ``7d`` or
    ISO 8601), ``search`` (case-insensitive text in captured content) and ``limit``.
    ``TraceFilter.from_params`` builds one from an HTTP query string.

Results are JSON-able dicts; see :meth:`QueryStore.list_traces`, :func:`span_dict`,
:meth:`QueryStore.stats`. :meth:`QueryStore.export` writes OTLP JSON Lines, JSON or CSV.

Needs DuckDB (``pip install 'wikitrace-otel[query]'``); importing this package does not import it.
"""

from __future__ import annotations

from wikitrace_otel.query._filter import TraceFilter, parse_duration, parse_time
from wikitrace_otel.query._spans import iso_time, json_safe, span_dict
from wikitrace_otel.query._store import STATS_GROUPS, QueryStore

__all__ = [
    "QueryStore",
    "STATS_GROUPS",
    "TraceFilter",
    "iso_time",
    "json_safe",
    "parse_duration",
    "parse_time",
    "span_dict",
]
