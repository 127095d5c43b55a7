"""Counts of the pipeline benchmark at tiny sizes: every span produced is stored or acknowledged."""

from __future__ import annotations

import pytest
from pipeline import ingest, report, store

# A queue of 8 spans that four producing threads overflow at once.
TINY_QUEUE = {"OTEL_BSP_MAX_QUEUE_SIZE": "8", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "8"}


@pytest.mark.parametrize(("source", "threads", "spans"), [("handmade", 4, 800), ("plain", 4, 800), ("sdk", 2, 20)])
def test_every_span_from_several_threads_reaches_the_store(source: str, threads: int, spans: int) -> None:
    result = store.run(source, threads, spans)

    assert "error" not in result, result.get("error")
    assert result["produced"] == spans + result["warmup"]
    assert result["stored"] == result["exported"] == result["produced"]
    assert (result["duplicates"], result["dropped"], result["failed"]) == (0, 0, 0)
    assert result["flushed"] is True


def test_spans_a_full_queue_dropped_are_counted_by_the_handle() -> None:
    result = store.run("handmade", 4, 4000, env=TINY_QUEUE)

    if "error" in result or result["dropped"] == 0:  # not the case under test: fail for real, not as expected
        raise RuntimeError(f"the queue did not overflow: {result}")
    # Each span is exported, failed or counted as dropped by the handle: exactly, never estimated.
    assert result["exported"] + result["failed"] + result["dropped_counted"] == result["produced"]
    assert result["stored"] == result["exported"]


@pytest.mark.parametrize("protocol", ["http", "grpc"])
def test_spans_the_official_exporter_got_acknowledged_are_the_spans_the_collector_stored(protocol: str) -> None:
    result = ingest.run("bsp", protocol, 1, 0.5, ["--no-index"])

    assert "error" not in result, result.get("error")
    assert result["acknowledged"] > 0
    assert result["acknowledged"] == result["spans_stored"]
    assert result["produced"] == result["acknowledged"] + result["dropped"] + result["failed"]


def test_the_raw_load_generator_is_acknowledged_and_counted_by_the_collector() -> None:
    result = ingest.run("raw", "http", 2, 0.5, ["--no-index"])

    assert "error" not in result, result.get("error")
    assert result["spans_stored"] > 0
    assert result["spans_stored"] % 512 == 0  # whole requests of 512 spans
    assert result["refused_by_clients"] == result["refused_by_collector"] == 0


@pytest.mark.parametrize(
    ("ratio", "factor", "verdict"),
    [(3.5, 4, "linear"), (2.0, 4, "sublinear"), (1.0, 4, "flat"), (0.5, 4, "degrading"), (13.0, 16, "linear")],
)
def test_throughput_verdicts(ratio: float, factor: float, verdict: str) -> None:
    assert report.throughput_verdict(ratio, factor) == verdict


@pytest.mark.parametrize(
    ("ratio", "factor", "verdict"),
    [(1.2, 10, "flat"), (3.0, 10, "sublinear"), (9.0, 10, "linear"), (40.0, 10, "superlinear")],
)
def test_cost_verdicts(ratio: float, factor: float, verdict: str) -> None:
    assert report.cost_verdict(ratio, factor) == verdict


def test_scaling_rows_compare_each_level_with_the_next_and_with_the_first() -> None:
    series = {1: {"rate": 100.0}, 4: {"rate": 380.0}, 16: {"rate": 90.0}}

    rows = report.scaling_rows(series, "rate", "throughput")

    assert [(r["from"], r["to"], round(r["ratio"], 2), r["verdict"]) for r in rows] == [
        (1, 4, 3.8, "linear"),
        (4, 16, 0.24, "degrading"),
        (1, 16, 0.9, "flat"),
    ]
