"""Token counters summed in-process and reported through observable counters.

A synchronous ``Counter.add`` in the OpenTelemetry SDK validates and hashes the attributes on
every call, which costs more than the rest of a span's bookkeeping. A counter's exported
value is only a cumulative sum per attribute set, so the same data comes out of an
``ObservableCounter`` whose callback reports totals kept here; adding to a total costs a
dict lookup.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from opentelemetry import metrics
from opentelemetry.metrics import CallbackOptions, Observation

CARDINALITY_LIMIT = 2000
"""Attribute sets kept per counter; later ones are summed under ``otel.metric.overflow``."""
_OVERFLOW = (("otel.metric.overflow", True),)


class SummedCounter:
    """A monotonic counter with the ``add(amount, attributes)`` of the API's ``Counter``.

    Callers that add to the same attribute set again and again keep its :meth:`entry` and
    add to it under :attr:`lock` (``entry[1] += amount``), which skips sorting and hashing the
    attributes. Counters may share one lock, so a call updates all of them under one acquire.
    """

    def __init__(
        self, meter: metrics.Meter, name: str, unit: str, description: str, lock: threading.Lock | None = None
    ) -> None:
        self._totals: dict[tuple[tuple[str, Any], ...], list[Any]] = {}
        self.lock = lock if lock is not None else threading.Lock()
        meter.create_observable_counter(name, callbacks=[self._observe], unit=unit, description=description)

    def add(self, amount: int | float, attributes: dict[str, Any]) -> None:
        """Add a non-negative amount to the total of this attribute set."""
        if amount < 0:
            return
        entry = self.entry(attributes)
        with self.lock:
            entry[1] += amount

    def entry(self, attributes: dict[str, Any]) -> list[Any]:
        """The ``[attributes, total]`` entry of an attribute set, created at 0 if new (the
        overflow entry once :data:`CARDINALITY_LIMIT` sets exist). Entries live as long as the
        counter: a kept entry stays valid."""
        key = tuple(sorted(attributes.items()))
        with self.lock:
            entry = self._totals.get(key)
            if entry is None:
                if len(self._totals) >= CARDINALITY_LIMIT:
                    key = _OVERFLOW
                    entry = self._totals.get(key)
                if entry is None:
                    entry = self._totals[key] = [dict(key), 0]
            return entry

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:
        with self.lock:
            snapshot = [(attributes, total) for attributes, total in self._totals.values()]
        return [Observation(total, attributes) for attributes, total in snapshot]
