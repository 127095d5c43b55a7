"""OTLP/gRPC: the three Export methods through a real gRPC client, and their error statuses."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import grpc
import pytest
from collector_support import make_request, raw_export, wait_for, wal_span_ids
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from wikitrace_otel.collector import Collector


@pytest.fixture
def channel(collector: Collector) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as chan:
        yield chan


def test_export_stores_spans_and_answers_an_empty_response(collector: Collector, channel: grpc.Channel) -> None:
    request, ids = make_request(4)
    answer = trace_service_pb2_grpc.TraceServiceStub(channel).Export(request, timeout=10)

    assert answer == trace_service_pb2.ExportTraceServiceResponse()
    assert sorted(wal_span_ids(collector.config.store / "wal" / "traces")) == sorted(ids)


def test_invalid_ids_give_partial_success(collector: Collector, channel: grpc.Channel) -> None:
    request, ids = make_request(2, bad=3)
    answer = trace_service_pb2_grpc.TraceServiceStub(channel).Export(request, timeout=10)

    assert answer.partial_success.rejected_spans == 3
    assert sorted(wal_span_ids(collector.config.store / "wal" / "traces")) == sorted(ids)


def test_logs_with_a_wrong_length_span_id_are_rejected(collector: Collector, channel: grpc.Channel) -> None:
    request = logs_service_pb2.ExportLogsServiceRequest()
    records = request.resource_logs.add().scope_logs.add().log_records
    records.add().body.string_value = "no trace context is fine"
    records.add(span_id=b"\x01").body.string_value = "a one-byte span id is not"
    answer = logs_service_pb2_grpc.LogsServiceStub(channel).Export(request, timeout=10)

    assert answer.partial_success.rejected_log_records == 1


def status_details(error: grpc.RpcError) -> status_pb2.Status:
    trailers = dict(error.trailing_metadata())  # type: ignore[attr-defined]
    return status_pb2.Status.FromString(trailers["grpc-status-details-bin"])


def test_malformed_protobuf_is_invalid_argument_and_the_server_keeps_serving(
    collector: Collector, channel: grpc.Channel
) -> None:
    with pytest.raises(grpc.RpcError) as caught:
        raw_export(channel, b"\xff\xff\xff not protobuf")
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert status_details(caught.value).code == grpc.StatusCode.INVALID_ARGUMENT.value[0]

    request, ids = make_request(1)
    raw_export(channel, request.SerializeToString())
    assert wal_span_ids(collector.config.store / "wal" / "traces") == list(ids)


def test_messages_over_the_size_limit_are_refused(start_collector: Callable[..., Collector]) -> None:
    collector = start_collector(max_body_bytes=1000)
    request, _ = make_request(30)
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as chan, pytest.raises(grpc.RpcError) as caught:
        raw_export(chan, request.SerializeToString())
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]


def test_overload_is_resource_exhausted_with_retry_info(start_collector: Callable[..., Collector]) -> None:
    collector = start_collector(max_inflight_bytes=50_000)
    budget = collector.receiver.budget
    # An HTTP client that has not finished its body holds 40 kB of the shared budget.
    with socket.create_connection(("127.0.0.1", collector.http_port), timeout=10) as slow:
        slow.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n")
        slow.sendall(b"Content-Length: 40000\r\n\r\npartial")
        assert wait_for(lambda: budget.used >= 40_000)
        with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as chan:
            with pytest.raises(grpc.RpcError) as caught:
                raw_export(chan, b"\x0a\x00" * 6000)
            error = caught.value
            assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED  # type: ignore[attr-defined]
            retry = error_details_pb2.RetryInfo()
            assert status_details(error).details[0].Unpack(retry)
            assert retry.retry_delay.seconds == 1
            assert dict(error.trailing_metadata())["google.rpc.retryinfo-bin"] == retry.SerializeToString()  # type: ignore[attr-defined]
    assert wait_for(lambda: budget.used == 0)
