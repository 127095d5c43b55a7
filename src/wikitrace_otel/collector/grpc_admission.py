"""Admission of gRPC calls: past the limit a call is refused at once, with a ``RetryInfo``.

grpcio can cap the calls in progress itself (``maximum_concurrent_rpcs``), but its refusal is a bare
``RESOURCE_EXHAUSTED``. OTLP makes that status retryable only when the server sends a ``RetryInfo``,
so the exporters that follow the specification (the Go SDK, the OpenTelemetry Collector's) would
drop the data instead of retrying. Admission therefore happens one step earlier, in the executor:
grpcio's synchronous server hands every call to the ``thread_pool`` it was given, as one task that
reads the request message and then runs the handler. :class:`AdmissionPool` counts the tasks queued
or running; under its limit a task goes to the workers as usual, past it to a small separate pool
whose threads are marked, and the handler, seeing :func:`refusing`, answers at once with a
retryable refusal without decoding or storing anything.

Everything stays bounded:

- the workers serve at most ``limit`` calls (queued or running), as grpcio's cap did before;
- each refusal thread holds at most one request message (at most ``max_body_bytes``), because
  grpcio reads it before the handler runs;
- grpcio's own cap stays, at :attr:`AdmissionPool.hard_cap`, well above the limit: it bounds the
  refusals waiting for a refusal thread. Only a flood past it gets grpcio's bare refusal.

A refusal thread is held until the client has sent its whole message (or gives up), so clients
that send slowly past the limit delay the refusals behind them; a waiting call ends at its
deadline with ``DEADLINE_EXCEEDED``, which OTLP clients retry too.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Final, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

REFUSAL_THREADS: Final = 2
"""Threads answering calls past the limit; each holds at most one request message."""
HARD_CAP_FACTOR: Final = 4
"""grpcio's own cap on calls in progress, as a multiple of the admission limit."""

_thread = threading.local()


def refusing() -> bool:
    """Whether the current thread runs a call past the admission limit (its handler must refuse it)."""
    return getattr(_thread, "refusing", False)


def _mark_refusal_thread() -> None:
    _thread.refusing = True


class AdmissionPool(ThreadPoolExecutor):
    """A thread pool for ``grpc.server`` that admits at most ``limit`` calls at once.

    Tasks past the limit run on a separate pool of :data:`REFUSAL_THREADS` threads, where
    :func:`refusing` is true: every handler served through this pool must then refuse the call at
    once with a retryable status. Give ``maximum_concurrent_rpcs=pool.hard_cap`` to ``grpc.server``
    so the tasks waiting for a refusal thread stay bounded too.

    Args:
        workers: threads serving admitted calls.
        limit: admitted calls (queued or running) at most; at least ``workers``.
        thread_name_prefix: names the threads (``<prefix>_<n>`` and ``<prefix>-refusal_<n>``).
    """

    def __init__(self, workers: int, limit: int, thread_name_prefix: str = "") -> None:
        if workers < 1 or limit < workers:
            raise ValueError(f"need 1 <= workers <= limit, got workers={workers}, limit={limit}")
        super().__init__(max_workers=workers, thread_name_prefix=thread_name_prefix)
        self.limit = limit
        self.hard_cap = limit * HARD_CAP_FACTOR
        self._refusals = ThreadPoolExecutor(
            REFUSAL_THREADS, thread_name_prefix=f"{thread_name_prefix}-refusal", initializer=_mark_refusal_thread
        )
        self._lock = threading.Lock()
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Calls admitted and not finished yet (queued or running)."""
        with self._lock:
            return self._admitted

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        """Run ``fn`` on a worker if under the limit, else on a refusal thread (see :func:`refusing`)."""
        with self._lock:
            admit = self._admitted < self.limit
            if admit:
                self._admitted += 1
        if not admit:
            return self._refusals.submit(fn, *args, **kwargs)
        try:
            future = super().submit(fn, *args, **kwargs)
        except BaseException:  # shut down: the task was never queued
            self._leave()
            raise
        # Runs when the task ends, fails or is cancelled, so a slot is never lost.
        future.add_done_callback(self._leave)
        return future

    def _leave(self, _future: Any = None) -> None:
        with self._lock:
            self._admitted -= 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Shut down the workers and the refusal threads."""
        super().shutdown(wait, cancel_futures=cancel_futures)
        self._refusals.shutdown(wait, cancel_futures=cancel_futures)
