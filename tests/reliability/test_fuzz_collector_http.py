"""A fuzz run of the running collector's HTTP endpoints (OTLP/HTTP and ``/api``).

The barrage (see ``fuzz_http_support``): valid exports in both encodings, damaged bodies, gzip
(valid, truncated, damaged, bombs), chunked bodies (valid, cut, bad sizes), bodies shorter than
declared, missing or bad lengths, oversized declarations, wrong content types and encodings, every
method on every kind of path, junk ``/api`` query parameters, garbage request lines, huge paths,
huge and countless headers, bad HTTP versions; and slow clients holding connections open.

What must hold: every request is answered with a proper status within ``TIMEOUT_S`` once it was
sent (4xx for the client's faults; never 500; 501/503/505 where HTTP says so); afterwards the
collector still accepts a valid export, which becomes queryable through ``/api``; its WAL holds
exactly the spans of the requests it answered 200 (nothing lost, nothing refused stored); and the
store opens and indexes them all.
"""

from __future__ import annotations

import json
import random
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fuzz_http_support import (
    HTTP09,
    JSON,
    LEGITIMATE_5XX,
    PROTOBUF,
    TIMEOUT_S,
    HangError,
    Sent,
    exchange,
    export,
    gzip_bomb,
    hostile_request,
    request,
    statuses,
)
from fuzz_support import all_spans, kept_spans, sized, span_key
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from wikitrace_otel.collector import Collector, CollectorConfig, otlp
from wikitrace_otel.collector.wal import iter_records
from wikitrace_otel.query import QueryStore

MAX_BODY = 1 << 20
QUERY_WAIT_S = 30.0
"""How long the indexing process may take to make the last export queryable on a loaded machine."""


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    """A collector on a free port with a 1 MiB body limit and its indexing process."""
    config = CollectorConfig(
        store=tmp_path / "store", grpc_port=None, http_port=0, max_body_bytes=MAX_BODY, refresh_interval_s=0.1
    )
    running = Collector(config)
    running.start()
    yield running
    running.stop(grace=2)


def _request(rng: random.Random, index: int) -> ExportTraceServiceRequest:
    """A small valid request with fresh ids."""
    request_ = ExportTraceServiceRequest()
    resource = request_.resource_spans.add()
    resource.resource.attributes.add(key="service.name").value.string_value = "fuzz"
    scope = resource.scope_spans.add()
    trace_id = rng.randbytes(15) + b"\x01"
    for number in range(rng.randint(1, 3)):
        span = scope.spans.add(trace_id=trace_id, span_id=rng.randbytes(7) + b"\x01", name=f"s{index}.{number}")
        span.start_time_unix_nano = 1_780_000_000_000_000_000 + index * 1000 + number
        span.end_time_unix_nano = span.start_time_unix_nano + 500
        span.attributes.add(key="gen_ai.request.model").value.string_value = "gpt-4o-mini"
    return request_


def _expected(sent: Sent) -> list[tuple[Any, ...]]:
    """The spans an accepted request must have stored: the decoder's answer, cross-checked for protobuf."""
    assert sent.body is not None, f"{sent.kind}: accepted a request that carries no valid export: {sent.raw[:200]!r}"
    stored = kept_spans(ExportTraceServiceRequest.FromString(otlp.decode(otlp.TRACES, sent.body, sent.is_json).payload))
    if not sent.is_json:  # this module's own reading of the protobuf body agrees
        assert stored == kept_spans(ExportTraceServiceRequest.FromString(sent.body))
    return [span_key(span) for span in stored]


def _wal_spans(store: Path) -> list[tuple[Any, ...]]:
    return [
        span_key(span)
        for _, payload in iter_records(store / "wal" / "traces")
        for span in all_spans(ExportTraceServiceRequest.FromString(payload))
    ]


def _barrage(port: int, count: int, counts: Counter[str]) -> list[tuple[Any, ...]]:
    """Send ``count`` hostile requests; returns the spans the 200 answers promised to store."""
    rng = random.Random(4318)
    promised: list[tuple[Any, ...]] = []
    for index in range(count):
        sent = hostile_request(_request(rng, index), rng)
        try:
            answers = exchange(port, sent.raw)
        except HangError:
            counts["hangs"] += 1
            continue
        counts["inputs"] += 1
        counts[f"kind {sent.kind}"] += 1
        assert answers, f"{sent.kind}: the connection was closed without an answer: {sent.raw[:200]!r}"
        status = answers[0]
        if status == HTTP09:  # only a request line of two words is answered the HTTP/0.9 way
            assert sent.kind in ("garbage line", "version"), (sent.kind, sent.raw[:200])
        counts[f"status {status}"] += 1
        if status >= 500 and status not in LEGITIMATE_5XX:
            counts["server_errors"] += 1
        if status == 200 and sent.raw.startswith(b"POST") and sent.traces:
            counts["accepted_exports"] += 1
            promised += _expected(sent)
    return promised


def _slow_clients(port: int, count: int) -> list[socket.socket]:
    """Connections that send part of a request and then stall."""
    body = _request(random.Random(1), 0).SerializeToString()
    partials = [
        b"POST /v1/traces HTTP/1.1\r\nContent-Ty",
        export(body)[:-5],
        b"GET /api/hea",
        request("POST", "/v1/traces", body, {"Transfer-Encoding": "chunked", "Content-Type": PROTOBUF}, length=False)
        + b"10\r\nabc",
    ]
    sockets = []
    for index in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
        sock.sendall(partials[index % len(partials)])
        sockets.append(sock)
    return sockets


def _finish(sockets: list[socket.socket]) -> list[int]:
    """Half-close stalled connections and read what the server says to each (a 4xx, or a silent close)."""
    answers = []
    for sock in sockets:
        with sock:
            sock.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
            answers += statuses(data)
    return answers


def _queryable(port: int, trace_id: str) -> bool:
    deadline = time.monotonic() + QUERY_WAIT_S
    while time.monotonic() < deadline:
        raw = exchange(port, request("GET", f"/api/traces/{trace_id}", length=False))
        if raw == [200]:
            return True
        time.sleep(0.1)
    return False


def test_the_collector_survives_a_barrage_of_hostile_requests(
    collector: Collector, outcome: Callable[..., None]
) -> None:
    port = collector.http_port
    assert port is not None
    counts: Counter[str] = Counter()
    stalled = _slow_clients(port, 8)
    try:
        # Bombs first: each inflates to 16 or 64 times the limit and must be refused without inflating it all.
        for size in (64 * MAX_BODY, 16 * MAX_BODY):
            assert exchange(port, export(gzip_bomb(size), headers={"Content-Encoding": "gzip"})) == [413]
        promised = _barrage(port, sized(ci=150, full=4000), counts)
    finally:  # the slow clients held their threads all along; now they finish
        late = _finish(stalled)
    assert all(400 <= status < 500 for status in late), late
    # Still working: a valid export is accepted and becomes queryable.
    last = _request(random.Random(99), 10**6)
    answer = exchange(port, export(json.dumps({"resourceSpans": []}).encode(), JSON)) + exchange(
        port, export(last.SerializeToString())
    )
    assert answer == [200, 200]
    promised += [span_key(span) for span in all_spans(last)]
    trace_id = last.resource_spans[0].scope_spans[0].spans[0].trace_id.hex()
    assert _queryable(port, trace_id), "the last export never became queryable"
    collector.stop(grace=2)
    # The WAL holds exactly the spans of the accepted requests, and the store indexes all of them.
    store = collector.config.store
    assert sorted(_wal_spans(store)) == sorted(promised)
    with QueryStore(store, threads=1) as query:
        query.refresh()
        assert query.span_count == len(promised)
    statuses_seen = {key: value for key, value in sorted(counts.items()) if key.startswith("status")}
    assert counts["hangs"] == 0 and counts["server_errors"] == 0, counts
    outcome(
        inputs=counts["inputs"] + 2 + len(stalled),
        crashes=0,
        hangs=counts["hangs"],
        server_errors=counts["server_errors"],
        spans_lost=0,
        spans_stored=len(promised),
        accepted_exports=counts["accepted_exports"],
        **{key.replace(" ", "_"): value for key, value in statuses_seen.items()},
    )


_IDS = f'"traceId": "{"01" * 16}", "spanId": "{"02" * 8}"'
_BAD_REQUEST = range(400, 500)
_SURROGATE_KIND = f'{{"resourceSpans": [{{"scopeSpans": [{{"spans": [{{{_IDS}, "kind": "\\ud800"}}]}}]}}]}}'.encode()
_ANSWERED_500 = {
    # str.isdigit() accepts "²" (latin-1 0xB2, as http.server decodes headers), int() does not: ValueError -> 500.
    "superscript digit as Content-Length": (
        f"POST /v1/traces HTTP/1.1\r\nContent-Type: {PROTOBUF}\r\nContent-Length: \u00b2\r\n\r\nab".encode("latin-1"),
        _BAD_REQUEST,
    ),
    # parse_duration: float("9" * 400) is inf, int(inf) raises OverflowError, which /api does not map to 400.
    "400-digit duration in /api": (request("GET", "/api/traces?since=" + "9" * 400 + "d", length=False), _BAD_REQUEST),
    # A time that fits a float but not DuckDB's 128-bit integers: InvalidInputException from the query.
    "since beyond 128 bits in /api/stats": (
        request("GET", "/api/stats?since=" + "9" * 40 + "w", length=False),
        (200, *_BAD_REQUEST),  # 200: nothing that old or new, which is also a right answer
    ),
    # protobuf's json_format raises SystemError for a lone surrogate where an enum belongs.
    "lone surrogate as span kind": (export(_SURROGATE_KIND, JSON), _BAD_REQUEST),
}


@pytest.mark.parametrize("case", sorted(_ANSWERED_500))
def test_client_errors_are_answered_4xx(case: str, tmp_path: Path) -> None:
    running = Collector(CollectorConfig(store=tmp_path / "store", grpc_port=None, http_port=0, index=False))
    running.start()
    try:
        assert running.http_port is not None
        # Something stored and indexed, so that /api queries reach the index.
        assert exchange(running.http_port, export(_request(random.Random(3), 0).SerializeToString())) == [200]
        with QueryStore(running.config.store, threads=1) as indexer:
            assert indexer.refresh() > 0
        raw, allowed = _ANSWERED_500[case]
        (status,) = exchange(running.http_port, raw)
    finally:
        running.stop(grace=2)
    assert status in allowed, status


def test_a_time_beyond_int64_does_not_stop_indexing(tmp_path: Path) -> None:
    config = CollectorConfig(store=tmp_path / "store", grpc_port=None, http_port=0, index=False)
    running = Collector(config)
    running.start()
    try:
        assert running.http_port is not None
        poison = _request(random.Random(5), 0)
        poison.resource_spans[0].scope_spans[0].spans[0].start_time_unix_nano = 2**64 - 1
        later = _request(random.Random(6), 1)
        for message in (poison, later):
            assert exchange(running.http_port, export(message.SerializeToString())) == [200]
    finally:
        running.stop(grace=2)
    errors = []
    with QueryStore(config.store, threads=1) as query:
        for _ in range(2):  # what the collector's indexing process does after each commit
            try:
                query.refresh()
            except Exception as error:  # noqa: BLE001 - the failure is what this test looks for
                errors.append(error)
        later_id = later.resource_spans[0].scope_spans[0].spans[0].trace_id.hex()
        found = errors == [] and query.get_trace(later_id) is not None
    assert found, errors
