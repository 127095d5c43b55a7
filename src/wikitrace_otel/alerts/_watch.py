"""Alerts from finished GenAI spans: error rates over a window, and slow calls."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import StatusCode

from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel._rolling import RollingSums
from wikitrace_otel.alerts._alert import Alert
from wikitrace_otel.processors._view import genai_values
from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import wikitrace as w

_BUCKETS = 30  # an error window is kept as this many time buckets: memory is fixed


class WatchSettings:
    """Thresholds of the span-based alerts (see :func:`wikitrace_otel.alerts.enable`)."""

    def __init__(
        self, error_rate: float | None, error_window: float, min_calls: int, latency: float | None, cooldown: float
    ) -> None:
        self.error_rate, self.error_window, self.min_calls = error_rate, error_window, min_calls
        self.latency, self.cooldown = latency, cooldown


class AlertSpanProcessor(SpanProcessor):
    """Watches finished GenAI spans and publishes error-rate and latency alerts.

    ``install()`` adds it; with your own provider, add it yourself. It does nothing (one
    attribute read per span) until :func:`wikitrace_otel.alerts.enable` is called.
    """

    def __init__(self, publish: Callable[[Alert], bool], settings: Callable[[], WatchSettings | None]) -> None:
        self._publish, self._settings = publish, settings
        self._rates: dict[str, RollingSums] = {}
        self._fired: dict[str, float] = {}
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        settings = self._settings()
        if settings is None:
            return
        try:
            attributes = genai_values(span)  # None for non-GenAI spans, after one dict lookup
            if attributes is not None:
                self._watch(span, attributes, settings)
        except Exception as internal:  # noqa: BLE001 - never raise into span.end()
            report_internal_error(internal)

    def _watch(self, span: ReadableSpan, attributes: Mapping[str, Any], settings: WatchSettings) -> None:
        now = time.time()
        service = span.resource.attributes.get("service.name") if span.resource else None
        error = span.status.status_code is StatusCode.ERROR
        if settings.error_rate is not None:
            self._error_rate(span, attributes, settings, str(service or ""), error, now)
        duration = ((span.end_time or 0) - (span.start_time or 0)) / 1e9
        if settings.latency is not None and duration >= settings.latency:
            model = attributes.get(g.GEN_AI_REQUEST_MODEL)
            self._publish(
                _alert(
                    span,
                    "latency",
                    f"Slow LLM call: {span.name} took {duration:.1f} s",
                    {"duration_s": duration, "threshold_s": settings.latency},
                    key=f"latency:{service}:{model}",
                )
            )

    def _error_rate(
        self,
        span: ReadableSpan,
        attributes: Mapping[str, Any],
        settings: WatchSettings,
        service: str,
        error: bool,
        now: float,
    ) -> None:
        with self._lock:
            rate = self._rates.get(service)
            if rate is None:
                rate = self._rates[service] = RollingSums(settings.error_window, _BUCKETS)
            rate.roll(now)
            rate.add(1, int(error), now)
            calls, errors = int(rate.first), int(rate.second)
            firing = error and calls >= settings.min_calls and errors / calls >= (settings.error_rate or 0)
            if firing and now - self._fired.get(service, 0.0) < settings.cooldown:
                firing = False
            if firing:
                self._fired[service] = now
        if firing:
            self._publish(
                _alert(
                    span,
                    "error_rate",
                    f"LLM error rate {errors / calls:.0%} over the last {settings.error_window:g} s",
                    {
                        "error_rate": errors / calls,
                        "errors": errors,
                        "calls": calls,
                        "threshold": settings.error_rate,
                        "last_error": attributes.get(g.ERROR_TYPE),
                    },
                    key=f"error_rate:{service}",
                    severity="critical",
                )
            )

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _alert(
    span: ReadableSpan, kind: str, title: str, details: dict[str, Any], *, key: str, severity: str = "warning"
) -> Alert:
    attributes = span.attributes or {}
    service = span.resource.attributes.get("service.name") if span.resource else None
    context = span.context
    return Alert(
        kind=kind,
        title=title,
        severity=severity,
        details=details,
        service=str(service) if service else None,
        user=_text(attributes.get(w.USER_ID)),
        session=_text(attributes.get(w.SESSION_ID)),
        model=_text(attributes.get(g.GEN_AI_RESPONSE_MODEL) or attributes.get(g.GEN_AI_REQUEST_MODEL)),
        trace_id=f"{context.trace_id:032x}" if context is not None else None,
        key=key,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
