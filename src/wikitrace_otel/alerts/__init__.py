"""Alerts to Slack or any webhook when a budget is crossed, errors pile up or calls get slow.

::

    import wikitrace_otel
    from wikitrace_otel import alerts

    wikitrace_otel.install()                      # also reads WIKITRACE_SLACK_WEBHOOK / WIKITRACE_ALERT_WEBHOOK
    alerts.enable(slack_webhook="https://hooks.slack.com/services/...", secret=None, latency_threshold=30)
    alerts.test_alert("hello from checkout-service")

What fires:

- ``budget.exceeded``: a budget (``wikitrace_otel.budget``) or a budget rule's key crossed its
  limit; once per budget, once per rule key and window.
- ``budget.warning``: the same crossing its ``warn_at`` fraction (80 % by default).
- ``error_rate``: the share of failed GenAI calls of a service over ``error_window`` reached
  ``error_rate`` with at least ``min_calls`` calls; then quiet for one window.
- ``latency``: a GenAI call took ``latency_threshold`` seconds or more; once per service and
  model per ``dedup_window``.

Each alert names what happened, where (service, user, session, model), how much, and the trace
id of the call that fired it. Slack webhooks get Slack's message format (``text`` plus a
``mrkdwn`` section); generic webhooks get the alert as JSON (see :class:`Alert`). With a
``secret``, every request carries ``X-Wikitrace-Timestamp`` and ``X-Wikitrace-Signature:
sha256=<hex>``, an HMAC-SHA256 of ``<timestamp>.<body>`` (:func:`verify` checks one).

Delivery never blocks the application: alerts go into a bounded queue drained by one daemon
thread, with instrumentation suppressed (an alert's HTTP request is never traced), retried with
exponential backoff on network errors, 429 and 5xx; the same alert key within ``dedup_window``
is sent once. :func:`stats` counts ``sent``, ``failed``, ``dropped`` (queue full),
``duplicates`` and ``queued``; :func:`flush` waits for the queue, and runs at exit.

The error-rate and latency alerts come from :class:`AlertSpanProcessor`, which ``install()``
adds to the tracer provider; budget alerts need no processor.
"""

from __future__ import annotations

import atexit
import os
import threading
from datetime import timedelta

from wikitrace_otel import environment_variables as env
from wikitrace_otel.alerts._alert import KINDS, SIGNATURE_HEADER, TIMESTAMP_HEADER, Alert, signature_headers, verify
from wikitrace_otel.alerts._dispatch import Dispatcher, Target
from wikitrace_otel.alerts._watch import AlertSpanProcessor, WatchSettings
from wikitrace_otel.budgets._rules import parse_window

__all__ = [
    "KINDS",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Alert",
    "AlertSpanProcessor",
    "disable",
    "enable",
    "enabled",
    "flush",
    "publish",
    "signature_headers",
    "span_processor",
    "stats",
    "test_alert",
    "verify",
]

_lock = threading.Lock()
_dispatcher: Dispatcher | None = None
_watch: WatchSettings | None = None
_exit_hook = False


def enable(
    slack_webhook: str | None = None,
    webhook: str | None = None,
    *,
    secret: str | None = None,
    error_rate: float | None = 0.25,
    error_window: str | float | timedelta = "5m",
    min_calls: int = 10,
    latency_threshold: float | None = None,
    dedup_window: str | float | timedelta = "10m",
    queue_size: int = 1000,
    timeout: float = 5.0,
    retries: int = 3,
    backoff: float = 0.5,
) -> None:
    """Start sending alerts; a second call replaces the first configuration.

    Args:
        slack_webhook: a Slack incoming-webhook URL; else ``WIKITRACE_SLACK_WEBHOOK``.
        webhook: a URL receiving each alert as JSON; else ``WIKITRACE_ALERT_WEBHOOK``.
        secret: HMAC key for the signature headers; else ``WIKITRACE_ALERT_SECRET``.
        error_rate: share of failed calls (0-1] that fires ``error_rate``; None turns it off.
        error_window: the window of the error rate (``"5m"``, seconds, a ``timedelta``).
        min_calls: calls needed in the window before the error rate counts.
        latency_threshold: seconds; a slower GenAI call fires ``latency``. None: off.
        dedup_window: an alert key is sent at most once per this window.
        queue_size: alerts waiting at most; more are dropped and counted.
        timeout: seconds per HTTP request.
        retries: further attempts after a failed delivery.
        backoff: seconds before the first retry; doubled each time.

    Raises:
        ValueError: no destination, a URL that is not http(s), or a bad threshold.
    """
    global _dispatcher, _watch, _exit_hook
    targets = _targets(slack_webhook, webhook)
    if error_rate is not None and not 0 < error_rate <= 1:
        raise ValueError(f"error_rate={error_rate!r}: expected a fraction in (0, 1], or None")
    if latency_threshold is not None and latency_threshold <= 0:
        raise ValueError(f"latency_threshold={latency_threshold!r}: expected seconds > 0, or None")
    if queue_size < 1 or retries < 0 or timeout <= 0 or min_calls < 1:
        raise ValueError("queue_size and min_calls must be >= 1, retries >= 0 and timeout > 0")
    window = parse_window(error_window)
    dedup = parse_window(dedup_window)
    assert window is not None and dedup is not None
    dispatcher = Dispatcher(
        targets,
        secret=secret or os.environ.get(env.WIKITRACE_ALERT_SECRET) or None,
        queue_size=queue_size,
        timeout=timeout,
        retries=retries,
        backoff=backoff,
        dedup_seconds=dedup,
    )
    with _lock:
        previous, _dispatcher = _dispatcher, dispatcher
        _watch = WatchSettings(error_rate, window, min_calls, latency_threshold, cooldown=window)
        if not _exit_hook:
            atexit.register(_at_exit)
            _exit_hook = True
    if previous is not None:
        previous.close(timeout=timeout)


def enable_from_environment() -> bool:
    """:func:`enable` when ``WIKITRACE_SLACK_WEBHOOK`` or ``WIKITRACE_ALERT_WEBHOOK`` is set; True if it did."""
    if not (os.environ.get(env.WIKITRACE_SLACK_WEBHOOK) or os.environ.get(env.WIKITRACE_ALERT_WEBHOOK)):
        return False
    enable()
    return True


def disable(timeout: float = 5.0) -> None:
    """Stop sending alerts, after delivering the queued ones (up to ``timeout`` seconds)."""
    global _dispatcher, _watch
    with _lock:
        previous, _dispatcher, _watch = _dispatcher, None, None
    if previous is not None:
        previous.close(timeout)


def enabled() -> bool:
    """True between :func:`enable` and :func:`disable`."""
    return _dispatcher is not None


def publish(alert: Alert) -> bool:
    """Queue an alert for delivery; False when alerts are off, it is a duplicate, or the queue is full."""
    dispatcher = _dispatcher
    return dispatcher.publish(alert) if dispatcher is not None else False


def test_alert(message: str = "wikitrace-otel test alert") -> bool:
    """Send a ``test`` alert (never deduplicated) to check the configuration; see :func:`stats`."""
    return publish(Alert(kind="test", title=message, severity="info"))


def stats() -> dict[str, int]:
    """Counts since :func:`enable`: ``sent``, ``failed``, ``dropped``, ``duplicates``, ``queued``."""
    dispatcher = _dispatcher
    if dispatcher is None:
        return {"sent": 0, "failed": 0, "dropped": 0, "duplicates": 0, "queued": 0}
    return dispatcher.stats()


def flush(timeout: float = 5.0) -> bool:
    """Wait until queued alerts are delivered (or given up); False on timeout."""
    dispatcher = _dispatcher
    return dispatcher.flush(timeout) if dispatcher is not None else True


def span_processor() -> AlertSpanProcessor:
    """A processor feeding the error-rate and latency alerts; idle while alerts are off."""
    return AlertSpanProcessor(publish, lambda: _watch)


def _targets(slack_webhook: str | None, webhook: str | None) -> list[Target]:
    slack = slack_webhook or os.environ.get(env.WIKITRACE_SLACK_WEBHOOK) or None
    generic = webhook or os.environ.get(env.WIKITRACE_ALERT_WEBHOOK) or None
    targets = [Target(url, kind) for url, kind in ((slack, "slack"), (generic, "json")) if url]
    if not targets:
        raise ValueError(
            "alerts.enable() needs a destination: slack_webhook=, webhook=, "
            f"or {env.WIKITRACE_SLACK_WEBHOOK} / {env.WIKITRACE_ALERT_WEBHOOK}"
        )
    for target in targets:
        if not target.url.startswith(("http://", "https://")):
            raise ValueError(f"alert webhook {target.url!r}: expected an http:// or https:// URL")
    return targets


def _at_exit() -> None:
    flush(timeout=5.0)
