"""Histogram values queued on the call path reach the SDK at collection, bounded under overload."""

from __future__ import annotations

import time

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_helpers import metric_points
from wikitrace_otel._genai.deferred import DeferredRecorder


def make(high_water: int = 10_000, limit: int = 100_000) -> tuple[InMemoryMetricReader, DeferredRecorder, object]:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    histogram = meter.create_histogram("h", unit="s")
    return reader, DeferredRecorder(meter, high_water=high_water, limit=limit), histogram


def test_values_are_recorded_when_metrics_are_collected() -> None:
    reader, recorder, histogram = make()
    recorder.record(histogram, 0.5, {"a": "x"})
    recorder.record(histogram, [0.1, 0.2, 0.3], {"a": "y"})

    points = {dict(p.attributes)["a"]: p for p in metric_points(reader)["h"]}

    assert (points["x"].count, points["x"].sum) == (1, 0.5)
    assert points["y"].count == 3
    assert abs(points["y"].sum - 0.6) < 1e-9
    assert metric_points(reader)["wikitrace.metrics.dropped"][0].value == 0


def test_nothing_is_recorded_twice_across_collections() -> None:
    reader, recorder, histogram = make()
    recorder.record(histogram, 1.0, {})
    metric_points(reader)
    recorder.record(histogram, 2.0, {})

    (point,) = metric_points(reader)["h"]

    assert (point.count, point.sum) == (2, 3.0)


def test_a_full_queue_drops_and_counts() -> None:
    reader, recorder, histogram = make(high_water=10**9, limit=3)
    for value in range(5):
        recorder.record(histogram, float(value), {})
    recorder.record(histogram, [1.0, 2.0], {})

    points = metric_points(reader)

    assert points["h"][0].count == 3
    assert points["wikitrace.metrics.dropped"][0].value == 4


def test_the_drainer_thread_empties_the_queue_past_the_high_water_mark() -> None:
    reader, recorder, histogram = make(high_water=50)
    for _ in range(50):
        recorder.record(histogram, 1.0, {})

    deadline = time.monotonic() + 5
    while recorder._pending and time.monotonic() < deadline:
        time.sleep(0.01)

    assert not recorder._pending
    assert metric_points(reader)["h"][0].count == 50
