"""OTLP/HTTP: answers per the OTLP specification for good, partial and bad requests."""

from __future__ import annotations

import gzip
import json
import socket
from collections.abc import Callable

import pytest
from collector_support import JSON, PROTOBUF, make_request, post, to_otlp_json, wait_for, wal_span_ids
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from wikitrace_otel.collector import Collector


def traces_wal(collector: Collector) -> list[str]:
    return wal_span_ids(collector.config.store / "wal" / "traces")


def test_protobuf_request_is_stored_and_answered_with_an_empty_response(collector: Collector) -> None:
    request, ids = make_request(5)
    status, headers, body = post(collector.http_port, "/v1/traces", request.SerializeToString(), PROTOBUF)

    assert (status, headers["content-type"]) == (200, "application/x-protobuf")
    assert ExportTraceServiceResponse.FromString(body) == ExportTraceServiceResponse()
    assert sorted(traces_wal(collector)) == sorted(ids)


def test_invalid_ids_are_rejected_as_partial_success_and_the_rest_stored(collector: Collector) -> None:
    request, ids = make_request(3, bad=2)
    status, _, body = post(collector.http_port, "/v1/traces", request.SerializeToString(), PROTOBUF)

    answer = ExportTraceServiceResponse.FromString(body)
    assert status == 200
    assert answer.partial_success.rejected_spans == 2
    assert "invalid" in answer.partial_success.error_message
    assert sorted(traces_wal(collector)) == sorted(ids)


def test_json_request_with_hex_ids_is_stored_as_protobuf(collector: Collector) -> None:
    request, ids = make_request(2, bad=1)
    status, headers, body = post(collector.http_port, "/v1/traces", to_otlp_json(request), JSON)

    assert (status, headers["content-type"]) == (200, "application/json")
    partial = json.loads(body)["partialSuccess"]
    assert partial["rejectedSpans"] == "1"
    assert "invalid" in partial["errorMessage"]
    assert sorted(traces_wal(collector)) == sorted(ids)


def test_json_ignores_unknown_fields_and_rejects_spans_with_non_hex_ids(collector: Collector) -> None:
    request, ids = make_request(1)
    document = json.loads(to_otlp_json(request))
    document["futureField"] = {"x": 1}
    spans = document["resourceSpans"][0]["scopeSpans"][0]["spans"]
    spans.append({**spans[0], "spanId": "not-hex!", "name": "bad"})
    status, _, body = post(collector.http_port, "/v1/traces", json.dumps(document).encode(), JSON)

    assert status == 200
    assert json.loads(body)["partialSuccess"]["rejectedSpans"] == "1"
    assert traces_wal(collector) == list(ids)


def test_gzip_bodies_are_accepted(collector: Collector) -> None:
    request, ids = make_request(4)
    headers = {**PROTOBUF, "Content-Encoding": "gzip"}
    status, _, _ = post(collector.http_port, "/v1/traces", gzip.compress(request.SerializeToString()), headers)

    assert status == 200
    assert sorted(traces_wal(collector)) == sorted(ids)


def test_metrics_and_logs_are_stored_in_their_own_wal(collector: Collector) -> None:
    metrics = ExportMetricsServiceRequest()
    metrics.resource_metrics.add().scope_metrics.add().metrics.add(name="requests").sum.data_points.add(as_int=3)
    logs = ExportLogsServiceRequest()
    logs.resource_logs.add().scope_logs.add().log_records.add().body.string_value = "hello"

    assert post(collector.http_port, "/v1/metrics", metrics.SerializeToString(), PROTOBUF)[0] == 200
    assert post(collector.http_port, "/v1/logs", logs.SerializeToString(), PROTOBUF)[0] == 200
    assert (collector.config.store / "wal" / "metrics").is_dir()
    assert (collector.config.store / "wal" / "logs").is_dir()


def status_of(body: bytes, content_type: str) -> status_pb2.Status:
    if content_type == "application/json":
        from google.protobuf import json_format

        return json_format.Parse(body, status_pb2.Status())
    return status_pb2.Status.FromString(body)


BAD_BODIES = [
    pytest.param(b"\xff\xff\xff garbage", PROTOBUF, 400, id="malformed-protobuf"),
    pytest.param(b"{not json", JSON, 400, id="malformed-json"),
    pytest.param(b"[1, 2]", JSON, 400, id="json-not-an-object"),
    pytest.param(
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "-5"}]}]}]}',
        JSON,
        400,
        id="negative-time",
    ),
    pytest.param(
        b'{"resourceSpans": [{"resource": {"attributes": [{"key": "k", "value": {"intValue": "1e99"}}]}}]}',
        JSON,
        400,
        id="absurd-int",
    ),
    pytest.param(b'{"resourceSpans": "x"}', JSON, 400, id="wrong-json-type"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, JSON, 400, id="deeply-nested-json"),
    pytest.param(b"hello", {"Content-Type": "text/plain"}, 415, id="wrong-content-type"),
    pytest.param(b"hello", {}, 415, id="no-content-type"),
    pytest.param(b"x", {**PROTOBUF, "Content-Encoding": "br"}, 415, id="unknown-encoding"),
    pytest.param(b"not gzip", {**PROTOBUF, "Content-Encoding": "gzip"}, 400, id="broken-gzip"),
]


@pytest.mark.parametrize(("body", "headers", "expected"), BAD_BODIES)
def test_bad_input_gets_its_error_and_the_server_keeps_serving(
    collector: Collector, body: bytes, headers: dict[str, str], expected: int
) -> None:
    status, answer_headers, answer = post(collector.http_port, "/v1/traces", body, headers)

    assert status == expected
    assert status_of(answer, answer_headers["content-type"]).message
    request, ids = make_request(1)
    assert post(collector.http_port, "/v1/traces", request.SerializeToString(), PROTOBUF)[0] == 200
    assert traces_wal(collector) == list(ids)


def test_deeply_nested_attribute_values_are_refused_not_crashing(collector: Collector) -> None:
    request, _ = make_request(1)
    value = request.resource_spans[0].scope_spans[0].spans[0].attributes.add(key="deep").value
    for _ in range(150):  # deeper than protobuf's recursion limit
        value = value.array_value.values.add()
    value.string_value = "bottom"

    status, _, _ = post(collector.http_port, "/v1/traces", request.SerializeToString(), PROTOBUF)
    assert status == 400
    assert traces_wal(collector) == []


def test_bodies_over_the_limit_get_413(start_collector: Callable[..., Collector]) -> None:
    collector = start_collector(max_body_bytes=1000)
    request, _ = make_request(30)
    body = request.SerializeToString()
    assert len(body) > 1000

    assert post(collector.http_port, "/v1/traces", body, PROTOBUF)[0] == 413
    bomb = gzip.compress(b"\x00" * 100_000)  # small on the wire, over the limit inflated
    assert post(collector.http_port, "/v1/traces", bomb, {**PROTOBUF, "Content-Encoding": "gzip"})[0] == 413
    assert traces_wal(collector) == []


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [("GET", "/v1/traces", 405), ("POST", "/v2/traces", 404), ("PUT", "/v1/logs", 405), ("GET", "/nope", 404)],
)
def test_wrong_paths_and_methods(collector: Collector, method: str, path: str, expected: int) -> None:
    status, headers, _ = post(collector.http_port, path, b"", PROTOBUF, method=method)
    assert status == expected
    if expected == 405:
        assert headers["allow"]


def send_raw(port: int, data: bytes, until_closed: bool = False) -> bytes:
    """Send ``data``; read the answer up to the end of its head, or until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
            if not until_closed and b"\r\n\r\n" in b"".join(chunks):
                break
        return b"".join(chunks)


def test_chunked_bodies_are_accepted_and_a_missing_length_gets_411(collector: Collector) -> None:
    request, ids = make_request(2)
    body = request.SerializeToString()
    chunked = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
    head = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
    assert send_raw(collector.http_port, head + b"Transfer-Encoding: chunked\r\n\r\n" + chunked).startswith(
        b"HTTP/1.1 200"
    )
    assert send_raw(collector.http_port, head + b"Connection: close\r\n\r\n").startswith(b"HTTP/1.1 411")
    assert sorted(traces_wal(collector)) == sorted(ids)


CHUNKED_HEAD = (
    b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
)


@pytest.mark.parametrize(
    ("framing", "reason"),
    [
        (b"-1\r\n", b"hex digits"),  # was read until the client closed
        (b"0x0\r\n\r\n", b"hex digits"),  # int(..., 16) takes a 0x prefix
        (b"+0\r\n\r\n", b"hex digits"),
        (b"1_0\r\n", b"hex digits"),
        (b"\xd9\xa1\r\n", b"hex digits"),  # an Arabic-Indic digit
        (b"2\r\nabXYZ\r\n0\r\n\r\n", b"longer than its size"),
        (b"0\r\n" + b"X-Trailer: 1\r\n" * 65 + b"\r\n", b"trailer lines"),
    ],
)
def test_malformed_chunked_framing_is_refused_and_the_connection_closed(
    collector: Collector, framing: bytes, reason: bytes
) -> None:
    answer = send_raw(collector.http_port, CHUNKED_HEAD + framing, until_closed=True)
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"Connection: close" in answer
    assert reason in answer
    assert traces_wal(collector) == []


def test_chunk_extensions_and_trailers_are_accepted(collector: Collector) -> None:
    request, ids = make_request(1)
    body = request.SerializeToString()
    framing = f"{len(body):X};name=value\r\n".encode() + body + b"\r\n0\r\nX-Checksum: 1\r\n\r\n"
    assert send_raw(collector.http_port, CHUNKED_HEAD + framing, until_closed=True).startswith(b"HTTP/1.1 200")
    assert set(traces_wal(collector)) == ids


@pytest.mark.parametrize(
    ("request_line", "status"),
    [
        (b"GET /api/health\r\n", b"400"),  # HTTP/0.9: answered at once, not after a timeout
        (b"POST /v1/traces\r\n", b"400"),
        (b"NONSENSE\r\n\r\n", b"400"),
        (b"GET / HTTP/2.0\r\n\r\n", b"505"),
    ],
)
def test_bad_request_lines_get_a_json_error(collector: Collector, request_line: bytes, status: bytes) -> None:
    answer = send_raw(collector.http_port, request_line, until_closed=True)
    assert answer.startswith(b"HTTP/1.1 " + status)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Content-Type: application/json" in head
    assert b"Connection: close" in head
    assert json.loads(body)["message"]


def test_keep_alive_serves_many_requests_on_one_connection(collector: Collector) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", collector.http_port, timeout=10)
    expected = []
    try:
        for _ in range(5):
            request, ids = make_request(2)
            expected += ids
            conn.request("POST", "/v1/traces", body=request.SerializeToString(), headers=PROTOBUF)
            answer = conn.getresponse()
            answer.read()
            assert answer.status == 200
    finally:
        conn.close()
    assert sorted(traces_wal(collector)) == sorted(expected)


def test_overload_answers_503_with_retry_after(start_collector: Callable[..., Collector]) -> None:
    collector = start_collector(max_inflight_bytes=50_000)
    budget = collector.receiver.budget
    # A slow client holds 40 kB of the budget while it has not finished sending its body.
    with socket.create_connection(("127.0.0.1", collector.http_port), timeout=10) as slow:
        slow.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n")
        slow.sendall(b"Content-Length: 40000\r\n\r\npartial")
        assert wait_for(lambda: budget.used >= 40_000)
        big = b"\x0a\x00" * 6000  # 12 kB of empty ResourceSpans: more than what is left
        status, headers, _ = post(collector.http_port, "/v1/traces", big, PROTOBUF)
    assert status == 503
    assert headers["retry-after"] == "1"
    assert collector.stats.snapshot()["refused.overloaded"] == 1
    # Once the slow client is gone its bytes are released and the same request goes through.
    assert wait_for(lambda: budget.used == 0)
    assert post(collector.http_port, "/v1/traces", big, PROTOBUF)[0] == 200


def test_json_logs_with_hex_ids_are_checked_like_protobuf(collector: Collector) -> None:
    trace_id, span_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    records = [
        {"body": {"stringValue": "in a span"}, "traceId": trace_id, "spanId": span_id},
        {"body": {"stringValue": "no context"}},
        {"body": {"stringValue": "odd hex"}, "traceId": trace_id, "spanId": "abc"},
    ]
    document = {"resourceLogs": [{"scopeLogs": [{"logRecords": records}]}]}
    status, _, body = post(collector.http_port, "/v1/logs", json.dumps(document).encode(), JSON)

    assert status == 200
    assert json.loads(body)["partialSuccess"]["rejectedLogRecords"] == "1"
    assert collector.stats.snapshot()["logs.accepted"] == 2


def test_invalid_utf8_in_a_string_field_is_refused(collector: Collector) -> None:
    request, _ = make_request(1)
    body = request.SerializeToString()
    assert body.count(b"span 0") == 1
    status, _, answer = post(collector.http_port, "/v1/traces", body.replace(b"span 0", b"span \xff"), PROTOBUF)

    assert status == 400
    assert "invalid protobuf" in status_pb2.Status.FromString(answer).message
    assert traces_wal(collector) == []


def test_connections_over_the_limit_get_503_and_are_closed(start_collector: Callable[..., Collector]) -> None:
    collector = start_collector(max_connections=1)
    with socket.create_connection(("127.0.0.1", collector.http_port), timeout=10) as first:
        first.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert first.recv(65536).startswith(b"HTTP/1.1 200")  # still open: keep-alive
        answer = send_raw(collector.http_port, b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 503")
    assert b"Retry-After: 1" in answer
    assert wait_for(lambda: post(collector.http_port, "/api/health", b"", method="GET")[0] == 200)
