"""read_spans / read_traces_data: order, damaged lines, every value kind, foreign OTLP/JSON."""

from __future__ import annotations

import base64
import json
import logging
import math
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import SpanKind, StatusCode
from store_support import finished_spans, protobuf_encoding

from wikitrace_otel import store
from wikitrace_otel.exporters import FileSpanExporter
from wikitrace_otel.store import (
    ReadStats,
    StoredEvent,
    StoredLink,
    any_value,
    read_spans,
    read_traces_data,
    store_files,
)

TRACE = "0af7651916cd43dd8448eb211c80319c"


def span_json(name: str, span_id: str = "00f067aa0ba902b7", **fields: Any) -> dict[str, Any]:
    return {"traceId": TRACE, "spanId": span_id, "name": name, **fields}


def line(*spans: dict[str, Any], resource: dict[str, Any] | None = None, scope: dict[str, Any] | None = None) -> str:
    """One TracesData line holding ``spans`` under one resource and scope."""
    scope_spans = {"scope": scope or {}, "spans": list(spans)}
    return json.dumps({"resourceSpans": [{"resource": resource or {}, "scopeSpans": [scope_spans]}]}) + "\n"


def write(path: Path, *lines: str | bytes) -> Path:
    path.write_bytes(b"".join(x.encode() if isinstance(x, str) else x for x in lines))
    return path


def test_exported_names() -> None:
    assert store.__all__ == sorted(store.__all__)
    assert store.__all__ == [
        "ReadStats",
        "StoredEvent",
        "StoredLink",
        "StoredSpan",
        "any_value",
        "read_spans",
        "read_traces_data",
        "store_files",
    ]


def test_a_directory_reads_its_jsonl_files_in_name_order(tmp_path: Path) -> None:
    write(tmp_path / "spans-2.jsonl", line(span_json("c")), line(span_json("d"), span_json("e")))
    write(tmp_path / "spans-1.jsonl", line(span_json("a"), span_json("b")))
    write(tmp_path / "notes.txt", line(span_json("not a store file")))
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "spans-0.jsonl", line(span_json("not searched")))

    assert [s.name for s in read_spans(tmp_path)] == ["a", "b", "c", "d", "e"]
    assert [s.name for s in read_spans(tmp_path / "spans-2.jsonl")] == ["c", "d", "e"]
    assert [f.name for f in store_files(tmp_path)] == ["spans-1.jsonl", "spans-2.jsonl"]
    assert [len(d["resourceSpans"][0]["scopeSpans"][0]["spans"]) for d in read_traces_data(tmp_path)] == [2, 1, 2]


def test_empty_and_missing_stores(tmp_path: Path) -> None:
    assert list(read_spans(tmp_path)) == []
    with pytest.raises(FileNotFoundError, match="no span store"):
        list(read_spans(tmp_path / "missing"))


def test_damaged_lines_are_skipped_whole_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    whole = line(span_json("first"), span_json("second"))
    file = write(
        tmp_path / "spans.jsonl",
        whole,
        "not json at all\n",
        b'{"resourceSpans": []}\xff\xfe\n',  # invalid UTF-8
        "[1, 2, 3]\n",  # JSON, not an object
        line(span_json("good"), {"spanId": "00f067aa0ba902b7", "name": "no trace id"}),  # one bad span
        line(span_json("bad id", span_id="not-hex")),
        "\n   \n",  # blank lines are nothing
        line(span_json("third")),
        whole[: len(whole) // 2],  # a write cut short: no newline
    )
    caplog.set_level(logging.DEBUG, logger="wikitrace_otel.store.reader")
    stats = ReadStats()

    names = [s.name for s in read_spans(file, stats=stats)]

    assert names == ["first", "second", "third"]
    assert stats == ReadStats(files=1, lines=8, malformed_lines=5, partial_lines=1)
    assert stats.skipped_lines == 6
    assert len([r for r in caplog.records if "skipped" in r.getMessage()]) == 6
    raw_stats = ReadStats()
    assert len(list(read_traces_data(file, stats=raw_stats))) == 4  # only JSON-level damage counts here
    assert (raw_stats.malformed_lines, raw_stats.partial_lines) == (3, 1)


def test_a_complete_last_line_without_newline_is_read(tmp_path: Path) -> None:
    file = write(tmp_path / "spans.jsonl", line(span_json("a")), line(span_json("b")).rstrip("\n"))
    stats = ReadStats()

    assert [s.name for s in read_spans(file, stats=stats)] == ["a", "b"]
    assert stats.skipped_lines == 0


# --- fields and values ----------------------------------------------------------------------


def test_every_field_of_a_stored_span(tmp_path: Path) -> None:
    span = span_json(
        "chat gpt-4o-mini",
        parentSpanId="00F067AA0BA902B8",  # any case reads as lowercase
        traceState="vendor=1",
        flags=256,
        kind=3,
        startTimeUnixNano="1700000000000000000",
        endTimeUnixNano=1700000000250000000,  # a number is fine too
        attributes=[{"key": "gen_ai.usage.input_tokens", "value": {"intValue": "12"}}],
        events=[{"timeUnixNano": "1700000000100000000", "name": "chunk", "attributes": []}, {"name": "bare"}],
        links=[{"traceId": TRACE.upper(), "spanId": "1111111111111111", "traceState": "k=v"}],
        status={"code": 2, "message": "rate limited"},
    )
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "shop"}}]}
    file = write(tmp_path / "s.jsonl", line(span, resource=resource, scope={"name": "openai", "version": "0.1"}))

    (stored,) = read_spans(file)

    assert (stored.trace_id, stored.span_id, stored.parent_span_id) == (TRACE, "00f067aa0ba902b7", "00f067aa0ba902b8")
    assert (stored.kind, stored.status_code, stored.status_message) == (
        SpanKind.CLIENT,
        StatusCode.ERROR,
        "rate limited",
    )
    assert stored.duration_ns == 250_000_000
    assert stored.attributes == {"gen_ai.usage.input_tokens": 12}
    assert stored.events == (StoredEvent("chunk", 1700000000100000000, {}), StoredEvent("bare", 0, {}))
    assert stored.links == (StoredLink(TRACE, "1111111111111111", "k=v", {}),)
    assert stored.resource == {"service.name": "shop"}
    assert (stored.scope_name, stored.scope_version, stored.trace_state, stored.flags) == (
        "openai",
        "0.1",
        "vendor=1",
        256,
    )


def test_defaults_of_a_minimal_span(tmp_path: Path) -> None:
    (stored,) = read_spans(write(tmp_path / "s.jsonl", line(span_json("minimal"))))

    assert stored.parent_span_id is None
    assert (stored.kind, stored.status_code, stored.status_message) == (SpanKind.INTERNAL, StatusCode.UNSET, "")
    assert (stored.start_time_unix_nano, stored.attributes, stored.events, stored.resource) == (0, {}, (), {})


@pytest.mark.parametrize(
    ("otlp", "kind"),
    [
        (0, SpanKind.INTERNAL),
        (1, SpanKind.INTERNAL),
        (2, SpanKind.SERVER),
        (3, SpanKind.CLIENT),
        (4, SpanKind.PRODUCER),
        (5, SpanKind.CONSUMER),
    ],
)
def test_kinds(tmp_path: Path, otlp: int, kind: SpanKind) -> None:
    (stored,) = read_spans(write(tmp_path / "s.jsonl", line(span_json("k", kind=otlp))))

    assert stored.kind is kind


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"stringValue": "héllo"}, "héllo"),
        ({"boolValue": True}, True),
        ({"boolValue": False}, False),
        ({"intValue": "-9223372036854775808"}, -(2**63)),
        ({"intValue": 42}, 42),
        ({"doubleValue": 0.5}, 0.5),
        ({"doubleValue": 3}, 3.0),
        ({"doubleValue": "Infinity"}, math.inf),
        ({"doubleValue": "-Infinity"}, -math.inf),
        ({"bytesValue": base64.b64encode(b"\x00\xff").decode()}, b"\x00\xff"),
        ({"arrayValue": {"values": [{"stringValue": "a"}, {"intValue": "1"}, {}]}}, ["a", 1, None]),
        ({"arrayValue": {}}, []),
        (
            {"kvlistValue": {"values": [{"key": "k", "value": {"arrayValue": {"values": [{"boolValue": True}]}}}]}},
            {"k": [True]},
        ),
        ({"kvlistValue": {}}, {}),
        ({}, None),
        (None, None),
        ({"someFutureValue": 1}, None),
    ],
)
def test_every_any_value_kind(value: Any, expected: Any) -> None:
    decoded = any_value(value)

    assert decoded == expected
    assert type(decoded) is type(expected)


def test_nan_reads_back() -> None:
    assert math.isnan(any_value({"doubleValue": "NaN"}))


def test_otlp_json_from_another_writer_reads_the_same(tmp_path: Path) -> None:
    # protobuf's own JSON (the Collector's file exporter writes the same mapping), with hex ids in
    # upper case and some int64 fields as plain numbers, reads like our own files.
    def build(tracer_provider: TracerProvider) -> None:
        tracer = tracer_provider.get_tracer("other", "9")
        with tracer.start_as_current_span("root", attributes={"n": 3, "tags": ["x", "y"]}) as root:
            root.add_event("e", {"k": "v"})
            with tracer.start_as_current_span("child", kind=SpanKind.PRODUCER):
                pass

    spans = finished_spans(build)
    foreign = json_format.MessageToDict(protobuf_encoding(spans), use_integers_for_enums=True)
    for resource_spans in foreign["resourceSpans"]:
        for span in resource_spans["scopeSpans"][0]["spans"]:
            for key in ("traceId", "spanId", "parentSpanId"):
                if key in span:
                    span[key] = base64.b64decode(span[key]).hex().upper()
            span["startTimeUnixNano"] = int(span["startTimeUnixNano"])
    write(tmp_path / "foreign.jsonl", json.dumps(foreign) + "\n")
    FileSpanExporter(tmp_path / "ours").export(spans)

    assert list(read_spans(tmp_path / "foreign.jsonl")) == list(read_spans(tmp_path / "ours"))
    assert [s.name for s in read_spans(tmp_path / "ours")] == ["child", "root"]
