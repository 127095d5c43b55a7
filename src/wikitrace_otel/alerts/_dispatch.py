"""Delivering alerts without ever holding up the application: a bounded queue, one daemon
thread, retries with backoff, duplicates suppressed, everything counted."""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections import OrderedDict
from dataclasses import dataclass

from opentelemetry.instrumentation.utils import suppress_http_instrumentation, suppress_instrumentation

from wikitrace_otel.alerts._alert import Alert, encode, signature_headers

_logger = logging.getLogger("wikitrace_otel.alerts")
_MAX_KEYS = 10_000


@dataclass(frozen=True)
class Target:
    """Where alerts go: a URL and the body format (``slack`` or ``json``)."""

    url: str
    format: str

    def body(self, alert: Alert) -> bytes:
        return encode(alert.as_slack() if self.format == "slack" else alert.as_json())


class Dispatcher:
    """Owns the queue and the delivery thread of one ``alerts.enable()``."""

    def __init__(
        self,
        targets: list[Target],
        *,
        secret: str | None,
        queue_size: int,
        timeout: float,
        retries: int,
        backoff: float,
        dedup_seconds: float,
    ) -> None:
        self.targets, self.secret = targets, secret
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.dedup_seconds = dedup_seconds
        self._queue: queue.Queue[Alert | None] = queue.Queue(maxsize=queue_size)
        self._recent: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        self.counts = {"sent": 0, "failed": 0, "dropped": 0, "duplicates": 0}
        self._thread = threading.Thread(target=self._run, name="wikitrace-alerts", daemon=True)
        self._thread.start()

    def publish(self, alert: Alert) -> bool:
        """Queue an alert; False when it was a duplicate or the queue was full (counted)."""
        now = time.monotonic()
        with self._lock:
            if alert.key:
                last = self._recent.get(alert.key)
                if last is not None and now - last < self.dedup_seconds:
                    self.counts["duplicates"] += 1
                    return False
                self._recent[alert.key] = now
                self._recent.move_to_end(alert.key)
                if len(self._recent) > _MAX_KEYS:
                    self._recent.popitem(last=False)
            try:
                self._queue.put_nowait(alert)
            except queue.Full:
                self.counts["dropped"] += 1
                return False
            self._busy += 1
        return True

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {**self.counts, "queued": self._busy}

    def flush(self, timeout: float) -> bool:
        """Wait until every queued alert was delivered or given up; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float) -> None:
        """Flush, then stop the thread."""
        self.flush(timeout)
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(None)
        self._thread.join(timeout=max(0.1, timeout))

    def _run(self) -> None:
        # With instrumentation suppressed, HTTP client instrumentations trace nothing here, so
        # delivering an alert never adds spans (nor counts as an LLM call).
        with suppress_instrumentation(), suppress_http_instrumentation():
            while True:
                alert = self._queue.get()
                if alert is None:
                    return
                try:
                    self._deliver(alert)
                except Exception:  # never let one alert stop the thread
                    _logger.exception("wikitrace-otel: delivering an alert failed")
                finally:
                    with self._idle:
                        self._busy -= 1
                        self._idle.notify_all()

    def _deliver(self, alert: Alert) -> None:
        for target in self.targets:
            delivered = self._post_with_retries(target, target.body(alert))
            with self._lock:
                self.counts["sent" if delivered else "failed"] += 1

    def _post_with_retries(self, target: Target, body: bytes) -> bool:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            status = self._post(target, body)
            if status is not None and 200 <= status < 300:
                return True
            retryable = status is None or status == 429 or status >= 500
            if not retryable or attempt == self.retries:
                _logger.warning("wikitrace-otel: alert to %s failed (HTTP %s)", _redacted(target.url), status)
                return False
            time.sleep(delay)
            delay *= 2
        return False

    def _post(self, target: Target, body: bytes) -> int | None:
        headers = {"Content-Type": "application/json", "User-Agent": "wikitrace-otel-alerts"}
        if self.secret:
            headers.update(signature_headers(body, self.secret))
        request = urllib.request.Request(target.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return int(response.status)
        except urllib.error.HTTPError as refused:
            return int(refused.code)
        except (OSError, ValueError) as unreachable:
            _logger.debug("wikitrace-otel: alert to %s: %r", _redacted(target.url), unreachable)
            return None


def _redacted(url: str) -> str:
    """Webhook URLs carry their secret in the path (Slack): log only scheme and host."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/…"
