"""Reading the span store: OTLP JSON Lines files back into Python objects.

See :mod:`wikitrace_otel.store` for the manual.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.trace import SpanKind, StatusCode

_logger = logging.getLogger(__name__)

# What decoding a damaged or hand-written line may raise; such a line is skipped whole. OverflowError:
# int() of an Infinity; RecursionError: a structure nested too deep.
_BAD_LINE = (KeyError, TypeError, ValueError, AttributeError, OverflowError, RecursionError)

# OTLP numbers kinds from 1 (0 is "unspecified"); the API from 0.
_KINDS = {
    0: SpanKind.INTERNAL,
    1: SpanKind.INTERNAL,
    2: SpanKind.SERVER,
    3: SpanKind.CLIENT,
    4: SpanKind.PRODUCER,
    5: SpanKind.CONSUMER,
}


@dataclass(frozen=True)
class StoredEvent:
    """A span event as stored."""

    name: str
    time_unix_nano: int
    attributes: dict[str, Any]


@dataclass(frozen=True)
class StoredLink:
    """A link to another span, as stored."""

    trace_id: str
    span_id: str
    trace_state: str
    attributes: dict[str, Any]


@dataclass(frozen=True)
class StoredSpan:
    """One span read back from the store.

    Ids are lowercase hex strings; ``parent_span_id`` is None for a root span. Attribute values
    are plain Python values: arrays are lists, maps are dicts, bytes are bytes, an empty value
    is None. ``kind`` is the API's ``SpanKind`` (an unspecified kind reads as INTERNAL, the
    SDK's default).
    """

    trace_id: str
    span_id: str
    parent_span_id: str | None
    name: str
    kind: SpanKind
    start_time_unix_nano: int
    end_time_unix_nano: int
    attributes: dict[str, Any]
    status_code: StatusCode
    status_message: str
    events: tuple[StoredEvent, ...] = ()
    links: tuple[StoredLink, ...] = ()
    resource: dict[str, Any] = field(default_factory=dict)
    scope_name: str = ""
    scope_version: str = ""
    trace_state: str = ""
    flags: int = 0

    @property
    def duration_ns(self) -> int:
        """End minus start, in nanoseconds."""
        return self.end_time_unix_nano - self.start_time_unix_nano


@dataclass
class ReadStats:
    """What a read went through; pass one to ``read_spans`` / ``read_traces_data`` to fill it.

    Attributes:
        files: files opened.
        lines: non-blank lines seen.
        malformed_lines: complete lines (ending in a newline) that were not a valid
            ``TracesData`` and were skipped.
        partial_lines: last lines of a file with no newline that did not parse: a write cut short
            (a killed process) or still in progress. Skipped.
    """

    files: int = 0
    lines: int = 0
    malformed_lines: int = 0
    partial_lines: int = 0

    @property
    def skipped_lines(self) -> int:
        """Malformed and partial lines together."""
        return self.malformed_lines + self.partial_lines


def store_files(path: str | os.PathLike[str]) -> list[Path]:
    """The store's ``*.jsonl`` files sorted by name (creation order), or ``[path]`` for one file.

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    target = Path(path)
    if target.is_dir():
        return sorted(p for p in target.glob("*.jsonl") if p.is_file())
    if not target.exists():
        raise FileNotFoundError(f"no span store at {target}")
    return [target]


def read_traces_data(path: str | os.PathLike[str], *, stats: ReadStats | None = None) -> Iterator[dict[str, Any]]:
    """Yield each line of the store (a directory or one file) as the raw ``TracesData`` dict.

    Lines that are not a JSON object are skipped, counted in ``stats`` and logged at debug.

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    stats = stats if stats is not None else ReadStats()
    for file in store_files(path):
        for data, _where in _file_lines(file, stats):
            yield data


def read_spans(path: str | os.PathLike[str], *, stats: ReadStats | None = None) -> Iterator[StoredSpan]:
    """Yield every span of the store (a directory or one file), in file order.

    A line that is not a valid ``TracesData`` is skipped whole, so only whole spans come out;
    skips are counted in ``stats`` and logged at debug.

    Raises:
        FileNotFoundError: ``path`` does not exist.
    """
    stats = stats if stats is not None else ReadStats()
    for file in store_files(path):
        for data, where in _file_lines(file, stats):
            try:
                spans = list(_spans_of(data))
            except _BAD_LINE as error:
                stats.malformed_lines += 1
                _logger.debug("span store: skipped malformed line %s: %r", where, error)
                continue
            yield from spans


def _file_lines(file: Path, stats: ReadStats) -> Iterator[tuple[dict[str, Any], str]]:
    stats.files += 1
    with file.open("rb") as stream:
        for number, raw in enumerate(stream, 1):
            if not raw.strip():
                continue
            stats.lines += 1
            try:
                data = json.loads(raw)
                if not isinstance(data, dict):
                    raise ValueError(f"a JSON {type(data).__name__}, not an object")
            # JSONDecodeError and UnicodeDecodeError are ValueErrors; RecursionError: nested too deep.
            except (ValueError, RecursionError) as error:
                partial = not raw.endswith(b"\n")
                if partial:
                    stats.partial_lines += 1
                else:
                    stats.malformed_lines += 1
                kind = "partial" if partial else "malformed"
                _logger.debug("span store: skipped %s line %s:%d: %s", kind, file, number, error)
                continue
            yield data, f"{file}:{number}"


def _spans_of(data: dict[str, Any]) -> Iterator[StoredSpan]:
    for resource_spans in data.get("resourceSpans") or ():
        resource = _attributes((resource_spans.get("resource") or {}).get("attributes"))
        for scope_spans in resource_spans.get("scopeSpans") or ():
            scope = scope_spans.get("scope") or {}
            for span in scope_spans.get("spans") or ():
                yield _span(span, resource, scope)


def _span(span: dict[str, Any], resource: dict[str, Any], scope: dict[str, Any]) -> StoredSpan:
    status = span.get("status") or {}
    return StoredSpan(
        trace_id=hex_id(span["traceId"], 32),
        span_id=hex_id(span["spanId"], 16),
        parent_span_id=hex_id(span.get("parentSpanId"), 16, optional=True) or None,
        name=span.get("name", ""),
        kind=_KINDS.get(int(span.get("kind", 0)), SpanKind.INTERNAL),
        start_time_unix_nano=int(span.get("startTimeUnixNano", 0)),
        end_time_unix_nano=int(span.get("endTimeUnixNano", 0)),
        attributes=_attributes(span.get("attributes")),
        status_code=StatusCode(int(status.get("code", 0))),
        status_message=status.get("message", ""),
        events=tuple(_event(event) for event in span.get("events") or ()),
        links=tuple(_link(link) for link in span.get("links") or ()),
        resource=resource,
        scope_name=scope.get("name", ""),
        scope_version=scope.get("version", ""),
        trace_state=span.get("traceState", ""),
        flags=int(span.get("flags", 0)),
    )


def _event(event: dict[str, Any]) -> StoredEvent:
    return StoredEvent(
        name=event.get("name", ""),
        time_unix_nano=int(event.get("timeUnixNano", 0)),
        attributes=_attributes(event.get("attributes")),
    )


def _link(link: dict[str, Any]) -> StoredLink:
    return StoredLink(
        trace_id=hex_id(link["traceId"], 32),
        span_id=hex_id(link["spanId"], 16),
        trace_state=link.get("traceState", ""),
        attributes=_attributes(link.get("attributes")),
    )


def hex_id(text: str | None, digits: int, optional: bool = False) -> str:
    """An OTLP/JSON id (case-insensitive hex of ``digits`` digits) in lower case; "" for an absent optional one.

    Raises:
        ValueError: not exactly ``digits`` hex digits (the line is then skipped as malformed).
    """
    if not text and optional:
        return ""
    if not isinstance(text, str) or len(text) != digits or len(bytes.fromhex(text)) * 2 != digits:
        raise ValueError(f"not an id of {digits} hex digits: {text!r}")
    return text.lower()


def _attributes(key_values: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {kv["key"]: any_value(kv.get("value")) for kv in key_values or ()}


def any_value(value: dict[str, Any] | None) -> Any:
    """A JSON ``AnyValue`` as a plain Python value (None for an empty or unknown one)."""
    for kind, content in (value or {}).items():
        decode = _DECODERS.get(kind)
        if decode is not None:
            return decode(content)
    return None


def _array(content: dict[str, Any]) -> list[Any]:
    return [any_value(item) for item in content.get("values") or ()]


_DECODERS: dict[str, Any] = {
    "stringValue": str,
    "boolValue": lambda content: content is True or content == "true",
    "intValue": int,
    "doubleValue": float,  # float() reads "NaN", "Infinity" and "-Infinity" too
    "bytesValue": base64.b64decode,
    "arrayValue": _array,
    "kvlistValue": lambda content: _attributes(content.get("values")),
}
