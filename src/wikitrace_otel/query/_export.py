"""Writing selected spans out: OTLP JSON Lines, a JSON array of spans, or CSV of the indexed columns."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from typing import Any, Final, TextIO

from wikitrace_otel.query._fetch import FullSpan, SpanLoader
from wikitrace_otel.query._rows import COLUMN_NAMES, KIND_NAMES, STATUS_NAMES
from wikitrace_otel.query._spans import iso_time, span_dict

FORMATS: Final = ("otlp-json", "json", "csv")
SPANS_PER_LINE: Final = 512
"""Spans per OTLP JSON line (one ``TracesData``), like the file exporter's batches."""
CSV_COLUMNS: Final = tuple(name for name in COLUMN_NAMES if name not in ("Source", "SourceOffset", "Batch"))
_INDEX: Final = {name: position for position, name in enumerate(COLUMN_NAMES)}
_KIND_NUMBER: Final = {name: number for number, name in enumerate(KIND_NAMES)}
_STATUS_NUMBER: Final = {name: number for number, name in enumerate(STATUS_NAMES)}


def write(rows: Iterable[Sequence[Any]], out: TextIO, form: str, loader: SpanLoader) -> int:
    """Write index rows to ``out`` in ``form`` (one of :data:`FORMATS`); returns the spans written.

    ``loader`` reads each span back from its source (``otlp-json`` and ``json`` give every field).
    """
    if form == "csv":
        return _csv(rows, out)
    full = (
        (row, loader.load(row[_INDEX["Source"]], row[_INDEX["SourceOffset"]], row[_INDEX["SpanId"]])) for row in rows
    )
    return _otlp_json(full, out) if form == "otlp-json" else _json(full, out)


def _otlp_json(rows: Iterable[tuple[Sequence[Any], FullSpan | None]], out: TextIO) -> int:
    written = 0
    chunk: list[FullSpan] = []
    for row, full in rows:
        chunk.append(full if full is not None else _rebuilt(row))
        if len(chunk) >= SPANS_PER_LINE:
            written += _line(chunk, out)
    return written + (_line(chunk, out) if chunk else 0)


def _line(chunk: list[FullSpan], out: TextIO) -> int:
    """One ``TracesData`` line; spans grouped by resource, then scope (first-seen order)."""
    groups: dict[str, tuple[list[Any], dict[str, tuple[dict[str, Any], list[dict[str, Any]]]]]] = {}
    for full in chunk:
        resource_key = json.dumps(full.resource, sort_keys=True)
        _resource, scopes = groups.setdefault(resource_key, (full.resource, {}))
        scopes.setdefault(json.dumps(full.scope, sort_keys=True), (full.scope, []))[1].append(full.span)
    data = {
        "resourceSpans": [
            {
                "resource": {"attributes": resource},
                "scopeSpans": [{"scope": scope, "spans": spans} for scope, spans in scopes.values()],
            }
            for resource, scopes in groups.values()
        ]
    }
    out.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
    count = len(chunk)
    chunk.clear()
    return count


def _rebuilt(row: Sequence[Any]) -> FullSpan:
    """What the index alone knows of a span whose source is gone."""
    start = row[_INDEX["Timestamp"]]
    span: dict[str, Any] = {"traceId": row[_INDEX["TraceId"]], "spanId": row[_INDEX["SpanId"]]}
    if row[_INDEX["ParentSpanId"]]:
        span["parentSpanId"] = row[_INDEX["ParentSpanId"]]
    span["name"] = row[_INDEX["SpanName"]] or ""
    span["kind"] = _KIND_NUMBER.get(row[_INDEX["SpanKind"]], 0)
    span["startTimeUnixNano"] = str(start)
    span["endTimeUnixNano"] = str(start + row[_INDEX["Duration"]])
    span["status"] = {"code": _STATUS_NUMBER.get(row[_INDEX["StatusCode"]], 0)}
    resource = [{"key": "service.name", "value": {"stringValue": row[_INDEX["ServiceName"]]}}]
    scope = {"name": row[_INDEX["ScopeName"]] or ""}
    return FullSpan(span, resource if row[_INDEX["ServiceName"]] else [], scope)


def _json(rows: Iterable[tuple[Sequence[Any], FullSpan | None]], out: TextIO) -> int:
    # A streamed array: one span per line, so memory stays bounded however many spans there are.
    written = 0
    out.write("[")
    for row, full in rows:
        out.write(",\n" if written else "\n")
        out.write(json.dumps(span_dict(row, full), ensure_ascii=False, allow_nan=False))
        written += 1
    out.write("\n]\n" if written else "]\n")
    return written


def _csv(rows: Iterable[Sequence[Any]], out: TextIO) -> int:
    positions = [_INDEX[name] for name in CSV_COLUMNS]
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["StartTime", *CSV_COLUMNS])
    written = 0
    for row in rows:
        writer.writerow([iso_time(row[_INDEX["Timestamp"]]), *(row[position] for position in positions)])
        written += 1
    return written
