"""A lighter reading of ``ExportTraceServiceRequest`` for the indexer: span attributes as a map of raw values.

The OTLP ``KeyValue`` message (``key = 1``, ``value = 2``) has the wire format of a protobuf map
entry, so the same bytes parse as ``map<string, bytes>``: reading a span's attribute keys is then
one C-level map iteration instead of a Python wrapper object per ``KeyValue`` and per ``AnyValue``
(about three times faster), and only the values the index reads are decoded, by :func:`any_value`.
A repeated key keeps its last value, as a dict built from the ``KeyValue`` list does. (One
difference no encoder produces: a ``KeyValue`` whose ``value`` field itself occurs twice is
merged by the real message and read from its last occurrence here.)

The view declares only what the index reads (the rest of a span is skipped as unknown fields), and
validates nothing it does not declare: callers parse the payload with the real message first, which
checks the whole request, and use the view for the same bytes afterwards.
"""

from __future__ import annotations

import struct
from typing import Any, Final

_PACKAGE: Final = "wikitrace.indexview"
_DOUBLE = struct.Struct("<d").unpack_from
_request_class: Any = None


def request_class() -> Any:
    """The view's message class for ``ExportTraceServiceRequest`` (built on first use)."""
    global _request_class
    if _request_class is None:
        _request_class = _build()
    return _request_class


def any_value(raw: bytes) -> Any:
    """A serialized ``AnyValue`` as :func:`wikitrace_otel.query._decode.pb_value` reads it.

    Strings, non-negative ints, doubles and bools in their canonical encoding are read here;
    anything else (arrays, maps, bytes, negative ints, repeated fields) by the real message.
    The bytes must come from a payload the real message parsed (strings are valid UTF-8).
    """
    size = len(raw)
    if size < 2:
        return None if not raw else _slow(raw)
    tag = raw[0]
    if tag == 0x0A:  # string_value: tag, varint length, text
        length = raw[1]
        if length < 0x80:
            return raw[2:].decode() if length == size - 2 else _slow(raw)
        if size > 3 and raw[2] < 0x80 and (length & 0x7F | raw[2] << 7) == size - 3:
            return raw[3:].decode()
    elif tag == 0x18:  # int_value: tag, varint (negative ints take 10 bytes and go the slow way)
        if size == 2 and raw[1] < 0x80:
            return raw[1]
        if size == 3 and raw[1] >= 0x80 and raw[2] < 0x80:
            return raw[1] & 0x7F | raw[2] << 7
        if size == 4 and raw[1] >= 0x80 and raw[2] >= 0x80 and raw[3] < 0x80:
            return raw[1] & 0x7F | (raw[2] & 0x7F) << 7 | raw[3] << 14
    elif tag == 0x21 and size == 9:  # double_value: tag, 8 bytes little-endian
        return _DOUBLE(raw, 1)[0]
    elif tag == 0x10 and size == 2 and raw[1] < 2:  # bool_value
        return raw[1] == 1
    return _slow(raw)


def _slow(raw: bytes) -> Any:
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue

    from wikitrace_otel.query._decode import pb_value

    return pb_value(AnyValue.FromString(raw))


def _build() -> Any:
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field = descriptor_pb2.FieldDescriptorProto
    optional, repeated = field.LABEL_OPTIONAL, field.LABEL_REPEATED
    file = descriptor_pb2.FileDescriptorProto(name="wikitrace_indexview.proto", package=_PACKAGE, syntax="proto3")

    def message(name: str, fields: list[tuple[str, int, int, int, str]]) -> descriptor_pb2.DescriptorProto:
        proto = file.message_type.add(name=name)
        for field_name, number, kind, label, type_name in fields:
            added = proto.field.add(name=field_name, number=number, type=kind, label=label)
            if type_name:
                added.type_name = f".{_PACKAGE}.{type_name}"
        return proto

    # Field numbers and wire types of opentelemetry/proto/trace/v1/trace.proto.
    message("Status", [("message", 2, field.TYPE_STRING, optional, ""), ("code", 3, field.TYPE_INT32, optional, "")])
    span = message(
        "Span",
        [
            ("trace_id", 1, field.TYPE_BYTES, optional, ""),
            ("span_id", 2, field.TYPE_BYTES, optional, ""),
            ("trace_state", 3, field.TYPE_STRING, optional, ""),
            ("parent_span_id", 4, field.TYPE_BYTES, optional, ""),
            ("name", 5, field.TYPE_STRING, optional, ""),
            ("kind", 6, field.TYPE_INT32, optional, ""),
            ("start_time_unix_nano", 7, field.TYPE_FIXED64, optional, ""),
            ("end_time_unix_nano", 8, field.TYPE_FIXED64, optional, ""),
            ("attributes", 9, field.TYPE_MESSAGE, repeated, "Span.AttributesEntry"),
            ("status", 15, field.TYPE_MESSAGE, optional, "Status"),
            ("flags", 16, field.TYPE_FIXED32, optional, ""),
        ],
    )
    entry = span.nested_type.add(name="AttributesEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=field.TYPE_STRING, label=optional)
    entry.field.add(name="value", number=2, type=field.TYPE_BYTES, label=optional)
    message("ScopeSpans", [("spans", 2, field.TYPE_MESSAGE, repeated, "Span")])
    message("ResourceSpans", [("scope_spans", 2, field.TYPE_MESSAGE, repeated, "ScopeSpans")])
    message("Request", [("resource_spans", 1, field.TYPE_MESSAGE, repeated, "ResourceSpans")])
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Request"))
