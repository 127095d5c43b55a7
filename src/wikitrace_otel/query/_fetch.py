"""Reading whole spans back from where the index says they are (a JSONL line or a WAL record).

The index keeps only the columns queries need; ``show --json`` and ``export`` read the rest from
the source, in OTLP JSON form. Sources are append-only, so an offset stays valid; a file the
user deleted leaves its spans indexed but incomplete (:class:`FullSpan` is then None).
"""

from __future__ import annotations

import base64
import json
import math
import struct
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any, NamedTuple

_HEADER = struct.Struct("<II")
_DOUBLE_SPECIALS = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
_KEPT_SOURCES = 8


class FullSpan(NamedTuple):
    """One span as stored: the OTLP JSON span, its resource's attributes and its scope."""

    span: dict[str, Any]
    resource: list[dict[str, Any]]
    scope: dict[str, Any]


class SpanLoader:
    """Reads whole spans of one store root; keeps the last few sources parsed (export reads them in order)."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._cache: OrderedDict[tuple[str, int], dict[str, FullSpan]] = OrderedDict()

    def load(self, source: str | None, offset: int | None, span_id: str) -> FullSpan | None:
        """The span ``span_id`` of the line or record at ``source``/``offset``; None when it is gone."""
        if source is None or offset is None:
            return None
        key = (source, offset)
        spans = self._cache.get(key)
        if spans is None:
            spans = self._read(source, offset)
            self._cache[key] = spans
            if len(self._cache) > _KEPT_SOURCES:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return spans.get(span_id)

    def _read(self, source: str, offset: int) -> dict[str, FullSpan]:
        path = self._root / source
        try:
            with open(path, "rb") as stream:
                stream.seek(offset)
                if source.endswith(".jsonl"):
                    return _from_json(json.loads(stream.readline()))
                return _from_record(stream.read(_HEADER.size), stream)
        except (OSError, ValueError):  # deleted, truncated or damaged since it was indexed
            return {}


def _from_json(data: dict[str, Any]) -> dict[str, FullSpan]:
    found = {}
    for resource_spans in data.get("resourceSpans") or ():
        resource = (resource_spans.get("resource") or {}).get("attributes") or []
        for scope_spans in resource_spans.get("scopeSpans") or ():
            scope = scope_spans.get("scope") or {}
            for span in scope_spans.get("spans") or ():
                found[str(span.get("spanId", "")).lower()] = FullSpan(span, resource, scope)
    return found


def _from_record(header: bytes, stream: Any) -> dict[str, FullSpan]:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    length, crc = _HEADER.unpack(header)
    payload = stream.read(length)
    if len(payload) != length or zlib.crc32(payload) != crc:
        return {}
    found = {}
    for resource_spans in ExportTraceServiceRequest.FromString(payload).resource_spans:
        resource = attributes_json(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = {"name": scope_spans.scope.name}
            if scope_spans.scope.version:
                scope["version"] = scope_spans.scope.version
            for span in scope_spans.spans:
                found[span.span_id.hex()] = FullSpan(_span_json(span), resource, scope)
    return found


def _span_json(span: Any) -> dict[str, Any]:
    """A protobuf span in OTLP JSON form (hex ids, 64-bit integers as strings, defaults left out)."""
    encoded: dict[str, Any] = {"traceId": span.trace_id.hex(), "spanId": span.span_id.hex()}
    if span.trace_state:
        encoded["traceState"] = span.trace_state
    if span.parent_span_id:
        encoded["parentSpanId"] = span.parent_span_id.hex()
    if span.flags:
        encoded["flags"] = span.flags
    encoded.update(name=span.name, kind=span.kind)
    encoded["startTimeUnixNano"] = str(span.start_time_unix_nano)
    encoded["endTimeUnixNano"] = str(span.end_time_unix_nano)
    if span.attributes:
        encoded["attributes"] = attributes_json(span.attributes)
    if span.events:
        encoded["events"] = [_event_json(event) for event in span.events]
    if span.links:
        encoded["links"] = [_link_json(link) for link in span.links]
    status: dict[str, Any] = {}
    if span.status.message:
        status["message"] = span.status.message
    if span.status.code:
        status["code"] = span.status.code
    encoded["status"] = status
    return encoded


def attributes_json(key_values: Any) -> list[dict[str, Any]]:
    """Protobuf ``KeyValue`` items as an OTLP JSON list."""
    return [{"key": kv.key, "value": _value_json(kv.value)} for kv in key_values]


def _value_json(value: Any) -> dict[str, Any]:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return {"stringValue": value.string_value}
    if kind == "int_value":
        return {"intValue": str(value.int_value)}
    if kind == "double_value":
        number = value.double_value
        return {"doubleValue": number if math.isfinite(number) else _DOUBLE_SPECIALS[str(number)]}
    if kind == "bool_value":
        return {"boolValue": value.bool_value}
    if kind == "bytes_value":
        return {"bytesValue": base64.b64encode(value.bytes_value).decode()}
    if kind == "array_value":
        return {"arrayValue": {"values": [_value_json(item) for item in value.array_value.values]}}
    if kind == "kvlist_value":
        return {"kvlistValue": {"values": attributes_json(value.kvlist_value.values)}}
    return {}


def _event_json(event: Any) -> dict[str, Any]:
    encoded: dict[str, Any] = {"timeUnixNano": str(event.time_unix_nano), "name": event.name}
    if event.attributes:
        encoded["attributes"] = attributes_json(event.attributes)
    return encoded


def _link_json(link: Any) -> dict[str, Any]:
    encoded: dict[str, Any] = {"traceId": link.trace_id.hex(), "spanId": link.span_id.hex()}
    if link.trace_state:
        encoded["traceState"] = link.trace_state
    if link.attributes:
        encoded["attributes"] = attributes_json(link.attributes)
    return encoded
