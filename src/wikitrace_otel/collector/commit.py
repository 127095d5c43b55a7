"""Group commit: one writer thread appends waiting requests to their WALs, fsyncs once, releases them.

A request thread calls :meth:`GroupCommitter.commit` and blocks until its payload is on disk. The
writer thread takes everything queued, appends it, fsyncs each WAL it touched once, then wakes
every request in the batch, so the cost of an fsync is shared by all requests that arrived while
the previous one ran. :class:`ByteBudget` bounds the bytes held by requests between reading their
body and that fsync; a request that does not fit is answered with a retryable "overloaded" error.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Final

from wikitrace_otel.collector.wal import WalWriter

_logger = logging.getLogger(__name__)

COMMIT_TIMEOUT_S: Final = 30.0
"""Longest wait for the disk before a request is answered "unavailable" (the client retries)."""


class OverloadedError(Exception):
    """The in-flight byte budget is spent: answer 503 / RESOURCE_EXHAUSTED with a retry delay."""


class UnavailableError(Exception):
    """The collector cannot store right now (shutting down, disk error): answer 503 / UNAVAILABLE."""


class ByteBudget:
    """A counter of bytes held by requests in flight, refusing to go over ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used = 0
        self._lock = threading.Lock()

    @property
    def used(self) -> int:
        """Bytes currently held."""
        return self._used

    def acquire(self, size: int) -> None:
        """Hold ``size`` bytes; raises :class:`OverloadedError` if they do not fit.

        A single request larger than the whole budget is let through when nothing else is in
        flight, so a limit below the body-size limit cannot make a request impossible.
        """
        with self._lock:
            if self._used + size > self.limit and self._used > 0:
                raise OverloadedError(f"{self._used} bytes in flight, limit {self.limit}")
            self._used += size

    def release(self, size: int) -> None:
        """Give back ``size`` bytes taken by :meth:`acquire`."""
        with self._lock:
            self._used -= size


class _Pending:
    __slots__ = ("done", "error", "key", "payload")

    def __init__(self, key: tuple[str, str], payload: bytes) -> None:
        self.key = key
        self.payload = payload
        self.done = threading.Event()
        self.error: BaseException | None = None


CommitListener = Callable[[str, str, list[bytes]], None]
"""Called by the writer thread after a commit with ``(tenant, signal, payloads)``; it must not block."""


class GroupCommitter:
    """Owns the WAL writers of every tenant and signal and the thread that writes them.

    Args:
        wal_directory: maps ``(tenant, signal)`` to that WAL's directory; ``tenant`` is "" for
            the store root.
        listeners: called after each commit (forwarding, index refresh); failures are logged.
    """

    def __init__(
        self, wal_directory: Callable[[str, str], Path], listeners: list[CommitListener] | None = None
    ) -> None:
        self._wal_directory = wal_directory
        self._listeners = list(listeners or [])
        self._writers: dict[tuple[str, str], WalWriter] = {}
        self._queue: deque[_Pending] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="wikitrace-wal-writer", daemon=True)
        self.commits = 0
        """Group commits (fsync rounds) done so far."""

    def start(self) -> None:
        """Start the writer thread."""
        self._thread.start()

    def add_listener(self, listener: CommitListener) -> None:
        """Also call ``listener`` after each commit."""
        self._listeners.append(listener)

    def commit(self, tenant: str, signal: str, payload: bytes, timeout: float = COMMIT_TIMEOUT_S) -> None:
        """Append ``payload`` to the WAL of ``(tenant, signal)`` and return once it is fsync'ed.

        Raises:
            UnavailableError: the committer is closed, the write failed, or the disk took too long.
        """
        pending = _Pending((tenant, signal), payload)
        with self._cond:
            if self._closed:
                raise UnavailableError("the collector is shutting down")
            self._queue.append(pending)
            self._cond.notify()
        if not pending.done.wait(timeout):
            raise UnavailableError("timed out waiting for the disk")
        if pending.error is not None:
            raise UnavailableError(f"could not write: {pending.error}") from pending.error

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue:
                    break
                batch = list(self._queue)
                self._queue.clear()
            self._write_batch(batch)
        self._close_writers()

    def _write_batch(self, batch: list[_Pending]) -> None:
        groups: dict[tuple[str, str], list[_Pending]] = {}
        for pending in batch:
            groups.setdefault(pending.key, []).append(pending)
        for key, items in groups.items():
            try:
                writer = self._writer(key)
                writer.append([item.payload for item in items])
                writer.sync()
            except (OSError, ValueError) as exc:
                _logger.error("WAL write failed for %s: %s", key, exc)
                for item in items:
                    item.error = exc
        self.commits += 1
        for pending in batch:
            pending.done.set()
        for key, items in groups.items():
            payloads = [item.payload for item in items if item.error is None]
            if payloads:
                self._notify(key, payloads)

    def _notify(self, key: tuple[str, str], payloads: list[bytes]) -> None:
        for listener in self._listeners:
            try:
                listener(key[0], key[1], payloads)
            except Exception:  # a listener's bug must not stop the writer
                _logger.exception("commit listener failed")

    def _writer(self, key: tuple[str, str]) -> WalWriter:
        writer = self._writers.get(key)
        if writer is None:
            writer = self._writers[key] = WalWriter(self._wal_directory(*key))
        return writer

    def _close_writers(self) -> None:
        for key, writer in self._writers.items():
            try:
                writer.close()
            except OSError as exc:
                _logger.error("closing WAL %s failed: %s", key, exc)

    def close(self, timeout: float | None = None) -> None:
        """Commit what is queued, fsync and close every WAL; later commits raise :class:`UnavailableError`."""
        with self._cond:
            self._closed = True
            self._cond.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)
        elif not self._thread.ident:
            self._close_writers()
