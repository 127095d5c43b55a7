"""The span store across processes: concurrent writers, fork, SIGKILL mid-write, a write cut short.

Each case runs real interpreters (``sys.executable``) writing real files, then reads the store.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from store_support import run_python

from wikitrace_otel.store import ReadStats, read_spans, store_files

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX processes and signals")

PREAMBLE = """
import os, sys, time
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from wikitrace_otel.exporters import FileSpanExporter
"""

CONCURRENT_WRITER = (
    PREAMBLE
    + """
directory, writer, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
exporter = FileSpanExporter(directory, max_file_bytes=300_000)
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer("writer")
deadline = time.monotonic() + 30
while not os.path.exists(go):  # both writers start together
    if time.monotonic() > deadline:
        sys.exit("never told to go")
    time.sleep(0.002)
for i in range(count):
    with tracer.start_as_current_span("w", attributes={"writer": writer, "seq": i, "pad": "x" * (i % 700)}):
        pass
assert (exporter.exported_spans, exporter.failed_exports) == (count, 0), exporter.failed_exports
"""
)


def test_two_processes_write_one_store_at_once(tmp_path: Path) -> None:
    count = 2500
    go = tmp_path / "go"
    store = tmp_path / "store"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_WRITER, str(store), name, str(count), str(go)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b")
    ]
    go.touch()
    for writer in writers:
        _, stderr = writer.communicate(timeout=60)
        assert writer.returncode == 0, stderr

    stats = ReadStats()
    spans = list(read_spans(store, stats=stats))

    assert stats.skipped_lines == 0
    assert stats.lines == 2 * count  # one line per span (SimpleSpanProcessor)
    for name in ("a", "b"):
        assert [s.attributes["seq"] for s in spans if s.attributes["writer"] == name] == list(range(count))
    pids = {int(f.name.split("-")[2]) for f in store_files(store)}
    assert pids == {w.pid for w in writers}
    assert len(store_files(store)) > 4  # both rotated


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_writes_its_own_file(tmp_path: Path) -> None:
    done = run_python(
        PREAMBLE
        + """
exporter = FileSpanExporter(sys.argv[1])
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
tracer = provider.get_tracer("fork")
with tracer.start_as_current_span("parent before"):
    pass
child = os.fork()
if child == 0:
    with tracer.start_as_current_span("child"):
        pass
    os._exit(0 if exporter.failed_exports == 0 else 1)
_, status = os.waitpid(child, 0)
assert status == 0, status
with tracer.start_as_current_span("parent after"):
    pass
print(os.getpid(), child)
""",
        str(tmp_path),
    )
    parent, child = (int(pid) for pid in done.stdout.split())

    by_pid = {int(f.name.split("-")[2]): [s.name for s in read_spans(f)] for f in store_files(tmp_path)}

    assert by_pid == {parent: ["parent before", "parent after"], child: ["child"]}


@posix_only
def test_sigkill_mid_write_leaves_only_whole_spans(tmp_path: Path) -> None:
    batch, payload = 64, 8000  # ~0.5 MB lines: a kill has a fair chance to land inside a write
    script = (
        PREAMBLE
        + f"""
exporter = FileSpanExporter(sys.argv[1], max_file_bytes=3_000_000)
memory = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(memory))
tracer = provider.get_tracer("crash")
seq = 0
while True:
    for _ in range({batch}):
        with tracer.start_as_current_span("c", attributes={{"seq": seq, "payload": "p" * {payload}}}):
            seq += 1
    exporter.export(memory.get_finished_spans())
    memory.clear()
    if seq == {batch}:
        print("writing", flush=True)
"""
    )
    with subprocess.Popen([sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True) as writer:
        try:
            assert writer.stdout is not None
            assert writer.stdout.readline() == "writing\n"
            time.sleep(0.5)
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL

    files = store_files(tmp_path)
    seqs = []
    for index, file in enumerate(files):
        stats = ReadStats()
        spans = list(read_spans(file, stats=stats))
        assert stats.malformed_lines == 0
        assert stats.partial_lines <= (1 if index == len(files) - 1 else 0)  # only the last write can be cut
        assert all(len(s.attributes["payload"]) == payload for s in spans)
        seqs += [s.attributes["seq"] for s in spans]
    assert len(seqs) >= batch
    assert len(seqs) % batch == 0  # whole lines (batches) only
    assert seqs == list(range(len(seqs)))
    assert len(files) > 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_FSIZE short writes as on Linux")
def test_a_write_cut_short_leaves_one_partial_line_and_the_next_export_starts_a_new_file(tmp_path: Path) -> None:
    # A file size limit makes the kernel write only part of a line (as a full disk can).
    done = run_python(
        PREAMBLE
        + """
import json, resource, signal
from opentelemetry.sdk.trace.export import SpanExportResult
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # get EFBIG instead of being killed
exporter = FileSpanExporter(sys.argv[1])
memory = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(memory))
results, limit = [], None
for i in range(5):
    with provider.get_tracer("t").start_as_current_span(f"s{i}", attributes={"payload": "p" * 3000}):
        pass
    results.append(exporter.export(memory.get_finished_spans()) is SpanExportResult.SUCCESS)
    memory.clear()
    if limit is None:  # room for two and a half lines of this size in any file
        limit = exporter.current_file.stat().st_size * 5 // 2
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
print(json.dumps([results, exporter.exported_spans, exporter.failed_spans, exporter.failed_exports, limit]))
""",
        str(tmp_path),
    )
    results, exported, failed_spans, failed_exports, limit = json.loads(done.stdout)

    assert results == [True, True, False, True, True]
    assert (exported, failed_spans, failed_exports) == (4, 1, 1)
    assert done.stderr.count("cannot write to span store") == 1
    first, second = store_files(tmp_path)
    stats = ReadStats()
    assert [s.name for s in read_spans(first, stats=stats)] == ["s0", "s1"]
    assert (stats.partial_lines, stats.malformed_lines) == (1, 0)
    assert first.stat().st_size == limit
    assert [s.name for s in read_spans(second)] == ["s3", "s4"]


def test_subprocess_helper_reports_failures() -> None:
    with pytest.raises(AssertionError, match="boom"):
        run_python(textwrap.dedent("raise SystemExit('boom')"))
