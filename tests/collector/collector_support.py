"""Helpers for the collector tests: requests to send, and what the WAL holds afterwards."""

from __future__ import annotations

import base64
import http.client
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from wikitrace_otel.collector.wal import iter_records

PROTOBUF = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}


def make_request(spans: int = 3, bad: int = 0, service: str = "svc") -> tuple[ExportTraceServiceRequest, set[str]]:
    """A traces request with ``spans`` valid spans and ``bad`` spans with invalid ids; returns it and the valid ids."""
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=service)))
    scope = resource.scope_spans.add()
    scope.scope.name = "tests"
    trace_id = os.urandom(16)
    valid = set()
    for index in range(spans + bad):
        span = scope.spans.add()
        span.name = f"span {index}"
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + index
        span.end_time_unix_nano = span.start_time_unix_nano + 1000
        span.attributes.append(KeyValue(key="gen_ai.request.model", value=AnyValue(string_value="gpt-4o-mini")))
        if index < spans:
            span.trace_id, span.span_id = trace_id, os.urandom(8)
            valid.add(span.span_id.hex())
        elif index % 2:
            span.trace_id, span.span_id = bytes(16), os.urandom(8)  # all-zero trace id
        else:
            span.trace_id, span.span_id = trace_id, b"\x01\x02"  # wrong length
    return request, valid


def to_otlp_json(message: Any) -> bytes:
    """A message in OTLP/JSON: the protobuf JSON mapping with ids as hex instead of base64."""

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: base64.b64decode(value).hex() if key in ("traceId", "spanId", "parentSpanId") else fix(value)
                for key, value in node.items()
            }
        if isinstance(node, list):
            return [fix(value) for value in node]
        return node

    return json.dumps(fix(json_format.MessageToDict(message))).encode()


def wal_span_ids(directory: Path) -> list[str]:
    """Hex span ids of every span in a traces WAL directory, in order."""
    ids = []
    for _, payload in iter_records(directory):
        request = ExportTraceServiceRequest.FromString(payload)
        ids += [span.span_id.hex() for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]
    return ids


def post(
    port: int, path: str, body: bytes, headers: dict[str, str] | None = None, method: str = "POST"
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection; returns status, lower-case headers and body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        conn.close()


def get_json(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """``GET path`` and the parsed JSON answer."""
    status, _, body = post(port, path, b"", headers, method="GET")
    return status, json.loads(body)


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def raw_export(channel: Any, body: bytes, metadata: tuple[tuple[str, str], ...] = ()) -> bytes:
    """Call TraceService/Export with raw request bytes."""
    method = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    return method(body, timeout=10, metadata=metadata)


def send_spans(exporter: Any, count: int) -> set[str]:
    """Export ``count`` spans through a real SDK pipeline with ``exporter``; returns their span ids."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "e2e"}))
    provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=16))
    tracer = provider.get_tracer("e2e")
    ids = set()
    for index in range(count):
        with tracer.start_as_current_span(f"chat {index}", attributes={"gen_ai.request.model": "gpt-4o-mini"}) as span:
            ids.add(f"{span.get_span_context().span_id:016x}")
    assert provider.force_flush(10_000)
    provider.shutdown()
    return ids
