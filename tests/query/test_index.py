"""Incremental indexing of JSONL files and WAL segments, merges, and damaged input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode
from query_support import wal_record, write_wal

from wikitrace_otel.exporters import FileSpanExporter
from wikitrace_otel.query import QueryStore, TraceFilter, _parts

OTHER_SDK_CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.system": "openai",  # the older name some SDKs still send
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.prompt_tokens": 1000,
    "gen_ai.usage.completion_tokens": 500,
    "user.id": "carol",
}


def make_spans(count: int, *, service: str = "wal-service", attributes: dict | None = None) -> list[ReadableSpan]:
    """``count`` two-span traces (a root and a chat call) made by a real SDK provider."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("other-sdk", "9.9")
    for index in range(count):
        root = {"bytes": b"\x00\x01", "ratio": float("nan")}
        with (
            tracer.start_as_current_span(f"request {index}", attributes=root),
            tracer.start_as_current_span("chat gpt-4o-mini", attributes=attributes or OTHER_SDK_CHAT) as chat,
        ):
            chat.add_event("retry", {"attempt": 2, "tags": ("a", "b")})
            if index % 2:
                chat.set_status(Status(StatusCode.ERROR, "boom"))
    return list(memory.get_finished_spans())


def test_refresh_reads_only_what_was_appended(store_dir: Path) -> None:
    exporter = FileSpanExporter(store_dir)
    with QueryStore(store_dir) as store:
        exporter.export(make_spans(3))
        assert store.refresh() == 6
        assert store.refresh() == 0
        exporter.export(make_spans(2))
        assert store.refresh() == 4
        assert store.span_count == 10 and len(store.list_traces()) == 5


def test_a_line_being_written_waits_for_its_newline(store_dir: Path) -> None:
    FileSpanExporter(store_dir).export(make_spans(1))
    (path,) = store_dir.glob("*.jsonl")
    line = path.read_bytes()
    other = store_dir / "spans-other.jsonl"
    other.write_bytes(line[:100])
    with QueryStore(store_dir) as store:
        assert store.refresh() == 2
        with open(other, "ab") as stream:
            stream.write(line[100:])
        assert store.refresh() == 2
        with open(other, "ab") as stream:
            stream.write(b"{not json}\n" + line)
        assert store.refresh() == 2
        assert store.skipped_lines == 1


def test_wal_spans_from_other_sdks_are_priced(store_dir: Path) -> None:
    spans = make_spans(4)
    write_wal(store_dir, [spans[:4], spans[4:]])
    with QueryStore(store_dir) as store:
        assert store.refresh() == 8
        (row,) = store.stats("provider")
        assert (row["key"], row["calls"], row["errors"], row["input_tokens"], row["output_tokens"]) == (
            "openai",
            4,
            2,
            4000,
            2000,
        )
        assert row["cost"] > 0  # priced while indexed: the spans carried no cost
        trace = store.list_traces(TraceFilter(user="carol", limit=1))[0]
        chat = next(span for span in store.get_trace(trace["trace_id"]) if span["name"].startswith("chat"))
        assert chat["scope_name"] == "other-sdk" and chat["scope_version"] == "9.9"
        assert chat["events"][0]["attributes"] == {"attempt": 2, "tags": ["a", "b"]}
        root = next(span for span in store.get_trace(trace["trace_id"]) if span["parent_span_id"] is None)
        assert root["attributes"]["ratio"] == "NaN"  # JSON-safe forms
        # base64 of a bytesValue; SDKs before 1.42 encode bytes attributes as a string instead
        assert root["attributes"]["bytes"] in ("AAE=", "\x00\x01")


def test_wal_torn_tail_is_read_once_complete(store_dir: Path) -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    first, second = make_spans(1), make_spans(2)
    record = wal_record(encode_spans(second).SerializeToString())
    path = write_wal(store_dir, [first], tail=record[:20])
    with QueryStore(store_dir) as store:
        assert store.refresh() == 2
        with open(path, "ab") as stream:
            stream.write(record[20:])
        assert store.refresh() == 4
        assert store.span_count == 6


def test_a_damaged_record_ends_an_earlier_segment(store_dir: Path) -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    record = bytearray(wal_record(encode_spans(make_spans(1)).SerializeToString()))
    record[-1] ^= 0xFF  # CRC mismatch
    write_wal(store_dir, [make_spans(1)], segment=1, tail=bytes(record))
    write_wal(store_dir, [make_spans(2)], segment=2)
    with QueryStore(store_dir) as store:
        assert store.refresh() == 2 + 4
        write_wal(store_dir, [make_spans(1)], segment=2)
        assert store.refresh() == 2


def test_jsonl_and_wal_together(store_dir: Path) -> None:
    FileSpanExporter(store_dir).export(make_spans(1, service="local"))
    write_wal(store_dir, [make_spans(1, service="remote")])
    with QueryStore(store_dir) as store:
        store.refresh()
        assert {row["key"] for row in store.stats("service")} == {"local", "remote"}


def test_tenants_are_never_read_from_the_root(store_dir: Path) -> None:
    tenant = store_dir / "tenants" / "acme"
    write_wal(tenant, [make_spans(2)])
    FileSpanExporter(tenant).export(make_spans(1))
    with QueryStore(store_dir) as root, QueryStore(tenant) as acme:
        assert root.refresh() == 0 and root.list_traces() == []
        assert acme.refresh() == 6


def test_parts_merge_and_results_stay_the_same(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_parts, "MERGE_FAN_IN", 3)
    exporter = FileSpanExporter(store_dir)
    with QueryStore(store_dir) as store:
        for _ in range(7):
            exporter.export(make_spans(1))
            store.refresh()
        manifest = json.loads((store_dir / "index" / "manifest.json").read_text())
        assert sorted(part["level"] for part in manifest["parts"]) == [0, 1, 1]
        assert len(manifest["retired"]) == 6  # kept on disk for queries that started before the merge
        assert all((store_dir / "index" / "parts" / entry["name"]).exists() for entry in manifest["retired"])
        assert store.span_count == 14 and len(store.list_traces()) == 7
        assert sum(row["calls"] for row in store.stats("model")) == 7
        monkeypatch.setattr(_parts, "RETIRE_SECONDS", 0.0)
        exporter.export(make_spans(1))
        store.refresh()
        assert len(os.listdir(store_dir / "index" / "parts")) == len(
            json.loads((store_dir / "index" / "manifest.json").read_text())["parts"]
        )


def test_tail_api_follows_batches(store_dir: Path) -> None:
    exporter = FileSpanExporter(store_dir)
    exporter.export(make_spans(1))
    with QueryStore(store_dir) as store:
        store.refresh()
        recent, batch = store.recent_spans(1)
        assert len(recent) == 1 and recent[0]["name"] == "chat gpt-4o-mini"  # the latest to start
        assert store.spans_after(batch) == ([], batch)
        exporter.export(make_spans(2))
        store.refresh()
        spans, newer = store.spans_after(batch, TraceFilter(status="error"))
        assert newer == batch + 1 and [span["status_code"] for span in spans] == ["ERROR"]


def test_wal_spans_export_as_the_file_exporter_writes_them(store_dir: Path, tmp_path: Path) -> None:
    import io

    from wikitrace_otel.store import read_spans

    spans = make_spans(3)
    write_wal(store_dir, [spans])
    reference = tmp_path / "reference"
    FileSpanExporter(reference).export(spans)
    with QueryStore(store_dir) as store:
        store.refresh()
        out = io.StringIO()
        assert store.export(out) == 6
    exported = tmp_path / "exported.jsonl"
    exported.write_text(out.getvalue())
    expected = sorted(read_spans(reference), key=lambda span: span.span_id)
    # repr: the root spans carry a NaN, which equals nothing
    assert repr(sorted(read_spans(exported), key=lambda span: span.span_id)) == repr(expected)


def test_a_deleted_source_leaves_its_spans_indexed_but_incomplete(store_dir: Path) -> None:
    import io

    FileSpanExporter(store_dir).export(make_spans(1))
    with QueryStore(store_dir) as store:
        store.refresh()
        (trace,) = store.list_traces()
        assert all(span["complete"] for span in store.get_trace(trace["trace_id"]))
        for path in store_dir.glob("*.jsonl"):
            path.unlink()
        store.refresh()
        spans = store.get_trace(trace["trace_id"])
        assert [span["complete"] for span in spans] == [False, False]
        assert spans[1]["request_model"] == "gpt-4o-mini" and spans[1]["attributes"] == {}
        out = io.StringIO()
        assert store.export(out) == 2
        assert json.loads(out.getvalue())["resourceSpans"][0]["resource"]["attributes"][0]["key"] == "service.name"


def test_awkward_text_survives_indexing(store_dir: Path) -> None:
    content = 'line one\r\nline "two", with\ttabs\x00 and é ✓ 🎉'
    attributes = {**OTHER_SDK_CHAT, "gen_ai.input.messages": content, "gen_ai.request.model": 'model "q",\r\n'}
    write_wal(store_dir, [make_spans(1, attributes=attributes)])
    # JSON text can hold a lone surrogate (protobuf cannot): it is indexed as "?"
    attributes = {**attributes, "gen_ai.input.messages": content + " \ud800"}
    FileSpanExporter(store_dir).export(make_spans(1, attributes=attributes))
    with QueryStore(store_dir) as store:
        assert store.refresh() == 4
        found = store.list_traces(TraceFilter(search='"TWO", WITH\tTABS'))
        assert len(found) == 2
        assert {trace["models"][0] for trace in found} == {'model "q",\r\n'}
        assert len(store.list_traces(TraceFilter(search="🎉 ?"))) == 1


def test_parts_are_bounded_by_source_bytes_too(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wikitrace_otel.query import _indexer

    monkeypatch.setattr(_indexer, "PART_BYTES", 50_000)
    monkeypatch.setattr(_indexer, "_READ_BYTES", 20_000)
    big = {**OTHER_SDK_CHAT, "gen_ai.input.messages": "many words " * 2000}  # few spans, many bytes
    FileSpanExporter(store_dir, max_line_bytes=30_000).export(make_spans(20, attributes=big))
    with QueryStore(store_dir) as store:
        assert store.refresh() == 40
        manifest = json.loads((store_dir / "index" / "manifest.json").read_text())
        assert len(manifest["parts"]) >= 4
        assert sum(part["rows"] for part in manifest["parts"]) == 40
        assert (store_dir / "index" / "spill").is_dir()  # DuckDB creates only the last level when it spills
