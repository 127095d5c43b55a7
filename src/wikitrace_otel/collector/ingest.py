"""What both receivers (HTTP and gRPC) do with a request body: check it, commit it, count it."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from typing import Any

from wikitrace_otel.collector.commit import ByteBudget, GroupCommitter
from wikitrace_otel.collector.otlp import Decoded, Signal, decode

_logger = logging.getLogger(__name__)


class Stats:
    """Thread-safe counters reported by ``/api/health``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, name: str, amount: int = 1) -> None:
        """Add ``amount`` to the counter ``name``."""
        with self._lock:
            self._counts[name] += amount

    def snapshot(self) -> dict[str, int]:
        """All counters, sorted by name."""
        with self._lock:
            return dict(sorted(self._counts.items()))


class Receiver:
    """Checks a request, appends it to the tenant's WAL and returns once it is durable.

    Callers hold the request's bytes in the :class:`ByteBudget` (``budget``) while this runs.
    """

    def __init__(self, committer: GroupCommitter, budget: ByteBudget, stats: Stats) -> None:
        self.committer = committer
        self.budget = budget
        self.stats = stats

    def export(self, signal: Signal, tenant: str, body: bytes, is_json: bool) -> Decoded:
        """Store one request; returns what was stored and rejected.

        Raises:
            BadRequestError: the body is not a valid request (nothing is stored).
            UnavailableError: it could not be made durable (the client should retry).
        """
        decoded = decode(signal, body, is_json)
        if decoded.items:
            self.committer.commit(tenant, signal.name, decoded.payload)
        self.stats.add(f"{signal.name}.requests")
        self.stats.add(f"{signal.name}.accepted", decoded.items)
        if decoded.rejected:
            self.stats.add(f"{signal.name}.rejected", decoded.rejected)
        return decoded

    def note_refused(self, reason: str, **details: Any) -> None:
        """Count (and log at debug level) a request refused before or while reading it."""
        self.stats.add(f"refused.{reason}")
        _logger.debug("request refused: %s %s", reason, details or "")
