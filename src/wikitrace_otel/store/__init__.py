"""The local span store: read back what :class:`wikitrace_otel.exporters.FileSpanExporter` wrote.

A store is a directory of OTLP JSON Lines files (``*.jsonl``), each line one ``TracesData``
object. ``read_spans`` turns it into one :class:`StoredSpan` per span, with plain Python values::

    from wikitrace_otel.store import ReadStats, read_spans

    stats = ReadStats()
    for span in read_spans(".wikitrace", stats=stats):
        if span.attributes.get("gen_ai.operation.name") == "chat":
            print(span.name, span.duration_ns / 1e6, "ms", span.attributes.get("gen_ai.usage.input_tokens"))
    print(stats.skipped_lines, "lines skipped")

Order
    Files sorted by name (the exporter names them by creation time, then pid and sequence),
    then lines in file order, then spans in line order. The path can be a store directory (its
    ``*.jsonl`` files; subdirectories are not searched) or a single file.

Fields
    ``trace_id``, ``span_id`` and ``parent_span_id`` (None for a root span) are lowercase hex;
    ``kind`` is a ``SpanKind``, ``status_code`` a ``StatusCode``; times are nanoseconds since the
    epoch; ``attributes``, ``resource`` and each event's and link's attributes are dicts whose
    arrays are lists, maps dicts, bytes bytes. ``scope_name``/``scope_version`` name the
    instrumentation scope.

Damaged lines
    A process killed mid-write can leave a partial last line; a full disk can leave a broken one.
    Such lines are skipped whole (a line's spans come out all or not at all), counted in the
    optional :class:`ReadStats` (``partial_lines`` for an unterminated last line,
    ``malformed_lines`` for the rest) and logged at debug level. ``read_traces_data`` yields the
    raw dict of each line instead, for anything ``StoredSpan`` leaves out.

Any OTLP/JSON traces file reads the same way, e.g. one written by the Collector's ``file``
exporter (integers given as JSON numbers and uppercase hex ids are accepted too).
"""

from __future__ import annotations

from wikitrace_otel.store.reader import (
    ReadStats,
    StoredEvent,
    StoredLink,
    StoredSpan,
    any_value,
    read_spans,
    read_traces_data,
    store_files,
)

__all__ = [
    "ReadStats",
    "StoredEvent",
    "StoredLink",
    "StoredSpan",
    "any_value",
    "read_spans",
    "read_traces_data",
    "store_files",
]
