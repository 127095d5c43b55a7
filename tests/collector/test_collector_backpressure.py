"""Back-pressure as the official exporters see it: refused while overloaded, delivered after."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from collector_support import wait_for, wal_span_ids
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from wikitrace_otel.collector import Collector


def finished_spans(count: int) -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("backpressure")
    for index in range(count):
        tracer.start_span(f"chat {index}", attributes={"gen_ai.request.model": "gpt-4o-mini", "i": index}).end()
    provider.shutdown()
    return list(memory.get_finished_spans())


@pytest.fixture
def held_budget(start_collector: Callable[..., Collector]) -> Iterator[tuple[Collector, socket.socket]]:
    """A collector with a 50 kB budget, 40 kB of it held by a client that has not sent its body."""
    collector = start_collector(max_inflight_bytes=50_000)
    slow = socket.create_connection(("127.0.0.1", collector.http_port), timeout=10)
    slow.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n")
    slow.sendall(b"Content-Length: 40000\r\n\r\npartial")
    assert wait_for(lambda: collector.receiver.budget.used >= 40_000)
    yield collector, slow
    slow.close()


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_exporters_back_off_while_overloaded_and_deliver_afterwards(
    held_budget: tuple[Collector, socket.socket], protocol: str
) -> None:
    collector, slow = held_budget
    if protocol == "http":
        exporter: Any = HttpSpanExporter(endpoint=f"http://127.0.0.1:{collector.http_port}/v1/traces")
    else:
        exporter = GrpcSpanExporter(endpoint=f"127.0.0.1:{collector.grpc_port}", insecure=True)
    spans = finished_spans(300)  # about 30 kB encoded: more than the 10 kB left
    results: list[SpanExportResult] = []
    sender = threading.Thread(target=lambda: results.append(exporter.export(spans)))
    sender.start()

    assert wait_for(lambda: collector.stats.snapshot().get("refused.overloaded", 0) >= 1)
    slow.close()  # the budget frees up; the exporter's retry goes through
    sender.join(30)
    exporter.shutdown()

    assert results == [SpanExportResult.SUCCESS]
    expected = {f"{span.get_span_context().span_id:016x}" for span in spans}
    assert set(wal_span_ids(collector.config.store / "wal" / "traces")) == expected
