"""OTLP request bodies for the collector's gRPC fuzz run, built from hypothesis draws, and their oracle.

- :func:`bodies` draws a request body of one of :data:`BODY_KINDS` for one of the three
  :data:`SERVICES`: random bytes; a valid request (:func:`requests`: ids sometimes zero or of a
  wrong length, times up to 2**64 - 1, enums out of range); truncated or damaged (bit flips,
  inserted or deleted bytes); padded with an unknown field to one byte under, at or over the size
  limit, or far over it; or a valid request plus an item carrying one of the :data:`ODDITIES`
  written directly in the protobuf wire format (invalid UTF-8, wrong wire types, overlong
  varints, huge fixed64 times, AnyValue kvlists and arrays nested up to 120 deep, tens of
  thousands of attributes, broken tags, unknown fields).
- :func:`expect` is this module's own reading of a call: the protobuf library parses the body and
  OTLP's id rules pick what a receiver must store and reject, without the collector's code.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from fuzz_support import INT64, any_values, key_values, mutate, span_ok
from google.protobuf.message import DecodeError, Message
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest, ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.trace.v1.trace_pb2 import Span

MAX_BODY = 64 * 1024
"""The collector's message size limit in this run: small, so that over-limit calls are cheap."""


@dataclass(frozen=True)
class Service:
    """One OTLP service: its method, messages, and which of its items a receiver must keep."""

    signal: str
    path: str
    request: type[Message]
    response: type[Message]
    rejected_field: str
    item_ok: Callable[[Any], bool]
    item_string_field: int
    """A string field of the item (for invalid UTF-8)."""
    item_attributes_field: int
    """The item's repeated KeyValue field."""
    item_fixed64_field: int
    """A fixed64 field of the item (for huge times)."""


def _log_ok(record: LogRecord) -> bool:
    return len(record.trace_id) in (0, 16) and len(record.span_id) in (0, 8)


SERVICES = (
    Service(
        "traces",
        "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        ExportTraceServiceRequest,
        ExportTraceServiceResponse,
        "rejected_spans",
        span_ok,
        5,
        9,
        7,
    ),
    Service(
        "metrics",
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
        ExportMetricsServiceRequest,
        ExportMetricsServiceResponse,
        "rejected_data_points",
        lambda metric: True,
        1,
        12,
        99,  # Metric has no fixed64 field: an unknown one, which must be kept
    ),
    Service(
        "logs",
        "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
        ExportLogsServiceRequest,
        ExportLogsServiceResponse,
        "rejected_log_records",
        _log_ok,
        3,
        6,
        1,
    ),
)
BY_PATH = {service.path: service for service in SERVICES}


# --- protobuf wire format ------------------------------------------------------------------------

LEN, VARINT, I64 = 2, 0, 1


def varint(number: int) -> bytes:
    """``number`` (taken as unsigned 64-bit) as a protobuf varint."""
    number &= (1 << 64) - 1
    out = bytearray()
    while number > 0x7F:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    return bytes(out) + bytes([number])


def tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)


def delimited(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return tag(number, LEN) + varint(len(payload)) + payload


def in_request(item: bytes) -> bytes:
    """A request of any signal holding one item: the three share the shape 1 -> 2 -> 2 -> item."""
    return delimited(1, delimited(2, delimited(2, item)))


def nested_value(depth: int) -> bytes:
    """An AnyValue ``depth`` levels deep, alternating kvlist and array values."""
    value = delimited(1, b"leaf")
    for level in range(depth):
        value = (
            delimited(5, delimited(1, value))
            if level % 2
            else delimited(6, delimited(1, delimited(1, b"k") + delimited(2, value)))
        )
    return value


ODDITIES = (
    "invalid utf-8",
    "wrong wire type",
    "overlong varint",
    "huge time",
    "deep nesting",
    "many attributes",
    "bad tag",
    "unknown field",
)
_BAD_UTF8 = (b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"a\x00b\xfe")
_BAD_TAGS = (b"\x00", tag(7, 3), tag(7, 4), tag(7, 6), tag(7, 7), tag(2**29 - 1, LEN) + b"\x05")


@st.composite
def oddities(draw: st.DrawFn, service: Service, name: str) -> tuple[str, bytes]:
    """Bytes to append to an item of ``service``: the oddity ``name``, and its description."""
    attributes = service.item_attributes_field
    if name == "invalid utf-8":
        return name, delimited(service.item_string_field, draw(st.sampled_from(_BAD_UTF8)))
    if name == "wrong wire type":
        return name, tag(service.item_string_field, VARINT) + varint(draw(st.integers(0, 2**64 - 1)))
    if name == "overlong varint":
        return name, tag(attributes, VARINT) + b"\xff" * 11
    if name == "huge time":
        time_ = draw(st.sampled_from([0, 2**63, 2**64 - 1]))
        return name, tag(service.item_fixed64_field, I64) + time_.to_bytes(8, "little")
    if name == "deep nesting":
        depth = draw(st.integers(0, 120))
        return f"{name} {'over' if depth > 40 else 'under'} 40", delimited(
            attributes, delimited(2, nested_value(depth))
        )
    if name == "many attributes":  # up to ~28,000 empty KeyValues within the limit
        return name, delimited(attributes, b"") * draw(st.integers(1000, (MAX_BODY - 8192) // 2))
    if name == "bad tag":
        return name, draw(st.sampled_from(_BAD_TAGS))
    return name, delimited(draw(st.integers(1000, 2**29 - 1)), b"kept")


# --- items and requests --------------------------------------------------------------------------


def _ids(size: int) -> st.SearchStrategy[bytes]:
    """Mostly valid ids; sometimes zero, or of a wrong length."""
    valid = st.binary(min_size=size, max_size=size).filter(any)
    return st.one_of(valid, valid, valid, st.just(bytes(size)), st.binary(max_size=24))


_times = st.one_of(st.integers(0, 2**64 - 1), st.sampled_from([0, 2**63 - 1, 2**63, 2**64 - 1]))
_enums = st.one_of(st.integers(0, 5), st.integers(-(2**31), 2**31 - 1))


@st.composite
def _span(draw: st.DrawFn) -> Span:
    span = Span(
        trace_id=draw(_ids(16)),
        span_id=draw(_ids(8)),
        parent_span_id=draw(st.one_of(st.just(b""), _ids(8))),
        name=draw(st.text(max_size=20)),
        kind=draw(_enums),
        start_time_unix_nano=draw(_times),
        end_time_unix_nano=draw(_times),
    )
    span.attributes.extend(draw(key_values))
    return span


@st.composite
def _log(draw: st.DrawFn) -> LogRecord:
    record = LogRecord(
        time_unix_nano=draw(_times),
        severity_number=draw(_enums),
        severity_text=draw(st.text(max_size=10)),
        trace_id=draw(st.one_of(st.just(b""), _ids(16))),
        span_id=draw(st.one_of(st.just(b""), _ids(8))),
    )
    record.body.CopyFrom(draw(any_values))
    record.attributes.extend(draw(key_values))
    return record


@st.composite
def _metric(draw: st.DrawFn) -> Metric:
    metric = Metric(name=draw(st.text(max_size=20)), unit=draw(st.text(max_size=5)))
    points = metric.sum.data_points if draw(st.booleans()) else metric.gauge.data_points
    for value in draw(st.lists(st.one_of(st.integers(*INT64), st.floats()), max_size=3)):
        point = points.add(time_unix_nano=draw(_times))
        if isinstance(value, int):
            point.as_int = value
        else:
            point.as_double = value
        point.attributes.extend(draw(key_values))
    return metric


_ITEMS = {"traces": ("spans", _span()), "metrics": ("metrics", _metric()), "logs": ("log_records", _log())}


@st.composite
def requests(draw: st.DrawFn, service: Service) -> Message:
    """A request of ``service`` with 1-2 resources and scopes, 0-3 items each."""
    container, items = _ITEMS[service.signal]
    message = service.request()
    resources = getattr(message, f"resource_{_suffix(service)}")
    for _ in range(draw(st.integers(1, 2))):
        resource = resources.add()
        resource.resource.attributes.extend(draw(key_values))
        scopes = getattr(resource, f"scope_{_suffix(service)}")
        for _ in range(draw(st.integers(1, 2))):
            getattr(scopes.add(), container).extend(draw(st.lists(items, max_size=3)))
    return message


def _suffix(service: Service) -> str:
    return {"traces": "spans", "metrics": "metrics", "logs": "logs"}[service.signal]


def resource_items(service: Service, message: Any) -> list[Any]:
    """Every item (span, metric, log record) of a parsed request."""
    container = _ITEMS[service.signal][0]
    resources = getattr(message, f"resource_{_suffix(service)}")
    return [item for r in resources for s in getattr(r, f"scope_{_suffix(service)}") for item in getattr(s, container)]


def well_formed(service: Service, seed: int) -> bytes:
    """A request of ``service`` holding one valid item, with ids drawn from ``seed``."""
    rng = random.Random(seed)
    trace_id, span_id = rng.randbytes(15) + b"\x01", rng.randbytes(7) + b"\x01"
    item: Message
    if service.signal == "traces":
        item = Span(trace_id=trace_id, span_id=span_id, name="well formed")
    elif service.signal == "logs":
        item = LogRecord(trace_id=trace_id, span_id=span_id, severity_text="well formed")
    else:
        item = Metric(name="well formed")
        item.gauge.data_points.add(as_int=rng.randrange(1000))
    return in_request(item.SerializeToString())


def item_key(item: Message) -> bytes:
    """What identifies a stored item in comparisons: its bytes, unknown fields included."""
    return item.SerializeToString(deterministic=True)


def _padded(valid: bytes, size: int) -> bytes:
    """``valid`` with an unknown field appended (which a receiver keeps) so that it is ``size`` bytes long."""
    filler = size - len(valid) - len(tag(99, LEN)) - 3  # lengths from 2**14 to 2**21 take a 3-byte varint
    body = valid + delimited(99, b"f" * filler)
    assert len(body) == size, (len(body), size)
    return body


BODY_KINDS = ("random bytes", "valid", "truncated", "damaged", "limit", "over", *ODDITIES)
"""The kinds of request body: each gets its share of examples, whatever hypothesis favours."""


@st.composite
def bodies(draw: st.DrawFn, service: Service, family: str) -> tuple[str, bytes]:
    """A request body of ``family`` built around a valid request of ``service``, and its description."""
    if family == "random bytes":
        return family, draw(st.binary(max_size=2000))
    valid = draw(requests(service)).SerializeToString()
    if family in ODDITIES:
        item = draw(_ITEMS[service.signal][1]).SerializeToString()
        name, extra = draw(oddities(service, family))
        return name, valid + in_request(item + extra)
    if family == "truncated":
        return family, valid[: draw(st.integers(0, max(len(valid) - 1, 0)))]
    if family == "damaged":
        return family, mutate(valid, random.Random(draw(st.integers(0, 2**32))))
    if family == "limit":  # one byte under, at, and one over
        delta = draw(st.sampled_from((-1, 0, 1)))
        return f"limit{delta:+d}", _padded(valid, MAX_BODY + delta)
    if family == "over":
        return family, _padded(valid, draw(st.integers(MAX_BODY + 2, 4 * MAX_BODY)))
    return "valid", valid


@dataclass(frozen=True)
class Expected:
    """What the collector must answer to a call that runs to its end, and store if it answers OK."""

    code: grpc.StatusCode
    service: Service | None = None
    stored: tuple[bytes, ...] = ()
    """Item keys (:func:`item_key`) of what must be stored."""
    rejected: int = 0


def expect(path: str, body: bytes, tenant: str | None) -> Expected:
    """This module's reading of a call: the method, then the size limit, the key, the body and the ids."""
    service = BY_PATH.get(path)
    if service is None:
        return Expected(grpc.StatusCode.UNIMPLEMENTED)
    if len(body) > MAX_BODY:
        return Expected(grpc.StatusCode.RESOURCE_EXHAUSTED)
    if tenant is None:
        return Expected(grpc.StatusCode.UNAUTHENTICATED)
    try:
        message = service.request.FromString(body)
    except DecodeError:
        return Expected(grpc.StatusCode.INVALID_ARGUMENT)
    items = resource_items(service, message)
    kept = tuple(item_key(item) for item in items if service.item_ok(item))
    return Expected(grpc.StatusCode.OK, service, kept, len(items) - len(kept))
