"""Index rows from the two store formats: OTLP JSON ``TracesData`` lines and protobuf requests.

Only the attributes the index reads (:data:`~wikitrace_otel.query._rows.INDEXED_KEYS`) become
Python values; each row records the line or WAL record that holds the whole span, which
:mod:`wikitrace_otel.query._fetch` reads back for ``show --json`` and ``export``.

The indexer calls :func:`add_json` and :func:`add_request`, which append to
:class:`~wikitrace_otel.query._columns.Columns` one scope's spans at a time: every field but the
GenAI attributes is read for the whole group by C-level ``map`` calls, the GenAI columns by
:func:`~wikitrace_otel.query._genai_block.genai_block`, and a WAL record's span attributes through
:mod:`~wikitrace_otel.query._pbview`. :func:`rows_from_json` and
:func:`rows_from_request` give the same rows one tuple per span, and
:func:`~wikitrace_otel.query._rows.build_row` is the same computation written span by span.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import repeat
from operator import attrgetter, itemgetter, methodcaller, sub
from typing import Any, Final

from wikitrace_otel.query import _pbview
from wikitrace_otel.query._columns import Columns
from wikitrace_otel.query._genai_block import genai_block
from wikitrace_otel.query._rows import INDEXED_KEYS, KIND_NAMES, STATUS_NAMES, service_column
from wikitrace_otel.store import any_value
from wikitrace_otel.store.reader import hex_id

_KIND_OF: Final = dict(enumerate(KIND_NAMES)).get
_STATUS_OF: Final = dict(enumerate(STATUS_NAMES)).get
_EMPTY: Final[dict[str, Any]] = {}


def rows_from_json(data: dict[str, Any], batch: int, source: tuple[str, int]) -> Iterator[tuple[Any, ...]]:
    """Rows of one OTLP JSON ``TracesData`` object (one line of a ``*.jsonl`` file).

    Raises:
        KeyError, TypeError, ValueError, AttributeError: the object is not a valid ``TracesData``.
    """
    columns = Columns()
    add_json(columns, data, batch, source)
    yield from columns.rows()


def rows_from_request(payload: bytes, batch: int, source: tuple[str, int]) -> Iterator[tuple[Any, ...]]:
    """Rows of one serialized ``ExportTraceServiceRequest`` (one WAL record).

    Raises:
        google.protobuf.message.DecodeError: the payload is not such a request.
    """
    columns = Columns()
    add_request(columns, payload, batch, source)
    yield from columns.rows()


def add_json(columns: Columns, data: dict[str, Any], batch: int, source: tuple[str, int]) -> int:
    """Append the rows of one OTLP JSON ``TracesData`` object; all of them or, on error, none.

    Returns:
        The number of rows added.

    Raises:
        KeyError, TypeError, ValueError, AttributeError: the object is not a valid ``TracesData``.
    """
    size = len(columns)
    try:
        for resource_spans in data.get("resourceSpans") or ():
            service = _service((resource_spans.get("resource") or {}).get("attributes") or ())
            for scope_spans in resource_spans.get("scopeSpans") or ():
                scope = scope_spans.get("scope") or {}
                spans = list(scope_spans.get("spans") or ())
                head = _json_head(spans, service, scope.get("name", ""), scope.get("version", ""))
                genai = genai_block([_indexed(attributes or ()) for attributes in map(_ATTRIBUTES, spans)])
                columns.add_group(head, genai, source, batch)
    except BaseException:
        columns.truncate(size)
        raise
    return len(columns) - size


def add_request(columns: Columns, payload: bytes, batch: int, source: tuple[str, int]) -> int:
    """Append the rows of one serialized ``ExportTraceServiceRequest``; all of them or, on error, none.

    Returns:
        The number of rows added.

    Raises:
        google.protobuf.message.DecodeError: the payload is not such a request.
    """
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    # The real message checks the whole request (wire types, UTF-8) and gives resources and
    # scopes; the view (same bytes) gives the spans' fields and their attributes as raw values.
    request = ExportTraceServiceRequest.FromString(payload)
    view = _pbview.request_class().FromString(payload)
    size = len(columns)
    try:
        for resource_spans, view_resource in zip(request.resource_spans, view.resource_spans, strict=True):
            service = next(
                (kv.value.string_value for kv in resource_spans.resource.attributes if kv.key == "service.name"), None
            )
            for scope_spans, view_scope in zip(resource_spans.scope_spans, view_resource.scope_spans, strict=True):
                spans = list(view_scope.spans)
                if spans:
                    scope = scope_spans.scope
                    head = _request_head(spans, service, scope.name, scope.version)
                    genai = genai_block(_pb_attributes(spans))
                    columns.add_group(head, genai, source, batch)
    except BaseException:
        columns.truncate(size)
        raise
    return len(columns) - size


_TRACE_ID: Final = itemgetter("traceId")
_SPAN_ID: Final = itemgetter("spanId")
_PARENT: Final = methodcaller("get", "parentSpanId")
_STATE: Final = methodcaller("get", "traceState", "")
_FLAGS: Final = methodcaller("get", "flags", 0)
_NAME: Final = methodcaller("get", "name", "")
_KIND: Final = methodcaller("get", "kind", 0)
_START: Final = methodcaller("get", "startTimeUnixNano", 0)
_END: Final = methodcaller("get", "endTimeUnixNano", 0)
_STATUS: Final = methodcaller("get", "status")
_CODE: Final = methodcaller("get", "code", 0)
_MESSAGE: Final = methodcaller("get", "message", "")
_ATTRIBUTES: Final = methodcaller("get", "attributes")


def _json_head(spans: list[Any], service: str | None, scope_name: Any, scope_version: Any) -> list[list[Any]]:
    """Timestamp ... StatusMessage of a group of OTLP JSON spans (what ``build_row`` computes per span)."""
    count = len(spans)
    statuses = [status or _EMPTY for status in map(_STATUS, spans)]
    starts = list(map(int, map(_START, spans)))
    ends = list(map(int, map(_END, spans)))
    return [
        starts,
        list(map(max, map(sub, ends, starts), repeat(0))),
        list(map(hex_id, map(_TRACE_ID, spans), repeat(32))),
        list(map(hex_id, map(_SPAN_ID, spans), repeat(16))),
        [hex_id(parent, 16) if parent else None for parent in map(_PARENT, spans)],
        [state or None for state in map(_STATE, spans)],
        [flags or None for flags in map(int, map(_FLAGS, spans))],
        list(map(_clean, map(_NAME, spans))),
        list(map(_KIND_OF, map(int, map(_KIND, spans)), repeat(KIND_NAMES[0]))),
        [service_column(service)] * count,
        [scope_name or None] * count,
        [scope_version or None] * count,
        list(map(_STATUS_OF, map(int, map(_CODE, statuses)), repeat(STATUS_NAMES[0]))),
        [_clean(message) or None for message in map(_MESSAGE, statuses)],
    ]


_PB_TRACE_ID: Final = attrgetter("trace_id")
_PB_SPAN_ID: Final = attrgetter("span_id")
_PB_PARENT: Final = attrgetter("parent_span_id")
_PB_STATE: Final = attrgetter("trace_state")
_PB_FLAGS: Final = attrgetter("flags")
_PB_NAME: Final = attrgetter("name")
_PB_KIND: Final = attrgetter("kind")
_PB_START: Final = attrgetter("start_time_unix_nano")
_PB_END: Final = attrgetter("end_time_unix_nano")
_PB_STATUS: Final = attrgetter("status")
_PB_CODE: Final = attrgetter("code")
_PB_MESSAGE: Final = attrgetter("message")
_PB_ATTRIBUTES: Final = attrgetter("attributes")
_pb_any: Final = _pbview.any_value


def _request_head(spans: list[Any], service: str | None, scope_name: str, scope_version: str) -> list[list[Any]]:
    """Timestamp ... StatusMessage of a group of protobuf spans (of the ``_pbview`` message)."""
    count = len(spans)
    statuses = list(map(_PB_STATUS, spans))
    starts = list(map(_PB_START, spans))
    names = list(map(_PB_NAME, spans))
    parents = list(map(bytes.hex, map(_PB_PARENT, spans)))
    states = list(map(_PB_STATE, spans))
    flags = list(map(_PB_FLAGS, spans))
    messages = list(map(_PB_MESSAGE, statuses))
    return [
        starts,
        list(map(max, map(sub, map(_PB_END, spans), starts), repeat(0))),
        list(map(bytes.hex, map(_PB_TRACE_ID, spans))),
        list(map(bytes.hex, map(_PB_SPAN_ID, spans))),
        list(map(_EMPTY_AS_NONE, parents, parents)),  # `or None`, in C: every value is a str or an int
        list(map(_EMPTY_AS_NONE, states, states)),
        list(map(_ZERO_AS_NONE, flags, flags)),
        list(map(_clean, names)) if "\x00" in "".join(names) else names,
        list(map(_KIND_OF, map(_PB_KIND, spans), repeat(KIND_NAMES[0]))),
        [service_column(service)] * count,
        [scope_name or None] * count,
        [scope_version or None] * count,
        list(map(_STATUS_OF, map(_PB_CODE, statuses), repeat(STATUS_NAMES[0]))),
        [_clean(message) or None for message in messages]
        if "\x00" in "".join(messages)
        else list(map(_EMPTY_AS_NONE, messages, messages)),
    ]


_EMPTY_AS_NONE: Final = {"": None}.get
_ZERO_AS_NONE: Final = {0: None}.get


def _pb_attributes(spans: list[Any]) -> list[dict[str, Any]]:
    """Each span's attributes in INDEXED_KEYS as plain values (the hottest loop of WAL indexing)."""
    found = []
    for attributes in map(_PB_ATTRIBUTES, spans):
        values = {}
        for key in attributes:
            if key in INDEXED_KEYS:
                raw = attributes[key]
                # Inline, the common case (the real message checked its UTF-8): a string_value tag and
                # a one-byte length covering the rest. Anything else goes to _pbview.any_value.
                short_text = len(raw) > 1 and raw[0] == 0x0A and raw[1] == len(raw) - 2
                values[key] = raw[2:].decode() if short_text else _pb_any(raw)
        found.append(values)
    return found


def _clean(text: str) -> str:
    # NUL cannot travel through the CSV bulk load; nothing queries by it.
    return text.replace("\x00", "") if "\x00" in text else text


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
