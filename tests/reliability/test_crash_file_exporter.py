"""Crash safety of an application writing the local store: SIGKILL at random points, the store stays whole.

An application process calls ``wikitrace_otel.install(store=...)`` (the default destination: the file
exporter behind a ``BatchSpanProcessor``) and ends spans in a loop, in batches of random size with
payloads large enough that lines run to hundreds of kilobytes (the exporter splits lines at 1 MB).
After some batches it calls ``force_flush()``: the exporter's contract is that once that returns True,
every span ended before it has reached the operating system in whole lines. Only then does the
application print those span ids, and those are the *acknowledged* spans. Other batches are left to the
batch processor's own thread, so a kill also lands in writes nobody waits for.

Each life of the application is SIGKILLed at a seeded random moment (every other one just after a
random flush began, aiming at the write of a large line), and the next one starts on the same store.
After each kill the store reader must read every file with no malformed line and at most one torn
(unterminated) last line per file, only in a file of a killed process; every acknowledged span must be
there, none twice, each intact (its payload matches its checksum). At the end the query index built
from the store must hold exactly the spans the reader sees.

Reproduce a failure with the seed it prints: ``WIKITRACE_CRASH_SEED=<seed> pytest tests/reliability/...``.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from process_support import Processes, duplicates, read_line
from reliability_sizes import sized

from wikitrace_otel.store import ReadStats, read_spans, store_files

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

_SEED = os.environ.get("WIKITRACE_CRASH_SEED", "")  # read at import: tests/conftest.py clears WIKITRACE_*

APPLICATION = """
import hashlib, random, sys
from opentelemetry import trace
import wikitrace_otel

store, life, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = random.Random(seed)
handle = wikitrace_otel.install("crash-app", store=store, instrument=[])
tracer = trace.get_tracer("crash")
print("ready", flush=True)
sequence = 0
while True:
    ended = []
    for _ in range(rng.choice((1, 8, 64, 256))):
        payload = rng.randbytes(rng.randint(0, 1500)).hex()
        attributes = {"life": life, "seq": sequence, "payload": payload,
                      "digest": hashlib.sha256(payload.encode()).hexdigest()[:16]}
        with tracer.start_as_current_span("chat gpt-4o-mini", attributes=attributes) as span:
            ended.append(format(span.get_span_context().span_id, "016x"))
        sequence += 1
    if rng.random() < 0.6:
        sys.stdout.write("flushing\\n")  # the test may aim its kill at the write that follows
        sys.stdout.flush()
        if handle.force_flush(30_000):
            sys.stdout.write("acked " + " ".join(ended) + "\\n")  # one write of a line: a pipe keeps it whole
            sys.stdout.flush()
"""


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    yield started
    started.close()


def crash_seed() -> int:
    seed = int(_SEED) if _SEED else random.SystemRandom().randrange(2**32)
    print(f"crash seed: {seed} (replay with WIKITRACE_CRASH_SEED={seed})")
    return seed


def run_and_kill(processes: Processes, store: Path, life: int, rng: random.Random) -> tuple[int, set[str]]:
    """One life of the application, SIGKILLed at a random moment; returns its pid and acknowledged span ids.

    Every other life is killed at a random time; the others just after a random flush began, where a
    kill is likelier to land inside the write of a large line.
    """
    command = [sys.executable, "-c", APPLICATION, str(store), str(life), str(rng.randrange(2**32))]
    application = processes.start(command, stderr=None)
    line = read_line(application.stdout, 60)
    assert line == "ready\n", f"the application did not start: {line!r}"
    lines: list[str] = []
    flushes = threading.Semaphore(0)
    reader = threading.Thread(target=_pump, args=(application.stdout, lines, flushes), daemon=True)
    reader.start()
    if life % 2:
        for _ in range(rng.randint(1, 4)):
            flushes.acquire(timeout=10)
        time.sleep(rng.uniform(0.0, 0.02))
    else:
        time.sleep(rng.uniform(0.05, 1.0))
    application.send_signal(signal.SIGKILL)
    assert application.wait(timeout=30) == -signal.SIGKILL
    reader.join(30)  # the pipe ends with the process
    acknowledged = set()
    for text in lines:
        if text.startswith("acked ") and text.endswith("\n"):
            acknowledged.update(text.split()[1:])
    return application.pid, acknowledged


def _pump(stream: Any, lines: list[str], flushes: threading.Semaphore) -> None:
    for text in stream:
        lines.append(text)
        if text == "flushing\n":
            flushes.release()


class StoreCheck:
    """Reads the store after each kill; a file of a dead process never changes, so it is read only once."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.killed: set[int] = set()
        self.acknowledged: set[str] = set()
        self._files: dict[str, tuple[int, list[str], int]] = {}  # name -> (size, span ids, torn lines)

    def run(self) -> tuple[int, int, int]:
        """Assert the store reads cleanly and holds every acknowledged span once; returns (spans, lost, torn)."""
        files = store_files(self.store)
        last_file = {_pid(file): file for file in files}  # names sort by creation: the last one wins
        for file in files:
            size = file.stat().st_size
            if self._files.get(file.name, (-1,))[0] != size:
                self._files[file.name] = (size, *self._read(file, may_be_torn=last_file[_pid(file)] == file))
        seen = [span for _, spans, _ in self._files.values() for span in spans]
        twice = duplicates(seen)
        assert not twice, f"{len(twice)} spans stored twice, e.g. {twice[:3]}"
        lost = self.acknowledged - set(seen)
        assert not lost, f"{len(lost)} acknowledged spans are missing, e.g. {sorted(lost)[:3]}"
        return len(seen), len(lost), sum(torn for _, _, torn in self._files.values())

    def _read(self, file: Path, may_be_torn: bool) -> tuple[list[str], int]:
        stats = ReadStats()
        spans = []
        for span in read_spans(file, stats=stats):
            digest = hashlib.sha256(span.attributes["payload"].encode()).hexdigest()[:16]
            assert span.attributes["digest"] == digest, f"span {span.span_id} in {file.name} is garbled"
            spans.append(span.span_id)
        assert stats.malformed_lines == 0, f"{file.name}: {stats.malformed_lines} malformed lines"
        allowed = 1 if may_be_torn and _pid(file) in self.killed else 0  # only a killed process's last write
        assert stats.partial_lines <= allowed, f"{file.name}: {stats.partial_lines} torn lines"
        return spans, stats.partial_lines


def _pid(file: Path) -> int:
    return int(file.name.split("-")[2])  # spans-<time>-<pid>-<sequence>.jsonl


def test_acknowledged_spans_survive_kill_9_of_the_application(
    tmp_path: Path, processes: Processes, outcome: Callable[..., None]
) -> None:
    seed = crash_seed()
    rng = random.Random(seed)
    store = tmp_path / "store"
    points = sized(ci=5, full=100)
    check = StoreCheck(store)
    torn = stored = lost = 0
    for life in range(points):
        pid, acked = run_and_kill(processes, store, life, rng)
        check.killed.add(pid)
        check.acknowledged |= acked
        stored, lost, torn = check.run()

    from wikitrace_otel.query import QueryStore

    with QueryStore(store, threads=1) as index:
        index.refresh()
        assert index.span_count == stored, "the index does not hold exactly the spans the reader sees"

    assert check.acknowledged, "no life lived long enough to acknowledge a span"
    outcome(crash_points=points, acknowledged=len(check.acknowledged), spans_lost=lost, torn_lines=torn, seed=seed)
