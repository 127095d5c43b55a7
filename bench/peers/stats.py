"""Statistics over the per-round measurements of ``report.raw_from_runs``."""

from __future__ import annotations

import math
import statistics
from typing import Any

STREAMS = {"stream": ("stream_1", "stream_20"), "messages_stream": ("messages_stream_1", "messages_stream_20")}
STREAM_CHUNKS = 19  # 20 minus 1: the slope's run


def series(variant: dict[str, Any], case: str, key: str = "us") -> list[float | None]:
    return variant["rounds"].get(case, {}).get(key, [])


def median(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def median_ci(values: list[float | None]) -> tuple[float, float] | None:
    """A distribution-free 95% confidence interval of the median (order statistics), or None
    with fewer than 6 values."""
    present = sorted(v for v in values if v is not None)
    n = len(present)
    if n < 6:
        return None
    k = max(0, math.floor((n - 1.96 * math.sqrt(n)) / 2))
    return present[k], present[n - 1 - k]


def paired(variant: dict[str, Any], bare: dict[str, Any] | None, case: str) -> list[float | None]:
    """Per round: this variant's µs per call minus the bare worker's in the same round."""
    if bare is None:
        return []
    pairs = zip(series(variant, case), series(bare, case), strict=False)
    return [None if mine is None or base is None else mine - base for mine, base in pairs]


def chunk_slopes(variant: dict[str, Any], bare: dict[str, Any] | None, short: str, long: str) -> list[float | None]:
    """Per round, µs per stream chunk: the bare SDK's own, or what a variant adds to it."""
    if variant["kind"] == "bare":
        pairs = zip(series(variant, short), series(variant, long), strict=False)
    else:
        pairs = zip(paired(variant, bare, short), paired(variant, bare, long), strict=False)
    return [None if a is None or b is None else (b - a) / STREAM_CHUNKS for a, b in pairs]


def ok_added(figures: dict[str, Any]) -> float | None:
    return figures.get("added_us") if figures.get("status") == "ok" else None


def fastest_peer(variants: dict[str, Any], case: str) -> tuple[str, float] | None:
    """The peer that added the least to ``case`` in this run, among those that instrument it."""
    candidates = [
        (added, name)
        for name, v in variants.items()
        if v["kind"] == "peer" and (added := ok_added(v["cases"][case])) is not None
    ]
    if not candidates:
        return None
    added, name = min(candidates)
    return name, added
