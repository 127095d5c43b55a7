"""Forwarding: a collector re-exports what it stored to another collector."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

from collector_support import PROTOBUF, make_request, post, wait_for, wal_span_ids
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

from wikitrace_otel.collector import Collector


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_everything_received_is_stored_and_forwarded(start_collector: Callable[..., Collector]) -> None:
    upstream = start_collector(keys=[("", "upstream-key")])
    edge = start_collector(
        forward=[f"http://127.0.0.1:{upstream.http_port}"], forward_headers={"x-api-key": "upstream-key"}
    )
    sent: list[str] = []
    for _ in range(5):
        request, ids = make_request(3)
        assert post(edge.http_port, "/v1/traces", request.SerializeToString(), PROTOBUF)[0] == 200
        sent += ids

    upstream_wal = upstream.config.store / "wal" / "traces"
    assert wait_for(lambda: len(wal_span_ids(upstream_wal)) == len(sent))
    assert sorted(wal_span_ids(upstream_wal)) == sorted(sent)
    assert sorted(wal_span_ids(edge.config.store / "wal" / "traces")) == sorted(sent)
    assert wait_for(lambda: edge.stats.snapshot().get("forward.sent") == 5)


def test_forwarding_over_grpc_sends_every_signal(start_collector: Callable[..., Collector]) -> None:
    upstream = start_collector(keys=[("", "upstream-key")])
    edge = start_collector(
        forward=[f"grpc://127.0.0.1:{upstream.grpc_port}"], forward_headers={"Authorization": "Bearer upstream-key"}
    )
    request, ids = make_request(3)
    logs = ExportLogsServiceRequest()
    logs.resource_logs.add().scope_logs.add().log_records.add().body.string_value = "hello"
    assert post(edge.http_port, "/v1/traces", request.SerializeToString(), PROTOBUF)[0] == 200
    assert post(edge.http_port, "/v1/logs", logs.SerializeToString(), PROTOBUF)[0] == 200

    assert wait_for(lambda: edge.stats.snapshot().get("forward.sent") == 2)
    assert sorted(wal_span_ids(upstream.config.store / "wal" / "traces")) == sorted(ids)
    assert upstream.stats.snapshot()["logs.accepted"] == 1


def test_forwarding_retries_until_the_upstream_comes_up(
    start_collector: Callable[..., Collector],
    tmp_path: Path,
) -> None:
    port = free_port()
    edge = start_collector(forward=[f"http://127.0.0.1:{port}"])
    request, ids = make_request(2)
    assert post(edge.http_port, "/v1/traces", request.SerializeToString(), PROTOBUF)[0] == 200
    assert wait_for(lambda: edge.stats.snapshot().get("forward.retries", 0) >= 1)

    upstream_store = tmp_path / "upstream"
    start_collector(store=upstream_store, http_port=port, grpc_port=None)
    assert wait_for(lambda: sorted(wal_span_ids(upstream_store / "wal" / "traces")) == sorted(ids))
    assert "forward.dropped" not in edge.stats.snapshot()


def test_a_full_forward_queue_drops_and_counts_without_touching_the_local_store(
    start_collector: Callable[..., Collector],
) -> None:
    edge = start_collector(forward=[f"http://127.0.0.1:{free_port()}"], forward_queue_bytes=1)
    request, ids = make_request(2)
    assert post(edge.http_port, "/v1/traces", request.SerializeToString(), PROTOBUF)[0] == 200

    assert edge.stats.snapshot()["forward.dropped"] == 1
    assert sorted(wal_span_ids(edge.config.store / "wal" / "traces")) == sorted(ids)


def test_a_permanent_refusal_upstream_is_dropped_and_counted(start_collector: Callable[..., Collector]) -> None:
    upstream = start_collector(keys=[("", "upstream-key")])
    edge = start_collector(forward=[f"http://127.0.0.1:{upstream.http_port}"])  # no key: 401, not retryable
    request, _ = make_request(1)
    assert post(edge.http_port, "/v1/traces", request.SerializeToString(), PROTOBUF)[0] == 200

    assert wait_for(lambda: edge.stats.snapshot().get("forward.dropped") == 1)
    assert "forward.retries" not in edge.stats.snapshot()
