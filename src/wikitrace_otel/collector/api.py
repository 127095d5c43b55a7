"""The ``/api/*`` routes: JSON answers from :mod:`wikitrace_otel.query`, one store per tenant.

Each tenant's queries go to a ``QueryStore`` opened on that tenant's own root, so a key can
only ever read its own tenant's data. Shortly after new traces are committed to a store (at most
once per refresh interval) a background thread asks the indexing process
(:mod:`wikitrace_otel.collector.indexer`) to refresh that store's index.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from wikitrace_otel.collector.indexer import IndexerProcess
from wikitrace_otel.collector.ingest import Stats
from wikitrace_otel.version import __version__

_logger = logging.getLogger(__name__)

_STATS_BY = ("model", "provider", "service", "user", "session", "day", "hour")


def _json(document: Any) -> bytes:
    return json.dumps(document, separators=(",", ":"), default=str).encode()


class ApiService:
    """Answers ``GET /api/...`` for a tenant and keeps the index fresh.

    Args:
        tenant_root: the store directory of a tenant ("" is the store root).
        stats: the receiver's counters, shown by ``/api/health`` to keys of the store root.
        refresh_interval: least time between two refresh requests for one store.
        indexer: the process that refreshes indexes; None leaves indexing to others (the CLI).
    """

    def __init__(
        self,
        tenant_root: Callable[[str], Path],
        stats: Stats,
        refresh_interval: float = 0.5,
        indexer: IndexerProcess | None = None,
    ) -> None:
        self._tenant_root = tenant_root
        self._stats = stats
        self._interval = refresh_interval
        self._indexer = indexer
        self._started = time.time()
        self._stores: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._dirty: set[str] = set()
        self._wake = threading.Event()
        self._closed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._refresh_loop, name="wikitrace-index-refresh", daemon=True)

    def start(self, tenants: Iterable[str] = ()) -> None:
        """Start the background refresher; ``tenants`` are indexed once now (data from earlier runs)."""
        if self._indexer is None:
            return
        with self._lock:
            self._dirty.update(tenants)
        self._wake.set()
        self._thread.start()

    def on_commit(self, tenant: str, signal: str, payloads: list[bytes]) -> None:
        """Commit listener: new traces for ``tenant`` need indexing."""
        if signal == "traces":
            with self._lock:
                self._dirty.add(tenant)
            self._wake.set()

    def handle(self, path: str, params: dict[str, str], tenant: str) -> tuple[int, bytes]:
        """The HTTP status and JSON body answering ``GET path?params`` for ``tenant``."""
        try:
            if path == "/api/health":
                return 200, _json(self._health(tenant))
            if path == "/api/traces":
                return 200, _json({"traces": self._store(tenant).list_traces(self._filter(params))})
            if path.startswith("/api/traces/") and path.count("/") == 3:
                return self._trace(tenant, path.rsplit("/", 1)[1])
            if path == "/api/stats":
                return self._stats_route(tenant, dict(params))
            return 404, _json({"error": f"no such endpoint: {path}"})
        except ValueError as exc:
            return 400, _json({"error": str(exc)})
        except ImportError as exc:
            return 503, _json({"error": f"the query engine is not available: {exc}"})
        except Exception:  # a query bug answers 500 and is logged; the receiver keeps running
            _logger.exception("API request %s failed", path)
            return 500, _json({"error": "internal error, see the collector's log"})

    def _health(self, tenant: str) -> dict[str, Any]:
        health: dict[str, Any] = {
            "status": "ok",
            "version": __version__,
            "uptime_s": round(time.time() - self._started),
        }
        if not tenant:  # counters cover every tenant: only keys of the store root see them
            health["counters"] = self._stats.snapshot()
        return health

    def _filter(self, params: dict[str, str]) -> Any:
        from wikitrace_otel.query import TraceFilter

        return TraceFilter.from_params(params)

    def _trace(self, tenant: str, trace_id: str) -> tuple[int, bytes]:
        if len(trace_id) != 32 or any(char not in "0123456789abcdefABCDEF" for char in trace_id):
            raise ValueError(f"invalid trace id {trace_id!r}: expected 32 hex digits")
        spans = self._store(tenant).get_trace(trace_id.lower())
        if spans is None:
            return 404, _json({"error": f"no trace {trace_id}"})
        return 200, _json({"trace_id": trace_id.lower(), "spans": spans})

    def _stats_route(self, tenant: str, params: dict[str, str]) -> tuple[int, bytes]:
        by = params.pop("by", "model")
        if by not in _STATS_BY:
            raise ValueError(f"by must be one of {', '.join(_STATS_BY)}")
        rows = self._store(tenant).stats(by, self._filter(params))
        return 200, _json({"by": by, "rows": rows})

    def _store(self, tenant: str) -> Any:
        with self._lock:
            store = self._stores.get(tenant)
        if store is not None:
            return store
        from wikitrace_otel.query import QueryStore

        with self._lock:
            store = self._stores.get(tenant)
            if store is None:
                root = self._tenant_root(tenant)
                root.mkdir(parents=True, exist_ok=True)
                store = self._stores[tenant] = QueryStore(root)
        return store

    def _refresh_loop(self) -> None:
        assert self._indexer is not None
        while not self._closed:
            self._wake.wait()
            self._wake.clear()
            if self._closed:
                return
            with self._lock:
                dirty, self._dirty = self._dirty, set()
            self._indexer.refresh([self._tenant_root(tenant) for tenant in sorted(dirty)])
            if self._stop.wait(self._interval):  # debounce: at most one request per interval
                return

    def close(self) -> None:
        """Stop the refresher and the indexing process, and close the stores."""
        self._closed = True
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)
        if self._indexer is not None:
            self._indexer.close()
        with self._lock:
            stores, self._stores = list(self._stores.values()), {}
        for store in stores:
            try:
                store.close()
            except Exception:
                _logger.exception("closing a query store failed")
