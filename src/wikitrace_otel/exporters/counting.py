"""Counting what an exporter did, so a backend being down is visible and never raised."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

_logger = logging.getLogger("wikitrace_otel")


class CountingSpanExporter(SpanExporter):
    """Wraps an exporter: counts exported and failed spans, and turns its exceptions into
    ``FAILURE`` (logged once per exception type) instead of letting them reach the SDK.

    Attributes:
        exported_spans: spans the inner exporter accepted.
        failed_spans: spans it refused or raised on.
    """

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner
        self.exported_spans = 0
        self.failed_spans = 0
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
