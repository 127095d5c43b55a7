"""Small readers over in-memory telemetry, so tests compare plain dicts."""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


def only_span(exporter: InMemorySpanExporter) -> ReadableSpan:
    """The single finished span; fails when there are none or several."""
    spans = exporter.get_finished_spans()
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


def attributes(span: ReadableSpan) -> dict[str, Any]:
    """A span's attributes as a dict with tuples turned into lists."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in (span.attributes or {}).items()}


def json_attribute(span: ReadableSpan, key: str) -> Any:
    """A JSON-valued attribute, parsed."""
    value = (span.attributes or {})[key]
    assert isinstance(value, str)
    return json.loads(value)


def metric_points(reader: InMemoryMetricReader) -> dict[str, list[Any]]:
    """Metric name -> its data points, over every scope."""
    found: dict[str, list[Any]] = {}
    data = reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                found.setdefault(metric.name, []).extend(metric.data.data_points)
    return found


def point_attributes(point: Any) -> dict[str, Any]:
    return dict(point.attributes or {})
