"""Wires the collector together: WAL committer, receivers, API, forwarders, and a clean shutdown."""

from __future__ import annotations

import importlib.util
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any, TextIO

from wikitrace_otel.collector.api import ApiService
from wikitrace_otel.collector.commit import ByteBudget, GroupCommitter
from wikitrace_otel.collector.config import CollectorConfig
from wikitrace_otel.collector.forward import Forwarder
from wikitrace_otel.collector.indexer import IndexerProcess
from wikitrace_otel.collector.ingest import Receiver, Stats
from wikitrace_otel.collector.tls import server_context

_logger = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 10.0
"""Time given to requests in progress, and then to forwarding, when stopping."""


def _query_available() -> bool:
    """Whether the query engine's dependency is installed (the ``query`` extra)."""
    if importlib.util.find_spec("duckdb") is not None:
        return True
    _logger.warning("duckdb is missing: /api answers 503 and nothing is indexed (pip install 'wikitrace-otel[query]')")
    return False


class Collector:
    """The OTLP receiver. ``start()`` binds and serves in background threads; ``stop()`` drains.

    Args:
        config: the settings; checked here (ValueError on a bad one, including TLS files that
            are missing, not PEM, or a key that does not match its certificate).

    Example::

        collector = Collector(CollectorConfig(store=Path("traces"), grpc_port=0, http_port=0))
        collector.start()
        print(collector.http_port, collector.grpc_port)
        ...
        collector.stop()
    """

    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self.keys = config.validate()
        self.tls = config.tls()
        self._ssl_context = server_context(self.tls) if self.tls is not None else None
        self.stats = Stats()
        self.committer = GroupCommitter(config.wal_directory)
        self.receiver = Receiver(self.committer, ByteBudget(config.max_inflight_bytes), self.stats)
        indexer = IndexerProcess() if config.index and _query_available() else None
        self.api = ApiService(config.tenant_root, self.stats, config.refresh_interval_s, indexer)
        self.committer.add_listener(self.api.on_commit)
        self.forwarders = [
            Forwarder(url, config.forward_headers, config.forward_queue_bytes, self.stats) for url in config.forward
        ]
        for forwarder in self.forwarders:
            self.committer.add_listener(forwarder.on_commit)
        self.http_port: int | None = None
        self.grpc_port: int | None = None
        self._http: Any = None
        self._grpc: Any = None
        self._grpc_pool: Any = None
        self._http_thread: threading.Thread | None = None
        self._stopped = False

    def start(self) -> None:
        """Create the store, bind the ports and start serving. Raises OSError if a port is taken."""
        self.config.store.mkdir(parents=True, exist_ok=True)
        self.committer.start()
        self.api.start(self.config.tenants())
        for forwarder in self.forwarders:
            forwarder.start()
        try:
            self._start_grpc()
            self._start_http()
        except BaseException:
            self.stop()
            raise

    def _start_grpc(self) -> None:
        if self.config.grpc_port is None:
            return
        from wikitrace_otel.collector.grpc_server import build_server

        self._grpc, self.grpc_port, self._grpc_pool = build_server(self.config, self.receiver, self.keys, self.tls)
        self._grpc.start()

    def _start_http(self) -> None:
        if self.config.http_port is None:
            return
        from wikitrace_otel.collector.http_server import CollectorHTTPServer

        address = (self.config.host, self.config.http_port)
        self._http = CollectorHTTPServer(address, self.receiver, self.keys, self.api, self.config, self._ssl_context)
        self.http_port = self._http.server_address[1]
        self._http_thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, name="wikitrace-http", daemon=True
        )
        self._http_thread.start()

    def ready_line(self) -> str:
        """The line printed once the collector listens."""
        host = f"[{self.config.host}]" if ":" in self.config.host else self.config.host
        where = []
        tls = " (TLS)" if self.tls is not None else ""
        if self.grpc_port is not None:
            where.append(f"OTLP/gRPC{tls} on {host}:{self.grpc_port}")
        if self.http_port is not None:
            scheme = "https" if self.tls is not None else "http"
            where.append(f"OTLP/HTTP and /api on {scheme}://{host}:{self.http_port}")
        tenants = sorted(tenant for tenant in self.keys.tenants if tenant)
        auth = "; API key required" if self.keys.enabled else "; no API key"
        if tenants:
            auth += f" (tenants: {', '.join(tenants)})"
        if self.tls is not None and self.tls.mutual:
            auth += "; client certificate required"
        return f"wikitrace-otel collector: listening for {' and '.join(where)}; storing in {self.config.store}{auth}"

    def stop(self, grace: float = SHUTDOWN_GRACE_S) -> None:
        """Stop accepting, finish requests in progress, fsync and close the WAL, drain forwarding."""
        if self._stopped:
            return
        self._stopped = True
        grpc_done = self._grpc.stop(grace) if self._grpc is not None else None
        if self._http is not None:
            self._http.stop(grace)
        if grpc_done is not None:
            grpc_done.wait(grace)
        if self._grpc_pool is not None:
            self._grpc_pool.shutdown(wait=False)  # its threads end once their calls have
        self.committer.close()
        for forwarder in self.forwarders:
            forwarder.close(grace)
        self.api.close()
        _logger.info("collector stopped: %s", self.stats.snapshot())


def serve(config: CollectorConfig, out: TextIO = sys.stdout) -> int:
    """Run the collector until SIGINT or SIGTERM; returns the exit status (0 after a clean stop)."""
    collector = Collector(config)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        collector.start()
        print(collector.ready_line(), file=out, flush=True)
        while not stop.wait(0.5):
            pass
        _logger.info("stopping: finishing requests in progress")
    finally:
        collector.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
