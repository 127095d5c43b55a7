"""The indexer's rows, column by column, against the span-by-span reference (``_rows.build_row``).

A varied set of spans (every attribute type, events, links, statuses, kinds, resource and scope
attributes, unicode, empty values, text that needs CSV quoting, usage and cost in every form) is
stored as JSON Lines and as WAL records, indexed, and read back from the Parquet parts: every row
must be what ``build_row`` gives for that span alone, with its attributes decoded by the store
reader's ``any_value``.
"""

from __future__ import annotations

import base64
import copy
import csv
import gc
import json
import math
from pathlib import Path
from typing import Any

import duckdb
import pytest
from google.protobuf import json_format
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from query_support import wal_record

from wikitrace_otel.query import QueryStore
from wikitrace_otel.query._columns import Columns
from wikitrace_otel.query._decode import add_json, rows_from_json, rows_from_request
from wikitrace_otel.query._genai_block import genai_block
from wikitrace_otel.query._parts import _CSV_OPTIONS
from wikitrace_otel.query._rows import COLUMN_NAMES, COLUMNS, INDEXED_KEYS, build_row, genai_columns
from wikitrace_otel.store import any_value

_WHERE = COLUMN_NAMES.index("Source")  # Source, SourceOffset, Batch: where and when, not what


def _kv(key: str, value: dict[str, Any] | None) -> dict[str, Any]:
    return {"key": key, "value": value} if value is not None else {"key": key}


def _s(text: str) -> dict[str, Any]:
    return {"stringValue": text}


def _i(number: int) -> dict[str, Any]:
    return {"intValue": str(number)}


def _d(number: float) -> dict[str, Any]:
    return {"doubleValue": number}


CHAT = [_kv("gen_ai.operation.name", _s("chat")), _kv("gen_ai.provider.name", _s("openai"))]
CHAT += [_kv("gen_ai.request.model", _s("gpt-4o-mini")), _kv("gen_ai.response.model", _s("gpt-4o-mini-2024-07-18"))]
ATTRIBUTE_SETS: list[list[dict[str, Any]]] = [
    [],
    [*CHAT, _kv("gen_ai.usage.input_tokens", _i(1200)), _kv("gen_ai.usage.output_tokens", _i(300))],
    [*CHAT, _kv("gen_ai.usage.input_tokens", _i(5000000)), _kv("gen_ai.usage.reasoning.output_tokens", _i(7))],
    [*CHAT, _kv("gen_ai.usage.input_tokens", _d(12.9)), _kv("gen_ai.usage.output_tokens", {"boolValue": True})],
    [*CHAT, _kv("gen_ai.usage.input_tokens", _i(-5)), _kv("gen_ai.usage.output_tokens", _s("12"))],
    [*CHAT, _kv("gen_ai.usage.prompt_tokens", _i(10)), _kv("gen_ai.usage.completion_tokens", _i(20))],
    [*CHAT, _kv("gen_ai.usage.cache_read.input_tokens", _i(3)), _kv("gen_ai.usage.input_tokens", _i(40))],
    [*CHAT, _kv("gen_ai.usage.cache_creation.input_tokens", _i(9)), _kv("gen_ai.usage.output_tokens", _i(1))],
    [*CHAT, _kv("gen_ai.usage.input_tokens", _i(10)), _kv("gen_ai.usage.cost.amount", _d(0.25))],
    [*CHAT, _kv("gen_ai.usage.input_tokens", _i(10)), _kv("gen_ai.usage.cost.amount", _s("free"))],
    [*CHAT, _kv("gen_ai.usage.input_tokens", _i(10)), _kv("gen_ai.usage.cost", _i(2))],
    [*CHAT, _kv("gen_ai.usage.input_tokens", _i(10)), _kv("openai.response.service_tier", _s("flex"))],
    [
        _kv("gen_ai.operation.name", _s("embeddings")),
        _kv("gen_ai.system", _s("openai")),
        _kv("gen_ai.request.model", _s("text-embedding-3-small")),
        _kv("gen_ai.usage.input_tokens", _i(8)),
    ],
    [
        _kv("gen_ai.operation.name", _s("chat")),
        _kv("gen_ai.request.model", _s("no-such-model-anywhere")),
        _kv("gen_ai.usage.input_tokens", _i(8)),
    ],
    [
        _kv("gen_ai.operation.name", _s("invoke_agent")),
        _kv("gen_ai.request.model", _s("gpt-4o")),
        _kv("gen_ai.usage.input_tokens", _i(100)),
        _kv("gen_ai.usage.cost.amount", _d(1.5)),
    ],
    [_kv("gen_ai.operation.name", _s("custom_step")), _kv("gen_ai.response.model", _s("gpt-4o"))],
    [_kv("gen_ai.operation.name", _s("")), _kv("gen_ai.provider.name", _s("")), _kv("session.id", _s(""))],
    [_kv("gen_ai.operation.name", _i(3)), _kv("session.id", {"boolValue": False}), _kv("user.id", _i(42))],
    [_kv("session.id", _s("s-1\x00x")), _kv("user.id", _s("ünïcødé 用户 🙂")), _kv("error.type", _s('a,b"c'))],
    [_kv("error.type", _s("line\nbreak\r\n")), _kv("user.id", {"arrayValue": {"values": [_s("a"), _i(1)]}})],
    [_kv("user.id", {"kvlistValue": {"values": [_kv("k", _s("v"))]}}), _kv("session.id", {"bytesValue": "AAE="})],
    [
        _kv("gen_ai.input.messages", _s('[{"role":"user","parts":[{"content":"refund, \\"now\\"\\n"}]}]')),
        _kv("gen_ai.output.messages", _s("")),
        _kv("output.value", _s("ok")),
        _kv("input.value", _i(5)),
    ],
    [_kv("user.id", None), _kv("session.id", {}), _kv("gen_ai.operation.name", _s("chat"))],
    [_kv("user.id", _s("first")), _kv("user.id", _s("last")), _kv("other", _s("not indexed"))],
    [
        _kv("session.id", _s("x" * 200)),
        _kv("user.id", _s("y" * 20_000)),
        _kv("error.type", {"doubleValue": "Infinity"}),
    ],
    [_kv("gen_ai.usage.cost.amount", _d(-1.0)), _kv("gen_ai.usage.output_tokens", {"doubleValue": "NaN"})],
]
NAMES = ["chat gpt-4o-mini", "", "naïve ✓ 名前", "with,comma", 'with "quotes"', "multi\nline", "nul\x00name", "None"]
STATUSES = [{}, {"code": 1}, {"code": 2, "message": "rate limited"}, {"code": 2, "message": ""}, {"code": 9}]
STATUSES += [{"code": 2, "message": 'bad\x00, "news"\r\n'}]
RESOURCES = [
    [_kv("service.name", _s("checkout")), _kv("host.name", _s("h1"))],
    [],
    [_kv("service.name", _i(7))],
    [_kv("service.name", _s("")), _kv("service.name", _s("second"))],
    [_kv("service.name", _s('ser\x00vice, "x"'))],
]
SCOPES = [{"name": "wikitrace_otel.instrumentors.openai", "version": "0.1.0"}, {}, {"name": "only-name"}]


def varied_spans(count: int) -> list[dict[str, Any]]:
    """``count`` OTLP JSON spans cycling through the attribute sets, names, kinds and statuses."""
    spans = []
    for index in range(count):
        start = 1_700_000_000_000_000_000 + index * 1_000_003
        span: dict[str, Any] = {
            "traceId": f"{index * 7919 + 1:032X}",
            "spanId": f"{index + 1:016x}",
            "name": NAMES[index % len(NAMES)],
            "kind": index % 7,  # 6 is out of range: Unspecified
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + index * 1000 - 5000),  # some end before they start
            "attributes": ATTRIBUTE_SETS[index % len(ATTRIBUTE_SETS)],
            "status": STATUSES[index % len(STATUSES)],
            "events": [{"name": "retry", "timeUnixNano": str(start + 1), "attributes": [_kv("n", _i(index))]}],
            "links": [{"traceId": "ab" * 16, "spanId": "cd" * 8, "attributes": [_kv("l", _s("x"))]}],
        }
        if index % 3:
            span["parentSpanId"] = f"{index:016x}"
        if index % 4 == 1:
            span["traceState"] = "vendor=1,other=2"
        if index % 5 == 2:
            span["flags"] = 257
        spans.append(span)
    return spans


def traces_data(spans: list[dict[str, Any]], group: int) -> list[dict[str, Any]]:
    """The spans as TracesData objects: ``group`` spans per scope, resources and scopes cycling."""
    lines = []
    for number, first in enumerate(range(0, len(spans), group * 2)):
        scopes = [
            {"scope": SCOPES[(number + offset) % len(SCOPES)], "spans": spans[start : start + group]}
            for offset, start in enumerate((first, first + group))
        ]
        resource = {"attributes": RESOURCES[number % len(RESOURCES)]}
        lines.append({"resourceSpans": [{"resource": resource, "scopeSpans": scopes}]})
    return lines


def to_request(data: dict[str, Any]) -> bytes:
    """The TracesData as a serialized ExportTraceServiceRequest (the protobuf JSON mapping wants base64 ids)."""
    data = copy.deepcopy(data)
    for resource_spans in data["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
                for link in span["links"]:
                    link.update(traceId=base64.b64encode(bytes.fromhex(link["traceId"])).decode(), spanId="")
    return json_format.ParseDict(data, ExportTraceServiceRequest()).SerializeToString()


def expected_rows(lines: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """``build_row`` span by span, with attributes as the store reader decodes them (without Source...)."""
    rows = []
    for data in lines:
        for resource_spans in data["resourceSpans"]:
            resource = resource_spans["resource"]["attributes"]
            service = next((any_value(kv.get("value")) for kv in resource if kv["key"] == "service.name"), None)
            for scope_spans in resource_spans["scopeSpans"]:
                scope = scope_spans["scope"]
                for span in scope_spans["spans"]:
                    attributes = {kv["key"]: any_value(kv.get("value")) for kv in span["attributes"]}
                    status = span["status"]
                    fields = (
                        span["traceId"].lower(),
                        span["spanId"],
                        span.get("parentSpanId"),
                        span.get("traceState", ""),
                        span.get("flags", 0),
                        span["name"],
                        span["kind"],
                        int(span["startTimeUnixNano"]),
                        int(span["endTimeUnixNano"]),
                        status.get("code", 0),
                        status.get("message", ""),
                        scope.get("name", ""),
                        scope.get("version", ""),
                    )
                    service_name = service if isinstance(service, str) else None
                    rows.append(build_row(fields, attributes, service_name, ("", 0), 0)[:_WHERE])
    return rows


def as_indexed(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row as it reads back from the index: an empty string is NULL, a float compared exactly."""
    return tuple(None if value == "" else value for value in row)


def index_rows(root: Path) -> list[tuple[Any, ...]]:
    with QueryStore(root) as store:
        store.refresh()
        assert store.skipped_lines == 0 and store.skipped_records == 0
    parts = sorted(str(path) for path in (root / "index" / "parts").glob("*.parquet"))
    sql = f"SELECT * FROM read_parquet({parts!r}) ORDER BY Source, SourceOffset, Timestamp"
    return duckdb.connect().execute(sql).fetchall()


@pytest.fixture
def lines() -> list[dict[str, Any]]:
    return traces_data(varied_spans(3 * len(ATTRIBUTE_SETS) * len(NAMES)), group=7)


def test_jsonl_rows_match_the_span_by_span_reference(store_dir: Path, lines: list[dict[str, Any]]) -> None:
    with open(store_dir / "spans-a.jsonl", "w", encoding="utf-8") as stream:
        stream.writelines(json.dumps(data) + "\n" for data in lines)
    rows = index_rows(store_dir)
    # Rows keep their line's order: sorting by line, then by position in it, is the span order.
    assert [row[:_WHERE] for row in rows] == [as_indexed(row) for row in expected_rows(lines)]
    assert {row[_WHERE] for row in rows} == {"spans-a.jsonl"} and {row[-1] for row in rows} == {1}


def test_wal_rows_match_the_span_by_span_reference(store_dir: Path, lines: list[dict[str, Any]]) -> None:
    directory = store_dir / "wal" / "traces"
    directory.mkdir(parents=True)
    (directory / f"{1:020d}.wal").write_bytes(b"".join(wal_record(to_request(data)) for data in lines))
    rows = index_rows(store_dir)
    assert [row[:_WHERE] for row in rows] == [as_indexed(row) for row in expected_rows(lines)]


def test_row_decoders_match_the_reference(lines: list[dict[str, Any]]) -> None:
    for data in lines:
        expected = expected_rows([data])
        assert [row[:_WHERE] for row in rows_from_json(data, 3, ("a.jsonl", 9))] == expected
        assert [row[:_WHERE] for row in rows_from_request(to_request(data), 3, ("w", 9))] == expected
        assert {row[_WHERE:] for row in rows_from_json(data, 3, ("a.jsonl", 9))} == {("a.jsonl", 9, 3)}


def test_a_bad_span_adds_no_row_of_its_line() -> None:
    good, bad = varied_spans(2)
    bad["kind"] = "SPAN_KIND_SERVER"  # not a number: the whole line is skipped
    columns = Columns()
    with pytest.raises(ValueError):
        add_json(columns, traces_data([good, bad], group=1)[0], 1, ("a", 0))
    assert len(columns) == 0 and all(column == [] for column in columns.data)


TEXTS = ["", "plain", "a,b", 'q"uote', "cr\rlf\n", "None", "lone \ud800 surrogate", "ü", " padded "]


def test_csv_loads_as_csv_writer_rows_do(tmp_path: Path) -> None:
    """The bulk-load file reads back into DuckDB as csv.writer's did, value for value."""
    columns = Columns()
    for index, text in enumerate(TEXTS * 3):
        row = [index, index * 10, "ab", "cd", None, text, None, text, "Client", None, text, text, "Ok", text]
        genai = [text or None, None, text, None, index % 2 == 0, index, None, None, 0, None, index / 7, text]
        columns.add_group([[value] for value in row], [[value] for value in [*genai, None, None, text]], ("s", 5), 2)
    columns.write_csv(tmp_path / "new.csv")
    with open(tmp_path / "old.csv", "w", newline="", encoding="utf-8", errors="replace") as stream:
        csv.writer(stream, lineterminator="\r\n").writerows(columns.rows())
    connection = duckdb.connect()
    new, old = (
        connection.execute(f"SELECT * FROM read_csv('{tmp_path / name}', {_CSV_OPTIONS})").fetchall()
        for name in ("new.csv", "old.csv")
    )
    assert new == old and len(new) == len(TEXTS) * 3
    assert (tmp_path / "new.csv").read_bytes().count(b"\r\n") == len(new)


_VALUES = st.one_of(
    st.none(),
    st.sampled_from(["chat", "embeddings", "invoke_agent", "openai", "gpt-4o", "gpt-4o-mini", "flex", "", "x\x00"]),
    st.text(max_size=8),
    st.integers(-(2**40), 2**40),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.integers(0, 3), max_size=2),
)
_GROUPS = st.lists(st.dictionaries(st.sampled_from(sorted(INDEXED_KEYS)), _VALUES, max_size=8), max_size=12)


def _outcome(compute: Any) -> Any:
    try:
        return compute()
    except Exception as error:  # noqa: BLE001 - both ways must fail alike (internal errors raise in tests)
        return type(error)


@settings(max_examples=120, deadline=None)
@given(_GROUPS)
def test_genai_block_matches_genai_columns_span_by_span(group: list[dict[str, Any]]) -> None:
    expected = _outcome(lambda: [list(column) for column in zip(*map(genai_columns, group), strict=True)])
    got = _outcome(lambda: genai_block(group))
    if isinstance(expected, list) and not group:
        expected = [[] for _column in range(15)]
    assert _same(got, expected), (got, expected)


def _same(got: Any, expected: Any) -> bool:
    if isinstance(got, float) and isinstance(expected, float):
        return got == expected or (math.isnan(got) and math.isnan(expected))
    if isinstance(got, list) and isinstance(expected, list):
        return len(got) == len(expected) and all(_same(a, b) for a, b in zip(got, expected, strict=True))
    return bool(got == expected and type(got) is type(expected))


def test_columns_match_duckdb_types() -> None:
    assert len(Columns().data) == len(COLUMNS)


@pytest.mark.parametrize("enabled", [True, False])
def test_indexing_leaves_the_garbage_collector_as_it_found_it(store_dir: Path, enabled: bool) -> None:
    (store_dir / "spans-a.jsonl").write_text(json.dumps(traces_data(varied_spans(4), group=2)[0]) + "\n")
    if not enabled:
        gc.disable()
    try:
        with QueryStore(store_dir) as store:
            assert store.refresh() == 4
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
