"""OTLP/JSON encoding of SDK spans, written straight to text.

The output is the protobuf JSON mapping of ``opentelemetry.proto.trace.v1.TracesData`` with the
OTLP/JSON rules on top: lowerCamelCase keys, trace and span ids as lowercase hex (not base64),
enums as integers, 64-bit integers as decimal strings, default values left out. It equals
``MessageToDict(encode_spans(spans))`` with hex ids (the tests check field by field) at 8-12
times the speed (``bench/file_exporter.py``): no protobuf objects, keys and resource blocks
rendered once, the SDK's copies of attributes, events and links skipped.

Where it differs from the protobuf encoder of ``opentelemetry-exporter-otlp-proto-common``:

- an integer beyond int64 becomes a ``stringValue`` (protobuf cannot hold it and drops the
  attribute; an ``intValue`` would make the Collector reject the whole line);
- a link's ``traceState`` is written (the protobuf encoder leaves it out);
- a lone surrogate (no UTF-8 for it) is written as its ``\\udXXX`` escape: the line stays valid.

Like it, a value of no attribute type drops that attribute (logged once per type).
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping, Sequence
from json.encoder import encode_basestring
from typing import Any, Final

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Link, SpanKind, StatusCode

_logger = logging.getLogger(__name__)

_esc = encode_basestring  # the C accelerator: escapes control characters, keeps other text as is
_KIND: Final = {kind: kind.value + 1 for kind in SpanKind}  # OTLP keeps 0 for "unspecified"
# Span.flags: bit 8 says whether the parent's "remote" bit (bit 9) is known; the SDK always knows.
_FLAGS_LOCAL: Final = 0x100
_FLAGS_REMOTE: Final = 0x300
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
_MAX_CACHED_KEYS: Final = 4096
_MAX_CACHED_HEADS: Final = 256
_LONG_STRING: Final = 512  # longer strings are joined once, not copied into an f-string
_TRUE: Final = '{"boolValue":true}'
_FALSE: Final = '{"boolValue":false}'
_DOUBLE_SPECIALS: Final = {"nan": '"NaN"', "inf": '"Infinity"', "-inf": '"-Infinity"'}
_ATTRIBUTES: Final = ',"attributes":['
_LINE_START: Final = b'{"resourceSpans":['
_LINE_END: Final = b"]}]}]}\n"
_NEXT_SCOPE: Final = b"]},"
_NEXT_RESOURCE: Final = b"]}]},"
_key_heads: dict[str, str] = {}
_SDK_ATTRIBUTES: Final = ReadableSpan.attributes
_SDK_EVENTS: Final = ReadableSpan.events
_SDK_LINKS: Final = ReadableSpan.links
_warned_types: set[type] = set()


# --- values -------------------------------------------------------------------------------


def encode_any_value(value: Any) -> str:
    """One ``AnyValue`` as JSON text (the attribute loop inlines the common scalar types).

    Raises:
        TypeError: the value is of no type an attribute can hold.
    """
    if isinstance(value, str):  # str and int subclasses (enums) too; bool before int on purpose
        return '{"stringValue":' + _esc(value) + "}"
    if isinstance(value, bool):
        return _TRUE if value else _FALSE
    if isinstance(value, int):
        return _int_value(int(value))
    if isinstance(value, float):
        return _double_value(value)
    if value is None:
        return "{}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return '{"bytesValue":"' + base64.b64encode(value).decode("ascii") + '"}'
    if isinstance(value, Sequence):
        return _array_value(value)
    if isinstance(value, Mapping):
        return _kvlist_value(value)
    raise TypeError(f"{type(value).__qualname__} is not an attribute value type")


def _int_value(value: int) -> str:
    if _INT64_MIN <= value <= _INT64_MAX:
        return f'{{"intValue":"{value}"}}'
    return f'{{"stringValue":"{value}"}}'


def _double_value(value: float) -> str:
    text = float.__repr__(value)
    return '{"doubleValue":' + _DOUBLE_SPECIALS.get(text, text) + "}"


def _array_value(values: Sequence[Any]) -> str:
    if not values:
        return '{"arrayValue":{}}'
    items = [f'{{"stringValue":{_esc(v)}}}' if type(v) is str else encode_any_value(v) for v in values]
    return '{"arrayValue":{"values":[' + ",".join(items) + "]}}"


def _kvlist_value(values: Mapping[Any, Any]) -> str:
    body = _key_values(values, '{"kvlistValue":{"values":[') if values else ""
    return body + "}}" if body else '{"kvlistValue":{}}'


# --- attributes ---------------------------------------------------------------------------


def _key_head(key: Any) -> str:
    if len(_key_heads) >= _MAX_CACHED_KEYS:
        _key_heads.clear()  # bounded: a workload with endless distinct keys just loses the cache
    head = _key_heads[key] = '{"key":' + _esc(str(key)) + ',"value":'
    return head


def _add_key_values(attributes: Mapping[Any, Any], out: list[str], opening: str) -> None:
    # The hot loop of the encoder. Common types are inlined, small values take one f-string
    # (one allocation); a long string goes to ``out`` in pieces so the only copy of it is the
    # final join. ``opening`` (the key and "[") is written with the first attribute kept, so a
    # list whose every value was dropped is left out, as protobuf leaves out empty lists.
    heads = _key_heads
    append = out.append
    sep = opening
    # The SDK's BoundedAttributes iterates in Python (a generator plus a __getitem__ per key);
    # the plain dict it keeps iterates in C. Spans are immutable once ended, so reading it is
    # safe; any other mapping takes the public path.
    inner = attributes if type(attributes) is dict else getattr(attributes, "_dict", None)
    for key, value in (inner if type(inner) is dict else attributes).items():
        head = heads.get(key) or _key_head(key)
        kind = type(value)
        if kind is str:
            if len(value) < _LONG_STRING:
                append(f'{sep}{head}{{"stringValue":{_esc(value)}}}}}')
            else:
                out += (sep, head, '{"stringValue":', _esc(value), "}}")
        elif kind is int and _INT64_MIN <= value <= _INT64_MAX:
            append(f'{sep}{head}{{"intValue":"{value}"}}}}')
        elif kind is bool:
            append(f"{sep}{head}{_TRUE if value else _FALSE}}}")
        elif kind is float:
            append(f"{sep}{head}{_double_value(value)}}}")
        elif kind is tuple:  # the SDK stores every sequence as a tuple
            append(f"{sep}{head}{_array_value(value)}}}")
        else:
            try:
                append(f"{sep}{head}{encode_any_value(value)}}}")
            except TypeError:
                _warn_type(key, value)
                continue
        sep = ","
    if sep is not opening:
        append("]")


def _key_values(attributes: Mapping[Any, Any], opening: str) -> str:
    out: list[str] = []
    _add_key_values(attributes, out, opening)
    return "".join(out)


def encode_attributes(attributes: Mapping[Any, Any] | None) -> str:
    """``,"attributes":[...]``, or ``""`` when there are none."""
    return _key_values(attributes, _ATTRIBUTES) if attributes else ""


def _warn_type(key: Any, value: Any) -> None:
    if type(value) not in _warned_types:
        _warned_types.add(type(value))
        _logger.warning("Attribute %r dropped from the span store: %s is not an attribute type", key, type(value))


def _dropped(name: str, count: int) -> str:
    return f',"{name}":{count}' if count else ""


# --- spans --------------------------------------------------------------------------------


def encode_span(span: ReadableSpan) -> str:
    """One ``Span`` object as JSON text.

    Raises:
        Exception: the span is unusable (no context, a name that is no string, a float time).
    """
    context = span.context
    parent = span.parent
    status = span.status
    out = [
        f'{{"traceId":"{context.trace_id:032x}","spanId":"{context.span_id:016x}"',
        ',"traceState":' + _esc(context.trace_state.to_header()) if context.trace_state else "",
        f',"parentSpanId":"{parent.span_id:016x}"' if parent is not None else "",
        f',"flags":{_FLAGS_REMOTE if parent is not None and parent.is_remote else _FLAGS_LOCAL}',
        f',"name":{_esc(span.name)},"kind":{_KIND[span.kind]}',
        _time("startTimeUnixNano", span.start_time),
        _time("endTimeUnixNano", span.end_time),
    ]
    # The SDK's properties copy: attributes into a fresh MappingProxyType, events and links into
    # tuples (under a lock). Read what they copy, unless a subclass (a redacting wrapper, say)
    # defines them its own way.
    sdk = type(span)
    attributes = span._attributes if sdk.attributes is _SDK_ATTRIBUTES else span.attributes
    if attributes:
        _add_key_values(attributes, out, _ATTRIBUTES)
    events = span._events if sdk.events is _SDK_EVENTS else span.events
    links = span._links if sdk.links is _SDK_LINKS else span.links
    out += (
        _dropped("droppedAttributesCount", span.dropped_attributes),
        ',"events":[' + ",".join([_event(event) for event in events]) + "]" if events else "",
        _dropped("droppedEventsCount", span.dropped_events),
        ',"links":[' + ",".join([_link(link) for link in links]) + "]" if links else "",
        _dropped("droppedLinksCount", span.dropped_links),
        _status(status.status_code, status.description),
        "}",
    )
    return "".join(out)


def _time(name: str, nanoseconds: int | None) -> str:
    return f',"{name}":"{nanoseconds:d}"' if nanoseconds else ""


def _event(event: Event) -> str:
    return (
        f'{{"timeUnixNano":"{event.timestamp:d}","name":{_esc(event.name)}'
        + encode_attributes(event.attributes)
        + _dropped("droppedAttributesCount", event.dropped_attributes)
        + "}"
    )


def _link(link: Link) -> str:
    context = link.context
    text = f'{{"traceId":"{context.trace_id:032x}","spanId":"{context.span_id:016x}"'
    if context.trace_state:
        text += ',"traceState":' + _esc(context.trace_state.to_header())
    return (
        text
        + encode_attributes(link.attributes)
        + _dropped("droppedAttributesCount", link.dropped_attributes)
        + f',"flags":{_FLAGS_REMOTE if context.is_remote else _FLAGS_LOCAL}}}'
    )


def _status(code: StatusCode, message: str | None) -> str:
    fields = [f'"code":{code.value}'] if code.value else []
    if message:
        fields.append('"message":' + _esc(message))
    return ',"status":{' + ",".join(fields) + "}"


def _utf8(text: str) -> bytes:
    # A lone surrogate cannot be UTF-8: its \udXXX escape keeps the JSON valid (it only ever
    # occurs inside a JSON string, every structural character being ASCII).
    return text.encode("utf-8", "backslashreplace")


# --- resource and scope blocks ------------------------------------------------------------


def _schema_url(url: str | None) -> str:
    return ',"schemaUrl":' + _esc(url) if url else ""


def resource_head(resource: Any) -> bytes:
    """``{"resource":{...},"schemaUrl":...,"scopeSpans":[`` for one SDK resource."""
    body = encode_attributes(resource.attributes)[1:]
    return _utf8('{"resource":{' + body + "}" + _schema_url(resource.schema_url) + ',"scopeSpans":[')


def scope_head(scope: Any) -> bytes:
    """``{"scope":{...},"schemaUrl":...,"spans":[`` for one instrumentation scope (or none)."""
    if scope is None:
        return b'{"scope":{},"spans":['
    fields = []
    if scope.name:
        fields.append('"name":' + _esc(scope.name))
    if scope.version:
        fields.append('"version":' + _esc(scope.version))
    attributes = encode_attributes(getattr(scope, "attributes", None))
    if attributes:
        fields.append(attributes[1:])
    return _utf8('{"scope":{' + ",".join(fields) + "}" + _schema_url(scope.schema_url) + ',"spans":[')


# --- batches ------------------------------------------------------------------------------


class TracesDataEncoder:
    """Turns a batch of spans into ``TracesData`` JSON lines, grouped by resource and scope.

    Groups come in the order of their first span and spans keep their batch order inside a
    group, as in the protobuf encoder. Rendered resource and scope blocks are cached across
    batches, keyed by the live object (held by the cache, so its id cannot be reused).
    """

    def __init__(self) -> None:
        self._heads: dict[int, tuple[object, bytes]] = {}
        self._warned: set[type] = set()

    def encode(self, spans: Sequence[ReadableSpan], max_line_bytes: int) -> tuple[list[tuple[bytes, int]], int]:
        """Encode one export batch.

        Args:
            spans: the batch.
            max_line_bytes: split the batch into lines no longer than this (each repeating its
                resource and scope blocks); a longer span gets a line of its own.

        Returns:
            ``(lines, failed)``: lines ending in ``\\n``, each with its span count, and the
            number of spans left out because they could not be encoded (no context, say).
        """
        groups, failed = self._group(spans)
        packer = _LinePacker(max_line_bytes)
        for resource_block, scopes in groups:
            for scope_block, bodies in scopes:
                for body in bodies:
                    packer.add(resource_block, scope_block, body)
        return packer.finish(), failed

    def _group(self, spans: Sequence[ReadableSpan]) -> tuple[list[tuple[bytes, list[tuple[bytes, list[bytes]]]]], int]:
        # Grouped by the rendered blocks: resources (or scopes) that are distinct objects but
        # write the same JSON share a group, as equal ones do in the protobuf encoder.
        groups: dict[bytes, dict[bytes, list[bytes]]] = {}
        failed = 0
        for span in spans:
            try:
                body = _utf8(encode_span(span))
            except Exception as error:  # noqa: BLE001 - one odd span must not lose the batch
                failed += 1
                self._warn_span(error)
                continue
            resource = self._head(span.resource, resource_head)
            scope = self._head(span.instrumentation_scope, scope_head)
            by_scope = groups.get(resource)
            if by_scope is None:
                by_scope = groups[resource] = {}
            bodies = by_scope.get(scope)
            if bodies is None:
                bodies = by_scope[scope] = []
            bodies.append(body)
        return [(resource, list(by_scope.items())) for resource, by_scope in groups.items()], failed

    def _warn_span(self, error: Exception) -> None:
        if type(error) not in self._warned:  # once per kind of error and encoder (one per exporter)
            self._warned.add(type(error))
            _logger.warning("Span left out of the span store, it could not be encoded: %r", error)

    def _head(self, obj: Any, render: Any) -> bytes:
        cached = self._heads.get(id(obj))
        if cached is None or cached[0] is not obj:
            if len(self._heads) >= _MAX_CACHED_HEADS:
                self._heads.clear()
            cached = self._heads[id(obj)] = (obj, render(obj))
        return cached[1]


class _LinePacker:
    """Packs span bodies into lines no longer than a limit, reopening resource and scope blocks."""

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._lines: list[tuple[bytes, int]] = []
        self._start()

    def _start(self) -> None:
        self._parts, self._size, self._count = [_LINE_START], len(_LINE_START) + len(_LINE_END), 0
        self._resource: bytes | None = None
        self._scope: bytes | None = None

    def add(self, resource: bytes, scope: bytes, body: bytes) -> None:
        if resource is not self._resource:
            opening: tuple[bytes, ...] = (_NEXT_RESOURCE, resource, scope) if self._count else (resource, scope)
        elif scope is not self._scope:
            opening = (_NEXT_SCOPE, scope)
        else:
            opening = (b",",)
        cost = len(body) + sum(len(part) for part in opening)
        if self._count and self._size + cost > self._limit:
            self._close()
            self.add(resource, scope, body)
            return
        self._parts.extend(opening)
        self._parts.append(body)
        self._size += cost
        self._count += 1
        self._resource, self._scope = resource, scope

    def _close(self) -> None:
        self._parts.append(_LINE_END)
        self._lines.append((b"".join(self._parts), self._count))
        self._start()

    def finish(self) -> list[tuple[bytes, int]]:
        if self._count:
            self._close()
        return self._lines
