"""Counting what an exporter did, so a backend being down is visible and never raised."""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

_logger = logging.getLogger("wikitrace_otel")


class CountingSpanExporter(SpanExporter):
    """Wraps an exporter: counts exported and failed spans, and turns its exceptions into
    ``FAILURE`` (logged once per exception type) instead of letting them reach the SDK.

    Attributes:
        exported_spans: spans the inner exporter accepted.
        failed_spans: spans it refused or raised on.
        dropped_spans: spans that never reached it, counted by a :class:`CountingBatchSpanProcessor`
            in front whose queue was full.
    """

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.exported_spans = 0
        self.failed_spans = 0
        self.dropped_spans = 0
        self._lock = threading.Lock()
        self._logged: set[type[BaseException]] = set()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self.inner.export(spans)
        except Exception as exc:  # noqa: BLE001 - a backend failure must not reach the application
            self._log_once(exc)
            result = SpanExportResult.FAILURE
        with self._lock:
            if result is SpanExportResult.SUCCESS:
                self.exported_spans += len(spans)
            else:
                self.failed_spans += len(spans)
        return result

    def _log_once(self, exc: Exception) -> None:
        if type(exc) in self._logged:
            _logger.debug("wikitrace-otel: %s failed again: %r", type(self.inner).__name__, exc)
            return
        self._logged.add(type(exc))
        _logger.warning("wikitrace-otel: %s failed: %r (counted; spans dropped)", type(self.inner).__name__, exc)

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


class CountingBatchSpanProcessor(BatchSpanProcessor):
    """The SDK's ``BatchSpanProcessor``, counting in ``exporter.dropped_spans`` the spans its full
    queue drops.

    The SDK drops the oldest queued span when a span ends while its queue is full, as happens
    when many threads end spans faster than one export thread can write them, and only logs it.
    To count each drop exactly, the queue the SDK keeps (OpenTelemetry SDK 1.41 to 1.45) is
    swapped for one that drops and counts under a lock; on a release that keeps it elsewhere,
    nothing is counted and spans flow as before.
    """

    def __init__(self, exporter: CountingSpanExporter, **options: Any) -> None:
        super().__init__(exporter, **options)
        batcher = getattr(self, "_batch_processor", None)
        queue = getattr(batcher, "_queue", None)
        if isinstance(queue, collections.deque) and isinstance(queue.maxlen, int):
            batcher._queue = _CountingQueue(queue.maxlen, exporter)  # type: ignore[union-attr]


class _CountingQueue(collections.deque):  # type: ignore[type-arg]
    """A bounded deque whose ``appendleft`` drops (and counts) the oldest item when full, as the
    SDK's ``deque(maxlen=...)`` does silently. The export thread's ``pop`` needs no lock: every
    pop here is a real drop, so the count is exact however the two threads interleave."""

    def __init__(self, limit: int, exporter: CountingSpanExporter) -> None:
        super().__init__()
        self._limit = limit
        self._exporter = exporter
        self._lock = threading.Lock()

    def appendleft(self, item: Any) -> None:
        with self._lock:
            if len(self) >= self._limit:
                try:
                    self.pop()
                except IndexError:  # the export thread emptied it meanwhile: nothing to drop
                    pass
                else:
                    self._exporter.dropped_spans += 1
            super().appendleft(item)
