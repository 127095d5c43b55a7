"""Property tests of the decoders: the collector's OTLP/HTTP bodies and the index's row decoders.

Documented failure classes, which the callers turn into a 400 or a skipped record:

- ``collector.otlp.decode``: :class:`~wikitrace_otel.collector.otlp.BadRequestError`.
- ``query._decode.rows_from_json``: ``KeyError``, ``TypeError``, ``ValueError``, ``AttributeError``.
- ``query._decode.rows_from_request``: ``google.protobuf.message.DecodeError``.

Anything else escaping is a crash of the receiver thread or of the indexer.
"""

from __future__ import annotations

import contextlib
import json
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fuzz_support import (
    all_spans,
    fuzz_settings,
    hostile_json_requests,
    json_values,
    kept_spans,
    mutate,
    sized,
    span_ok,
    to_otlp_json,
    valid_requests,
)
from google.protobuf.message import DecodeError
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from wikitrace_otel.collector import otlp
from wikitrace_otel.query._decode import rows_from_json, rows_from_request
from wikitrace_otel.query._rows import COLUMN_NAMES

signals = st.sampled_from(otlp.SIGNALS)
# What the indexer catches for a damaged JSON line (query._indexer), and so what rows_from_json may raise.
_ROW_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError)
_TRACE_ID = COLUMN_NAMES.index("TraceId")
_SPAN_ID = COLUMN_NAMES.index("SpanId")
_NAME = COLUMN_NAMES.index("SpanName")
DAMAGES_PER_BODY = sized(ci=10, full=25)


def _decode_or_refuse(signal: otlp.Signal, body: bytes, is_json: bool, counts: Counter[str]) -> otlp.Decoded | None:
    """``decode``, counting outcomes; any exception but BadRequestError fails the test."""
    counts["inputs"] += 1
    try:
        decoded = otlp.decode(signal, body, is_json)
    except otlp.BadRequestError:
        counts["refused"] += 1
        return None
    counts["accepted"] += 1
    stored = signal.request.FromString(decoded.payload)  # what goes to the WAL must parse back
    if signal is otlp.TRACES:
        assert all(span_ok(span) for span in all_spans(stored)), "a span with an invalid id was stored"
    assert decoded.items == otlp.count_items(signal, stored)
    return decoded


def test_protobuf_bodies_of_arbitrary_bytes(outcome: Callable[..., None]) -> None:
    counts: Counter[str] = Counter()

    @fuzz_settings(ci=250, full=3000)
    @given(signals, st.binary(max_size=600))
    def check(signal: otlp.Signal, body: bytes) -> None:
        _decode_or_refuse(signal, body, False, counts)

    check()
    outcome(inputs=counts["inputs"], refused=counts["refused"], accepted=counts["accepted"], crashes=0)


def test_json_bodies_of_arbitrary_bytes_and_json_values(outcome: Callable[..., None]) -> None:
    counts: Counter[str] = Counter()
    bodies = st.one_of(
        st.binary(max_size=300),
        json_values.map(lambda value: json.dumps(value).encode()),
        st.dictionaries(st.sampled_from(["resourceSpans", "resource_spans", "resourceLogs", "x"]), json_values).map(
            lambda value: json.dumps(value).encode()
        ),
    )

    @fuzz_settings(ci=100, full=1500)
    @given(signals, bodies)
    def check(signal: otlp.Signal, body: bytes) -> None:
        _decode_or_refuse(signal, body, True, counts)

    check()
    outcome(inputs=counts["inputs"], refused=counts["refused"], accepted=counts["accepted"], crashes=0)


def _input_trace_ids(document: dict[str, Any]) -> set[bytes]:
    found = set()
    for span in document["resourceSpans"][0]["scopeSpans"][0]["spans"]:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            found.add(bytes.fromhex(span["traceId"]))
    return found


def test_structurally_valid_otlp_json_with_hostile_values(outcome: Callable[..., None]) -> None:
    counts: Counter[str] = Counter()

    @fuzz_settings(ci=60, full=1000)
    @given(hostile_json_requests())
    def check(document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()  # NaN and Infinity become the bare tokens Python's json reads back
        decoded = _decode_or_refuse(otlp.TRACES, body, True, counts)
        if decoded is None:
            return
        sent = len(document["resourceSpans"][0]["scopeSpans"][0]["spans"])
        assert decoded.items + decoded.rejected == sent, "every span is either kept or counted as rejected"
        stored = ExportTraceServiceRequest.FromString(decoded.payload)
        assert {span.trace_id for span in all_spans(stored)} <= _input_trace_ids(document)
        counts["spans_kept"] += decoded.items
        counts["spans_rejected"] += decoded.rejected

    check()
    outcome(
        inputs=counts["inputs"],
        refused=counts["refused"],
        spans_kept=counts["spans_kept"],
        spans_rejected=counts["spans_rejected"],
        crashes=0,
    )


def test_valid_requests_round_trip_in_both_encodings(outcome: Callable[..., None]) -> None:
    counts: Counter[str] = Counter()

    @fuzz_settings(ci=60, full=500)
    @given(valid_requests())
    def check(request: ExportTraceServiceRequest) -> None:
        for body, is_json in (
            (request.SerializeToString(), False),
            (json.dumps(to_otlp_json(request)).encode(), True),
        ):
            decoded = _decode_or_refuse(otlp.TRACES, body, is_json, counts)
            assert decoded is not None, "a valid request was refused"
            assert decoded.rejected == 0
            stored = ExportTraceServiceRequest.FromString(decoded.payload)
            assert stored == request, "ids, names, times, attributes and resources survive unchanged"
            counts["spans"] += decoded.items

    check()
    outcome(inputs=counts["inputs"], spans=counts["spans"], spans_lost=0, crashes=0)


def test_damaged_valid_bodies(outcome: Callable[..., None]) -> None:
    counts: Counter[str] = Counter()

    @fuzz_settings(ci=60, full=400)
    @given(valid_requests(max_spans=3), st.integers(0, 2**32))
    def check(request: ExportTraceServiceRequest, seed: int) -> None:
        rng = random.Random(seed)
        for is_json in (False, True):
            body = json.dumps(to_otlp_json(request)).encode() if is_json else request.SerializeToString()
            for _ in range(DAMAGES_PER_BODY):
                damaged = mutate(body, rng)
                decoded = _decode_or_refuse(otlp.TRACES, damaged, is_json, counts)
                if decoded is not None and not is_json:
                    # Protobuf: what is stored is exactly the valid spans of what was received.
                    stored = kept_spans(ExportTraceServiceRequest.FromString(decoded.payload))
                    assert stored == kept_spans(ExportTraceServiceRequest.FromString(damaged))

    check()
    outcome(inputs=counts["inputs"], refused=counts["refused"], accepted=counts["accepted"], crashes=0)


def _field(number: int, payload: bytes) -> bytes:
    """One length-delimited protobuf field, written by hand: upb refuses to build messages this deep."""
    length, size = b"", len(payload)
    while True:
        length += bytes([(size & 0x7F) | (0x80 if size > 0x7F else 0)])
        size >>= 7
        if not size:
            return bytes([number << 3 | 2]) + length + payload


def _deep_request(depth: int) -> bytes:
    """A traces request whose one span has an attribute nested ``depth`` arrays deep."""
    value = _field(1, b"leaf")  # AnyValue.string_value
    for _ in range(depth):
        value = _field(5, _field(1, value))  # AnyValue.array_value -> ArrayValue.values
    span = _field(1, b"\x01" * 16) + _field(2, b"\x02" * 8) + _field(9, _field(1, b"deep") + _field(2, value))
    return _field(1, _field(2, _field(2, span)))  # resource_spans -> scope_spans -> spans


def test_deep_nesting_is_refused_not_crashed(outcome: Callable[..., None]) -> None:
    bodies: list[tuple[bytes, bool]] = [
        (b"[" * 100_000, True),
        (b'{"resourceSpans":' + b"[" * 50_000, True),
        (b"{" * 10_000, True),
    ]
    assert otlp.decode(otlp.TRACES, _deep_request(5), False).items == 1  # the hand-written encoding is right
    bodies += [(_deep_request(depth), False) for depth in (150, 400, 5000)]
    for body, is_json in bodies:
        try:
            otlp.decode(otlp.TRACES, body, is_json)
        except otlp.BadRequestError:
            continue
        raise AssertionError(f"a body nested {len(body)} bytes deep was accepted")
    outcome(inputs=len(bodies), refused=len(bodies), crashes=0)


def test_index_rows_from_hostile_json_lines(outcome: Callable[..., None]) -> None:
    counts: Counter[str] = Counter()
    documents = st.one_of(
        hostile_json_requests(), st.dictionaries(st.text(max_size=12), json_values), valid_requests().map(to_otlp_json)
    )

    @fuzz_settings(ci=60, full=1000)
    @given(documents)
    def check(document: dict[str, Any]) -> None:
        counts["inputs"] += 1
        data = json.loads(json.dumps(document))  # as the indexer gets it from a line
        try:
            rows = list(rows_from_json(data, 1, ("a.jsonl", 0)))
        except _ROW_ERRORS:
            counts["skipped"] += 1
            return
        for row in rows:
            assert len(row) == len(COLUMN_NAMES)
            bytes.fromhex(row[_TRACE_ID])
            assert row[_TRACE_ID] == row[_TRACE_ID].lower() and row[_SPAN_ID] == row[_SPAN_ID].lower()
        counts["rows"] += len(rows)

    check()
    outcome(inputs=counts["inputs"], skipped=counts["skipped"], rows=counts["rows"], crashes=0)


def _rows_or_skip(payload: bytes, counts: Counter[str]) -> list[tuple[Any, ...]] | None:
    counts["inputs"] += 1
    try:
        rows = list(rows_from_request(payload, 1, ("wal/traces/x.wal", 0)))
    except DecodeError:
        counts["skipped"] += 1
        return None
    counts["rows"] += len(rows)
    assert all(len(row) == len(COLUMN_NAMES) for row in rows)
    return rows


def test_index_rows_from_wal_payloads(outcome: Callable[..., None]) -> None:
    counts: Counter[str] = Counter()

    @fuzz_settings(ci=60, full=400)
    @given(valid_requests(), st.integers(0, 2**32))
    def check(request: ExportTraceServiceRequest, seed: int) -> None:
        payload = request.SerializeToString()
        rows = _rows_or_skip(payload, counts)
        # Intact: one row per span, ids and names as sent (a NUL cannot be indexed, so it is dropped).
        expected = [(s.trace_id.hex(), s.span_id.hex(), s.name.replace("\x00", "")) for s in all_spans(request)]
        assert rows is not None and [(row[_TRACE_ID], row[_SPAN_ID], row[_NAME]) for row in rows] == expected
        rng = random.Random(seed)
        for _ in range(DAMAGES_PER_BODY):
            _rows_or_skip(mutate(payload, rng), counts)

    check()
    outcome(inputs=counts["inputs"], skipped=counts["skipped"], rows=counts["rows"], crashes=0)


def test_lone_surrogate_in_an_enum_field_is_a_bad_request() -> None:
    ids = f'"traceId": "{"01" * 16}", "spanId": "{"02" * 8}"'
    for field in ('"kind": "\\ud800"', '"status": {"code": "\\ud800"}'):
        body = f'{{"resourceSpans": [{{"scopeSpans": [{{"spans": [{{{ids}, {field}}}]}}]}}]}}'.encode()
        with pytest.raises(otlp.BadRequestError):
            otlp.decode(otlp.TRACES, body, True)
