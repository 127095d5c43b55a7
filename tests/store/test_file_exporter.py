"""FileSpanExporter: real SDK pipelines into a real directory, read back with read_spans."""

from __future__ import annotations

import errno
import logging
import math
import os
import re
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from store_support import ARRAYS, SCALARS, finished_spans, provider

from wikitrace_otel import exporters
from wikitrace_otel._genai.errors import InternalErrorRaised
from wikitrace_otel.exporters import DEFAULT_MAX_FILE_BYTES, FileSpanExporter, resolve_directory
from wikitrace_otel.store import ReadStats, StoredEvent, StoredLink, StoredSpan, read_spans, store_files

FILE_NAME = re.compile(r"spans-\d{8}T\d{6}\.\d{6}Z-(\d+)-\d{6}\.jsonl")
LOGGER = "wikitrace_otel.exporters.file"


def plain(value: Any) -> Any:
    """An SDK attribute value as the reader gives it back (tuples become lists)."""
    return [plain(v) for v in value] if isinstance(value, tuple) else value


def plain_dict(attributes: Any) -> dict[str, Any]:
    return {k: plain(v) for k, v in (attributes or {}).items()}


def expected(span: ReadableSpan, resource: dict[str, Any]) -> StoredSpan:
    """What read_spans should yield for an SDK span."""
    context = span.get_span_context()
    return StoredSpan(
        trace_id=f"{context.trace_id:032x}",
        span_id=f"{context.span_id:016x}",
        parent_span_id=f"{span.parent.span_id:016x}" if span.parent else None,
        name=span.name,
        kind=span.kind,
        start_time_unix_nano=span.start_time or 0,
        end_time_unix_nano=span.end_time or 0,
        attributes=plain_dict(span.attributes),
        status_code=span.status.status_code,
        status_message=span.status.description or "",
        events=tuple(StoredEvent(e.name, e.timestamp, plain_dict(e.attributes)) for e in span.events),
        links=tuple(
            StoredLink(f"{x.context.trace_id:032x}", f"{x.context.span_id:016x}", "", dict(x.attributes or {}))
            for x in span.links
        ),
        resource=resource,
        scope_name=span.instrumentation_scope.name if span.instrumentation_scope else "",
        scope_version=(span.instrumentation_scope.version or "") if span.instrumentation_scope else "",
        flags=0x300 if span.parent and span.parent.is_remote else 0x100,
    )


def one_span(name: str = "span", **attributes: Any) -> ReadableSpan:
    def build(tracer_provider: TracerProvider) -> None:
        with tracer_provider.get_tracer("t").start_as_current_span(name, attributes=attributes):
            pass

    return finished_spans(build)[0]


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]


# --- round trip -----------------------------------------------------------------------------


def test_round_trip_through_a_tracer_provider(tmp_path: Path) -> None:
    resource = Resource({"service.name": "shop", "deployment.environment": "test", "build": 7})
    memory = InMemorySpanExporter()
    tracer_provider = provider(FileSpanExporter(tmp_path), resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = tracer_provider.get_tracer("wikitrace.test", "1.0")
    values = {k: v for k, v in (SCALARS | ARRAYS).items() if k != "float.nan"}  # NaN != NaN: checked below

    with tracer.start_as_current_span("invoke_agent planner") as root:
        root.add_event("thinking", {"step": 1, "tags": ["a", "b"]})
        with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=values) as chat:
            chat.set_status(Status(StatusCode.ERROR, "rate limited"))
        with tracer.start_as_current_span("execute_tool search", links=[Link(chat.get_span_context(), {"why": "x"})]):
            pass

    stored = list(read_spans(tmp_path))
    assert stored == [expected(span, plain_dict(resource.attributes)) for span in memory.get_finished_spans()]
    assert [s.name for s in stored] == ["chat gpt-4o-mini", "execute_tool search", "invoke_agent planner"]
    assert stored[0].parent_span_id == stored[2].span_id and stored[2].parent_span_id is None


def test_special_values_read_back(tmp_path: Path) -> None:
    exporter = FileSpanExporter(tmp_path)
    exporter.export([one_span(nan=math.nan, huge=2**64, neg_zero=-0.0)])

    (span,) = read_spans(tmp_path)

    assert math.isnan(span.attributes["nan"])
    assert span.attributes["huge"] == "18446744073709551616"  # beyond int64: written as a string
    assert math.copysign(1, span.attributes["neg_zero"]) == -1


def test_one_line_per_export_batch(tmp_path: Path) -> None:
    exporter = FileSpanExporter(tmp_path)

    assert exporter.export([one_span("a"), one_span("b"), one_span("c")]) is SpanExportResult.SUCCESS
    assert exporter.export([one_span("d")]) is SpanExportResult.SUCCESS

    (file,) = store_files(tmp_path)
    assert file == exporter.current_file
    assert file.read_bytes().count(b"\n") == 2
    assert [s.name for s in read_spans(file)] == ["a", "b", "c", "d"]
    assert (exporter.exported_spans, exporter.failed_exports, exporter.failed_spans) == (4, 0, 0)


def test_an_empty_batch_writes_nothing(tmp_path: Path) -> None:
    exporter = FileSpanExporter(tmp_path)

    assert exporter.export([]) is SpanExportResult.SUCCESS
    assert list(tmp_path.iterdir()) == []
    assert exporter.current_file is None


def test_a_long_batch_is_split_into_several_whole_lines(tmp_path: Path) -> None:
    exporter = FileSpanExporter(tmp_path, max_line_bytes=3000)
    spans = [one_span(f"s{i}", payload="p" * 400) for i in range(40)]

    assert exporter.export(spans) is SpanExportResult.SUCCESS

    lines = exporter.current_file.read_bytes().splitlines(keepends=True)
    assert len(lines) > 5
    assert all(len(line) <= 3000 and line.endswith(b"\n") for line in lines)
    assert [s.name for s in read_spans(tmp_path)] == [f"s{i}" for i in range(40)]


# --- files ----------------------------------------------------------------------------------


def test_files_rotate_by_size_and_read_back_in_order(tmp_path: Path) -> None:
    exporter = FileSpanExporter(tmp_path, max_file_bytes=4000)

    for i in range(30):
        assert exporter.export([one_span(f"s{i}", payload="p" * 300)]) is SpanExportResult.SUCCESS
    exporter.export([one_span("big", payload="b" * 6000)])  # longer than a file: gets one alone
    exporter.export([one_span("after")])

    files = store_files(tmp_path)
    assert len(files) > 5
    for file in files:
        match = FILE_NAME.fullmatch(file.name)
        assert match and int(match.group(1)) == os.getpid(), file.name
        lines = file.read_bytes().count(b"\n")
        assert file.stat().st_size <= 4000 or lines == 1
    assert [s.name for s in read_spans(tmp_path)] == [f"s{i}" for i in range(30)] + ["big", "after"]
    assert exporter.exported_spans == 32


def test_default_sizes() -> None:
    assert DEFAULT_MAX_FILE_BYTES == 64 * 1024 * 1024
    assert exporters.DEFAULT_MAX_LINE_BYTES < 1024 * 1024  # the Collector receiver's default line limit
    assert (
        exporters.__all__
        == sorted(exporters.__all__)
        == [
            "DEFAULT_MAX_FILE_BYTES",
            "DEFAULT_MAX_LINE_BYTES",
            "FileSpanExporter",
            "resolve_directory",
        ]
    )


def test_threads_sharing_one_exporter_write_whole_lines(tmp_path: Path) -> None:
    exporter = FileSpanExporter(tmp_path, max_file_bytes=50_000)
    tracer = provider(exporter).get_tracer("threads")

    def work(n: int) -> None:
        for i in range(250):
            with tracer.start_as_current_span(f"t{n}", attributes={"i": i, "pad": "x" * (i % 97)}):
                pass

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    stats = ReadStats()
    spans = list(read_spans(tmp_path, stats=stats))
    assert stats.skipped_lines == 0
    written = sorted((s.name, s.attributes["i"]) for s in spans)
    assert written == sorted((f"t{n}", i) for n in range(4) for i in range(250))
    assert exporter.exported_spans == 1000


# --- where the store is ---------------------------------------------------------------------


def test_directory_from_argument_environment_or_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert FileSpanExporter().directory == tmp_path / ".wikitrace"
    assert (tmp_path / ".wikitrace").is_dir()

    monkeypatch.setenv("WIKITRACE_DIR", str(tmp_path / "from-env" / "nested"))
    assert FileSpanExporter().directory == tmp_path / "from-env" / "nested"
    assert (tmp_path / "from-env" / "nested").is_dir()

    assert FileSpanExporter("explicit").directory == tmp_path / "explicit"  # the argument wins, made absolute
    assert resolve_directory() == tmp_path / "from-env" / "nested"
    monkeypatch.setenv("WIKITRACE_DIR", "")  # empty means unset
    assert resolve_directory() == tmp_path / ".wikitrace"


def test_a_path_taken_by_a_file_is_a_clear_error(tmp_path: Path) -> None:
    taken = tmp_path / "taken"
    taken.write_text("not a directory")

    with pytest.raises(NotADirectoryError, match="not a directory"):
        FileSpanExporter(taken)
    with pytest.raises(NotADirectoryError):
        FileSpanExporter(taken / "below")


@pytest.mark.parametrize("name", ["max_file_bytes", "max_line_bytes"])
@pytest.mark.parametrize("value", [0, -1, 1.5, True, "1"])
def test_sizes_must_be_positive_integers(tmp_path: Path, name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=name):
        FileSpanExporter(tmp_path, **{name: value})


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs POSIX permissions that bind (not root)")
def test_an_unwritable_directory_is_a_clear_error(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="not writable"):
            FileSpanExporter(tmp_path)
    finally:
        tmp_path.chmod(0o700)


# --- failures -------------------------------------------------------------------------------


def test_a_lost_directory_fails_exports_logs_once_and_recovers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Replacing the directory with a file works for root too (chmod does not bind root).
    store = tmp_path / "store"
    exporter = FileSpanExporter(store)
    assert exporter.export([one_span("before")]) is SpanExportResult.SUCCESS
    shutil.rmtree(store)
    store.write_text("in the way")

    results = [exporter.export([one_span(f"lost{i}")]) for i in range(3)]

    assert results == [SpanExportResult.FAILURE] * 3
    assert (exporter.failed_exports, exporter.failed_spans, exporter.exported_spans) == (3, 3, 1)
    (warning,) = warnings_of(caplog)
    assert str(store) in warning
    store.unlink()
    assert exporter.export([one_span("after")]) is SpanExportResult.SUCCESS  # recreates the directory
    assert [s.name for s in read_spans(store)] == ["after"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_disk_fails_exports_logs_once_and_moves_to_a_new_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = FileSpanExporter(tmp_path)
    exporter.export([one_span("first")])
    first = exporter.current_file
    full = os.open("/dev/full", os.O_WRONLY)
    os.dup2(full, exporter._fd)  # the open file now answers every write with ENOSPC
    os.close(full)

    assert exporter.export([one_span("lost")]) is SpanExportResult.FAILURE
    assert exporter.current_file is None
    assert exporter.export([one_span("next")]) is SpanExportResult.SUCCESS

    assert exporter.current_file != first
    assert [s.name for s in read_spans(tmp_path)] == ["first", "next"]
    (warning,) = warnings_of(caplog)
    assert os.strerror(errno.ENOSPC) in warning


def test_unencodable_spans_fail_the_export_but_the_rest_is_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = FileSpanExporter(tmp_path)
    broken = ReadableSpan("no context")

    assert exporter.export([one_span("good"), broken, broken]) is SpanExportResult.FAILURE

    assert [s.name for s in read_spans(tmp_path)] == ["good"]
    assert (exporter.exported_spans, exporter.failed_spans, exporter.failed_exports) == (1, 2, 1)
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_shutdown_is_idempotent_and_later_exports_fail_quietly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = FileSpanExporter(tmp_path)
    exporter.export([one_span()])
    assert exporter.force_flush() is True

    exporter.shutdown()
    exporter.shutdown()

    assert exporter.current_file is None
    assert exporter.export([one_span()]) is SpanExportResult.FAILURE
    assert exporter.export([one_span()]) is SpanExportResult.FAILURE
    assert len(warnings_of(caplog)) == 1
    assert exporter.exported_spans == 1
    assert len(list(read_spans(tmp_path))) == 1


def test_a_store_directory_removed_while_running_is_made_again(tmp_path: Path) -> None:
    store = tmp_path / "store"
    exporter = FileSpanExporter(store, max_file_bytes=10)  # every export starts a new file
    exporter.export([one_span("a")])
    shutil.rmtree(store)

    assert exporter.export([one_span("b")]) is SpanExportResult.SUCCESS
    assert [s.name for s in read_spans(store)] == ["b"]


def test_a_bug_of_ours_is_reported_not_raised_into_the_sdk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = FileSpanExporter(tmp_path)

    def broken(*args: Any) -> Any:
        raise RuntimeError("encoder bug")

    monkeypatch.setattr(exporter._encoder, "encode", broken)
    with pytest.raises(InternalErrorRaised):  # the test suite asks internal errors to surface
        exporter.export([one_span()])

    monkeypatch.setenv("WIKITRACE_RAISE_INTERNAL_ERRORS", "false")
    assert exporter.export([one_span()]) is SpanExportResult.FAILURE
    assert (exporter.failed_exports, exporter.failed_spans) == (1, 1)
    assert any("encoder bug" in repr(r.exc_info) for r in caplog.records if r.exc_info)
