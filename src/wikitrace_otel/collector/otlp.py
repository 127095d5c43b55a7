"""The three OTLP signals: their paths, services, messages, and the checks run on each request.

:func:`decode` turns a request body (protobuf or OTLP/JSON) into the protobuf bytes stored in the
WAL plus a partial-success count: items with invalid trace or span ids are removed and counted as
rejected, the rest are kept. A body that does not parse raises :class:`BadRequestError`. Protobuf
bodies with nothing to reject are stored exactly as received (no re-encoding on the fast path).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

_ZERO_TRACE: Final = bytes(16)
_ZERO_SPAN: Final = bytes(8)
_ID_FIELDS: Final = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
# An id that is not hex becomes one byte, a length no valid id has, so the item is rejected.
_BAD_ID: Final = base64.b64encode(b"\x00").decode()


class BadRequestError(Exception):
    """The body is not a valid request of its signal: answer 400 / INVALID_ARGUMENT."""


@dataclass(frozen=True)
class Signal:
    """One OTLP signal: where it is received and how its requests are checked."""

    name: str
    """``traces``, ``metrics`` or ``logs``: also the WAL directory name."""
    path: str
    """The OTLP/HTTP path, ``/v1/<name>``."""
    service: str
    """The fully qualified gRPC service name."""
    request: type[Message]
    response: type[Message]
    rejected_field: str
    """The partial-success counter of the response."""
    item: str
    """What one item is called in messages: span, data point, log record."""
    reject_invalid: Callable[[Any], int]
    """Removes items with invalid ids from a parsed request in place; returns how many."""


def _span_ok(span: Any) -> bool:
    trace_id, span_id, parent = span.trace_id, span.span_id, span.parent_span_id
    return (
        len(trace_id) == 16
        and trace_id != _ZERO_TRACE
        and len(span_id) == 8
        and span_id != _ZERO_SPAN
        and (not parent or len(parent) == 8)
    )


def _log_ok(record: Any) -> bool:
    # Logs may carry no trace context at all; ids that are present must have the right length.
    trace_id, span_id = record.trace_id, record.span_id
    return (not trace_id or len(trace_id) == 16) and (not span_id or len(span_id) == 8)


def _filter(containers: Any, field: str, ok: Callable[[Any], bool]) -> int:
    """Drop the items of ``containers[*].<field>`` failing ``ok``; returns how many were dropped."""
    rejected = 0
    for container in containers:
        items = getattr(container, field)
        if all(ok(item) for item in items):
            continue
        kept = [item for item in items if ok(item)]
        rejected += len(items) - len(kept)
        copies = [type(item)() for item in kept]
        for copy, item in zip(copies, kept, strict=True):
            copy.CopyFrom(item)
        del items[:]
        items.extend(copies)
    return rejected


def _reject_spans(request: Any) -> int:
    scopes = [scope for resource in request.resource_spans for scope in resource.scope_spans]
    return _filter(scopes, "spans", _span_ok)


def _reject_logs(request: Any) -> int:
    scopes = [scope for resource in request.resource_logs for scope in resource.scope_logs]
    return _filter(scopes, "log_records", _log_ok)


def _reject_nothing(request: Any) -> int:
    return 0


TRACES: Final = Signal(
    "traces",
    "/v1/traces",
    "opentelemetry.proto.collector.trace.v1.TraceService",
    trace_service_pb2.ExportTraceServiceRequest,
    trace_service_pb2.ExportTraceServiceResponse,
    "rejected_spans",
    "span",
    _reject_spans,
)
METRICS: Final = Signal(
    "metrics",
    "/v1/metrics",
    "opentelemetry.proto.collector.metrics.v1.MetricsService",
    metrics_service_pb2.ExportMetricsServiceRequest,
    metrics_service_pb2.ExportMetricsServiceResponse,
    "rejected_data_points",
    "data point",
    _reject_nothing,
)
LOGS: Final = Signal(
    "logs",
    "/v1/logs",
    "opentelemetry.proto.collector.logs.v1.LogsService",
    logs_service_pb2.ExportLogsServiceRequest,
    logs_service_pb2.ExportLogsServiceResponse,
    "rejected_log_records",
    "log record",
    _reject_logs,
)
SIGNALS: Final = (TRACES, METRICS, LOGS)
BY_PATH: Final = {signal.path: signal for signal in SIGNALS}


def _fix_ids(node: Any) -> Any:
    """OTLP/JSON writes ids as hex where the protobuf JSON mapping expects base64: convert in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                node[key] = _hex_to_base64(value)
            elif isinstance(value, (dict, list)):
                _fix_ids(value)
    elif isinstance(node, list):
        for value in node:
            if isinstance(value, (dict, list)):
                _fix_ids(value)
    return node


def _hex_to_base64(value: str) -> str:
    if not value:
        return ""
    try:
        return base64.b64encode(bytes.fromhex(value)).decode()
    except ValueError:
        return _BAD_ID


def parse_json(signal: Signal, body: bytes) -> Message:
    """An OTLP/JSON body as the signal's request message. Unknown fields are ignored, as OTLP asks."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise BadRequestError(f"invalid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise BadRequestError("the JSON body must be an object")
    message = signal.request()
    # SystemError: protobuf's C parser raises it for a lone surrogate where an enum name belongs.
    try:
        json_format.ParseDict(_fix_ids(document), message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, RecursionError, binascii.Error, SystemError) as exc:
        raise BadRequestError(f"invalid OTLP/JSON {signal.request.DESCRIPTOR.name}: {exc}") from None
    return message


def parse_protobuf(signal: Signal, body: bytes) -> Message:
    """A protobuf body as the signal's request message."""
    message = signal.request()
    try:
        message.ParseFromString(body)
    except (DecodeError, RecursionError, ValueError) as exc:
        raise BadRequestError(f"invalid protobuf {signal.request.DESCRIPTOR.name}: {exc}") from None
    return message


@dataclass(frozen=True)
class Decoded:
    """A checked request: what to store and what to answer."""

    payload: bytes
    """The protobuf request to append to the WAL."""
    rejected: int
    """Items removed for invalid ids (the partial-success count)."""
    items: int
    """Items kept (spans, data points, log records)."""


def decode(signal: Signal, body: bytes, is_json: bool) -> Decoded:
    """Parse and check one request body.

    Raises:
        BadRequestError: the body does not parse as the signal's request.
    """
    message = parse_json(signal, body) if is_json else parse_protobuf(signal, body)
    rejected = signal.reject_invalid(message)
    payload = message.SerializeToString() if is_json or rejected else body
    return Decoded(payload, rejected, count_items(signal, message))


def count_items(signal: Signal, message: Any) -> int:
    """Spans, data points or log records in a parsed request."""
    if signal is TRACES:
        return sum(len(scope.spans) for resource in message.resource_spans for scope in resource.scope_spans)
    if signal is LOGS:
        return sum(len(scope.log_records) for resource in message.resource_logs for scope in resource.scope_logs)
    return sum(len(scope.metrics) for resource in message.resource_metrics for scope in resource.scope_metrics)


def response(signal: Signal, rejected: int) -> Message:
    """The Export response: empty on full success, with ``partial_success`` when items were rejected."""
    message = signal.response()
    if rejected:
        partial = message.partial_success
        setattr(partial, signal.rejected_field, rejected)
        partial.error_message = f"{rejected} {signal.item}(s) rejected: invalid or missing trace/span id"
    return message


def to_json(message: Message) -> bytes:
    """A message in the OTLP/JSON encoding (protobuf JSON mapping, camelCase field names)."""
    return json_format.MessageToJson(message, indent=None).encode()
