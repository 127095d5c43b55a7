"""The collector as its own process, fed by the official OpenTelemetry OTLP exporters."""

from __future__ import annotations

import http.client
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from collector_support import PROTOBUF, make_request, post, send_spans, wal_span_ids
from opentelemetry.exporter.otlp.proto.grpc.exporter import Compression
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http import Compression as HttpCompression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from wikitrace_otel.collector.wal import WalWriter, iter_records

pytestmark = pytest.mark.slow

Spawn = Callable[..., tuple[subprocess.Popen[str], int, int]]


@pytest.mark.parametrize(("protocol", "stop"), [("grpc", signal.SIGTERM), ("http", signal.SIGINT)])
def test_official_exporters_deliver_and_a_signal_stops_cleanly(
    spawn_collector: Spawn, tmp_path: Path, protocol: str, stop: signal.Signals
) -> None:
    store = tmp_path / "store"
    process, grpc_port, http_port = spawn_collector("--store", str(store), "--api-key", "k1")
    headers = {"authorization": "Bearer k1"}
    # Both with gzip: uncompressed requests are covered by the other tests.
    if protocol == "grpc":
        exporter: Any = GrpcSpanExporter(
            endpoint=f"127.0.0.1:{grpc_port}", insecure=True, headers=headers, compression=Compression.Gzip
        )
    else:
        endpoint = f"http://127.0.0.1:{http_port}/v1/traces"
        exporter = HttpSpanExporter(endpoint=endpoint, headers=headers, compression=HttpCompression.Gzip)
    ids = send_spans(exporter, 40)

    assert sorted(wal_span_ids(store / "wal" / "traces")) == sorted(ids)
    process.send_signal(stop)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_an_exporter_without_the_key_fails_and_nothing_is_stored(spawn_collector: Spawn, tmp_path: Path) -> None:
    store = tmp_path / "store"
    _, _, http_port = spawn_collector("--store", str(store), "--api-key", "k1")
    exporter = HttpSpanExporter(endpoint=f"http://127.0.0.1:{http_port}/v1/traces")
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.get_tracer("e2e").start_span("refused").end()
    provider.shutdown()
    assert wal_span_ids(store / "wal" / "traces") == []


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM])
def test_stopping_during_ingest_loses_no_acknowledged_span(
    spawn_collector: Spawn, tmp_path: Path, stop: signal.Signals
) -> None:
    store = tmp_path / "store"
    process, _, http_port = spawn_collector("--store", str(store))
    acknowledged: list[str] = []
    lock = threading.Lock()
    enough = threading.Event()

    def sender() -> None:
        while True:
            request, ids = make_request(50)
            try:
                status, _, _ = post(http_port, "/v1/traces", request.SerializeToString(), PROTOBUF)
            except (OSError, http.client.HTTPException):
                return  # the collector is gone
            if status == 200:
                with lock:
                    acknowledged.extend(ids)
                    if len(acknowledged) >= 2000:
                        enough.set()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    assert enough.wait(60)
    process.send_signal(stop)  # while the senders are still sending
    for thread in threads:
        thread.join(30)
    _, err = process.communicate(timeout=30)
    assert process.returncode == (0 if stop == signal.SIGTERM else -signal.SIGKILL), err

    stored = wal_span_ids(store / "wal" / "traces")
    assert set(acknowledged) <= set(stored)
    assert len(stored) == len(set(stored))
    # The query engine reads the store as it was left.
    from wikitrace_otel.query import QueryStore

    with QueryStore(store) as queries:
        queries.refresh()
        assert queries.span_count == len(stored)
    # A restarted writer truncates any torn tail, and everything stays readable after new appends.
    records = len(list(iter_records(store / "wal" / "traces")))
    writer = WalWriter(store / "wal" / "traces")
    writer.append([make_request(1)[0].SerializeToString()])
    writer.close()
    assert len(list(iter_records(store / "wal" / "traces"))) == records + 1
