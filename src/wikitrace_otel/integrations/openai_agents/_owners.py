"""Which :class:`WikitraceTracingProcessor` records each Agents SDK trace in flight.

The SDK calls every registered processor for every trace, in registration order. When more
than one of ours is registered (``install()`` added one and the application added its own by
hand), the first to see a trace claims it and the others skip it and its spans: each trace is
recorded once, never twice. No other state is shared between processors.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from wikitrace_otel.integrations._runs import MAX_RUNS


class TraceOwners:
    """Trace id -> the processor recording it, bounded (a trace that never ends must not leak)."""

    def __init__(self, limit: int = MAX_RUNS) -> None:
        self._owners: OrderedDict[str, object] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def claim(self, trace_id: str, processor: object) -> bool:
        """Record ``trace_id`` with ``processor`` unless another already does; True when it is ``processor``'s."""
        with self._lock:
            owner = self._owners.setdefault(trace_id, processor)
            if len(self._owners) > self._limit:
                self._owners.popitem(last=False)
        return owner is processor

    def owns(self, trace_id: str, processor: object) -> bool:
        """Whether ``processor`` records ``trace_id``."""
        return self._owners.get(trace_id) is processor

    def release(self, trace_id: str, processor: object) -> None:
        """Forget ``trace_id`` when it is ``processor``'s (the trace ended)."""
        with self._lock:
            if self._owners.get(trace_id) is processor:
                del self._owners[trace_id]

    def holds_any(self, processor: object) -> bool:
        """Whether ``processor`` records a trace still in flight."""
        with self._lock:
            return any(owner is processor for owner in self._owners.values())


OWNERS = TraceOwners()
"""The one table every processor of this process consults."""
