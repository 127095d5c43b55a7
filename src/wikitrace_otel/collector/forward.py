"""Re-export what the collector stored to upstream OTLP endpoints.

Each upstream has its own thread and bounded queue (in bytes) of committed requests, sent as the
same protobuf bytes to ``<url>/v1/<signal>`` over OTLP/HTTP, or to the ``Export`` methods over
OTLP/gRPC for ``grpc://`` / ``grpcs://`` URLs (see :mod:`wikitrace_otel.collector.upstream`).
Retryable answers (HTTP 429, 502, 503, 504, gRPC ``UNAVAILABLE``, ``RESOURCE_EXHAUSTED``...,
connection errors) are retried with exponential backoff, honouring ``Retry-After`` and
``RetryInfo``. When the queue is full new data is dropped for that upstream, never for the local
store; drops are counted and logged.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from typing import Final

from wikitrace_otel.collector.ingest import Stats
from wikitrace_otel.collector.upstream import TIMEOUT_S, open_upstream

_logger = logging.getLogger(__name__)

MAX_BACKOFF_S: Final = 30.0
MAX_ATTEMPT_AGE_S: Final = 300.0
"""A request still failing after this long is dropped (counted)."""
DROP_LOG_INTERVAL_S: Final = 10.0
"""Drops are counted at once but logged at most this often."""


class Forwarder:
    """One upstream: a bounded queue and the thread that drains it.

    Args:
        url: the upstream's base URL, e.g. ``http://otel-collector:4318`` (``/v1/traces`` is added)
            or ``grpc://otel-collector:4317``.
        headers: extra request headers, e.g. ``{"x-honeycomb-team": "..."}``.
        max_queue_bytes: bytes waiting before new data is dropped.
        stats: counters ``forward.sent`` / ``forward.dropped`` / ``forward.retries``.
    """

    def __init__(self, url: str, headers: dict[str, str], max_queue_bytes: int, stats: Stats) -> None:
        self.url = url
        self._upstream = open_upstream(url, headers)
        self._max_bytes = max_queue_bytes
        self._stats = stats
        self._queue: deque[tuple[str, bytes, float]] = deque()
        self._bytes = 0
        self._cond = threading.Condition()
        self._closing = False
        self._deadline = float("inf")
        self._last_drop_log = -DROP_LOG_INTERVAL_S
        self._unlogged_drops = 0
        self._thread = threading.Thread(target=self._run, name=f"wikitrace-forward {self.url}", daemon=True)

    def start(self) -> None:
        """Start sending."""
        self._thread.start()

    def on_commit(self, tenant: str, signal: str, payloads: list[bytes]) -> None:
        """Commit listener: queue ``payloads`` (never blocks; drops and counts when full)."""
        now = time.monotonic()
        with self._cond:
            for payload in payloads:
                if self._closing or self._bytes + len(payload) > self._max_bytes:
                    self._drop(1, "queue full")
                    continue
                self._queue.append((signal, payload, now))
                self._bytes += len(payload)
            self._cond.notify()

    def _drop(self, count: int, reason: str) -> None:
        self._stats.add("forward.dropped", count)
        # An upstream down for minutes would otherwise log once per request.
        self._unlogged_drops += count
        now = time.monotonic()
        if now - self._last_drop_log >= DROP_LOG_INTERVAL_S:
            _logger.warning("forwarding to %s: dropped %d request(s): %s", self.url, self._unlogged_drops, reason)
            self._last_drop_log, self._unlogged_drops = now, 0

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closing:
                    self._cond.wait()
                if not self._queue:
                    break
                if time.monotonic() > self._deadline:
                    self._drop(len(self._queue), "shutting down")
                    self._queue.clear()
                    break
                signal, payload, queued = self._queue[0]
            self._deliver(signal, payload, queued)
            with self._cond:
                self._queue.popleft()
                self._bytes -= len(payload)
        self._upstream.close()

    def _deliver(self, signal: str, payload: bytes, queued: float) -> None:
        attempt = 0
        while True:
            delay = self._upstream.send(signal, payload)
            if delay is None:
                self._stats.add("forward.sent")
                return
            if delay < 0:
                self._drop(1, "upstream refused it")
                return
            attempt += 1
            delay = min(delay, MAX_BACKOFF_S) if delay > 0 else min(2**attempt * 0.1, MAX_BACKOFF_S)
            delay *= random.uniform(0.8, 1.2)
            now = time.monotonic()
            if now + delay > self._deadline or now - queued > MAX_ATTEMPT_AGE_S:
                self._drop(1, "upstream still failing")
                return
            self._stats.add("forward.retries")
            with self._cond:
                self._cond.wait(delay)

    @property
    def pending(self) -> int:
        """Requests waiting to be sent."""
        return len(self._queue)

    def close(self, timeout: float) -> None:
        """Keep sending for up to ``timeout`` seconds, then drop (and count) what is left."""
        with self._cond:
            self._closing = True
            self._deadline = time.monotonic() + timeout
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout + TIMEOUT_S)
        elif not self._thread.ident:  # never started: the thread did not close the upstream
            self._upstream.close()
