"""Keeps the query index fresh from a separate, lower-priority process.

Indexing (decoding WAL records, writing Parquet parts) is CPU-heavy. In the receiver's process it
would compete with request threads for the GIL and cut the durable ingest rate by half or more,
so the collector hands it to a child process (``python -m wikitrace_otel.collector.indexer``)
running at a lower scheduling priority. The parent writes one store root per line on the child's
stdin when new traces were committed there (at most once per refresh interval per root); the
child refreshes each root's index. Closing stdin stops the child after its current refresh. The
query engine lets several processes share a store, so the collector's own ``/api`` queries see
what the child publishes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Final

_logger = logging.getLogger(__name__)

NICENESS: Final = 10
"""How much lower the child's priority is: ingest first, indexing with the CPU left over."""
RESTART_DELAY_S: Final = 5.0


class IndexerProcess:
    """The parent's handle on the indexing child; thread-safe, starts the child on first use."""

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._failed_at = 0.0
        self._closed = False

    def refresh(self, roots: list[Path]) -> None:
        """Ask the child to refresh the index of each root (does not wait)."""
        with self._lock:
            if self._closed:
                return
            process = self._running()
            if process is None or process.stdin is None:
                return
            try:
                process.stdin.write(b"".join(os.fsencode(root) + b"\n" for root in roots))
                process.stdin.flush()
            except OSError as exc:
                _logger.warning("index refresh process is gone (%s); restarting it later", exc)
                self._failed_at = time.monotonic()
                self._process = None

    def _running(self) -> subprocess.Popen[bytes] | None:
        if self._process is not None and self._process.poll() is None:
            return self._process
        if self._process is not None:
            _logger.warning("index refresh process exited with status %s", self._process.returncode)
            self._failed_at, self._process = time.monotonic(), None
        if time.monotonic() - self._failed_at < RESTART_DELAY_S and self._failed_at:
            return None
        command = [sys.executable, "-m", "wikitrace_otel.collector.indexer"]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
        return self._process

    def close(self, timeout: float = 10.0) -> None:
        """Let the child finish its current refresh and exit; kill it after ``timeout``."""
        with self._lock:
            self._closed = True
            process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _read_lines(lines: queue.Queue[str | None]) -> None:
    for raw in sys.stdin.buffer:
        lines.put(os.fsdecode(raw.rstrip(b"\n")))
    lines.put(None)


def _refresh(stores: dict[str, Any], root: str) -> None:
    from wikitrace_otel.query import QueryStore

    store = stores.get(root)
    if store is None:
        store = stores[root] = QueryStore(root)
    try:
        store.refresh()
    except Exception:  # one bad root (a full disk, a damaged part) must not stop the others
        _logger.exception("refreshing the index of %s failed", root)


def main() -> int:
    """The child: refresh the roots named on stdin until it closes."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    with contextlib.suppress(OSError, AttributeError):
        os.nice(NICENESS)
    # Ctrl-C reaches the whole process group: the parent decides when this process stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_read_lines, args=(lines,), daemon=True).start()
    stores: dict[str, Any] = {}
    done = False
    try:
        while not done:
            pending = {lines.get()}
            with contextlib.suppress(queue.Empty):
                while True:
                    pending.add(lines.get_nowait())
            done = None in pending
            for root in sorted(root for root in pending if root):
                _refresh(stores, root)
    finally:
        for store in stores.values():
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
