"""Histogram values queued on the call path and recorded when metrics are collected.

Recording one value into an OpenTelemetry SDK histogram validates and hashes its attributes
each time (about 15 µs on a small machine), and a stream records one value per chunk. So the
call path only appends ``(histogram, value, attributes)`` to a queue, and the values are
recorded:

- when a metric reader collects: the ``wikitrace.metrics.dropped`` observable counter's
  callback drains the queue first, so every collection (periodic export, ``force_flush``,
  shutdown at exit) includes every value queued before it;
- by a daemon thread once the queue passes a high-water mark, so memory stays bounded
  when nothing collects for a long time.

A traced call queues all of its values as one entry (:meth:`DeferredRecorder.defer`, a
replay function and its arguments), so the call path pays one append however many histograms
it feeds. If the queue is full (the drainer cannot keep up) new values are dropped and
counted in ``wikitrace.metrics.dropped``. Recording from a collection callback relies on the SDK not
holding a lock around synchronous measurements during callbacks (true from 1.41 to 1.45).
"""

from __future__ import annotations

import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel.semconv import metrics as m

HIGH_WATER = 10_000
"""Queued entries that wake the drainer thread."""
LIMIT = 100_000
"""Queued entries beyond which new values are dropped (and counted)."""

_recorders: weakref.WeakKeyDictionary[Any, DeferredRecorder] = weakref.WeakKeyDictionary()
_recorders_lock = threading.Lock()

Replay = Callable[..., None]
"""Records one queued entry's values into the SDK: called with the entry's arguments."""


class DeferredRecorder:
    """Queues histogram values and records them off the call path.

    Get one with :meth:`for_meter`: one recorder per meter, because the SDK hands every later
    registration of the draining counter the first one's instrument, so a second recorder on the
    same meter (instrument, uninstrument, instrument again) would never be drained on collection.
    """

    def __init__(self, meter: metrics.Meter, high_water: int = HIGH_WATER, limit: int = LIMIT) -> None:
        self._pending: deque[tuple[Replay, tuple[Any, ...]]] = deque()
        self._high_water = high_water
        self._limit = limit
        self.dropped = 0
        self._drain_lock = threading.Lock()
        self._wake = threading.Event()
        self._drainer: threading.Thread | None = None
        meter.create_observable_counter(
            m.DROPPED_MEASUREMENTS,
            callbacks=[self._on_collect],
            unit="{measurement}",
            description="GenAI histogram values dropped because recording could not keep up",
        )

    @classmethod
    def for_meter(cls, meter: metrics.Meter) -> DeferredRecorder:
        """The recorder of ``meter``, created on first use (meters are cached by their provider)."""
        with _recorders_lock:
            try:
                recorder = _recorders.get(meter)
            except TypeError:  # a meter that cannot be weakly referenced: its own recorder
                return cls(meter)
            if recorder is None:
                recorder = _recorders[meter] = cls(meter)
            return recorder

    def record(self, histogram: Any, value: float | Sequence[float], attributes: dict[str, Any]) -> None:
        """Queue one value, or a sequence of values sharing the attributes."""
        if not self.defer(_record_values, (histogram, value, attributes)):
            self.dropped += len(value) if isinstance(value, Sequence) else 1

    def defer(self, replay: Replay, args: tuple[Any, ...]) -> bool:
        """Queue ``replay(*args)`` for the next drain. ``args`` must not change afterwards.

        Returns:
            False when the queue is full: nothing was queued, and the caller counts what it
            dropped in :attr:`dropped`.
        """
        pending = self._pending
        size = len(pending)
        if size >= self._limit:
            return False
        pending.append((replay, args))
        if size + 1 == self._high_water:
            self._start_drainer()
        return True

    def drain(self) -> None:
        """Record everything queued so far."""
        with self._drain_lock:
            pending = self._pending
            while pending:
                replay, args = pending.popleft()
                try:
                    replay(*args)
                except Exception as internal:  # noqa: BLE001 - one bad value must not stop the rest
                    report_internal_error(internal)

    def _on_collect(self, options: CallbackOptions) -> Iterable[Observation]:
        self.drain()
        return [Observation(self.dropped)]

    def _start_drainer(self) -> None:
        self._wake.set()
        if self._drainer is None or not self._drainer.is_alive():
            self._drainer = threading.Thread(target=self._drain_forever, name="wikitrace-metrics", daemon=True)
            self._drainer.start()

    def _drain_forever(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            self.drain()


def _record_values(histogram: Any, value: float | Sequence[float], attributes: dict[str, Any]) -> None:
    if isinstance(value, Sequence):
        for one in value:
            histogram.record(one, attributes)
    else:
        histogram.record(value, attributes)
