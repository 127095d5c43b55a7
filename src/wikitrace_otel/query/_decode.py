"""Index rows from the two store formats: OTLP JSON ``TracesData`` lines and protobuf requests.

Only the attributes the index reads (:data:`~wikitrace_otel.query._rows.INDEXED_KEYS`) become
Python values; each row records the line or WAL record that holds the whole span, which
:mod:`wikitrace_otel.query._fetch` reads back for ``show --json`` and ``export``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from wikitrace_otel.query._rows import INDEXED_KEYS, build_row
from wikitrace_otel.store import any_value


def rows_from_json(data: dict[str, Any], batch: int, source: tuple[str, int]) -> Iterator[tuple[Any, ...]]:
    """Rows of one OTLP JSON ``TracesData`` object (one line of a ``*.jsonl`` file).

    Raises:
        KeyError, TypeError, ValueError, AttributeError: the object is not a valid ``TracesData``.
    """
    for resource_spans in data.get("resourceSpans") or ():
        service = _service((resource_spans.get("resource") or {}).get("attributes") or ())
        for scope_spans in resource_spans.get("scopeSpans") or ():
            scope = scope_spans.get("scope") or {}
            scope_name, scope_version = scope.get("name", ""), scope.get("version", "")
            for span in scope_spans.get("spans") or ():
                status = span.get("status") or {}
                fields = (
                    _hex(span["traceId"]),
                    _hex(span["spanId"]),
                    _hex(span.get("parentSpanId") or "") or None,
                    span.get("traceState", ""),
                    int(span.get("flags", 0)),
                    span.get("name", ""),
                    int(span.get("kind", 0)),
                    int(span.get("startTimeUnixNano", 0)),
                    int(span.get("endTimeUnixNano", 0)),
                    int(status.get("code", 0)),
                    status.get("message", ""),
                    scope_name,
                    scope_version,
                )
                yield build_row(fields, _indexed(span.get("attributes") or ()), service, source, batch)


def rows_from_request(payload: bytes, batch: int, source: tuple[str, int]) -> Iterator[tuple[Any, ...]]:
    """Rows of one serialized ``ExportTraceServiceRequest`` (one WAL record).

    Raises:
        google.protobuf.message.DecodeError: the payload is not such a request.
    """
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest.FromString(payload)
    for resource_spans in request.resource_spans:
        service = next(
            (kv.value.string_value for kv in resource_spans.resource.attributes if kv.key == "service.name"), None
        )
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope
            for span in scope_spans.spans:
                attributes = {kv.key: pb_value(kv.value) for kv in span.attributes if kv.key in INDEXED_KEYS}
                fields = (
                    span.trace_id.hex(),
                    span.span_id.hex(),
                    span.parent_span_id.hex() or None,
                    span.trace_state,
                    span.flags,
                    span.name,
                    span.kind,
                    span.start_time_unix_nano,
                    span.end_time_unix_nano,
                    span.status.code,
                    span.status.message,
                    scope.name,
                    scope.version,
                )
                yield build_row(fields, attributes, service, source, batch)


def _hex(text: str) -> str:
    bytes.fromhex(text)  # OTLP/JSON ids are hex; reject anything else
    return text.lower()


def _service(key_values: Any) -> str | None:
    for kv in key_values:
        if kv.get("key") == "service.name":
            value = any_value(kv.get("value"))
            return value if isinstance(value, str) else None
    return None


def _indexed(key_values: Any) -> dict[str, Any]:
    result = {}
    for kv in key_values:
        key = kv["key"]
        if key in INDEXED_KEYS:
            value = kv.get("value") or {}
            text = value.get("stringValue")  # the common case, without any_value's dispatch
            result[key] = text if text is not None else any_value(value)
    return result


def pb_value(value: Any) -> Any:
    """A protobuf ``AnyValue`` as a plain Python value."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [pb_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: pb_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)
