"""Machine facts, scaling verdicts, goals and the printed tables of ``bench/pipeline.py``."""

from __future__ import annotations

import itertools
import os
import platform
import sys
from datetime import datetime, timezone
from importlib import metadata
from typing import Any

PACKAGES = (
    "wikitrace-otel",
    "opentelemetry-sdk",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-exporter-otlp-proto-grpc",
    "grpcio",
    "protobuf",
    "openai",
    "httpx2",
    "duckdb",
)
INGEST_GOAL = 100_000  # spans/s, durable, over OTLP/HTTP protobuf and over gRPC
# Query targets at 10^6 spans, in ms (README "Overhead"): stats < 1 s, show < 100 ms, a filtered page < 300 ms.
QUERY_GOALS = {
    "stats_by_model_ms": 1000,
    "stats_by_user_ms": 1000,
    "stats_by_day_last_24h_ms": 1000,
    "show_ms": 100,
    "traces_first_page_ms": 300,
    "traces_by_model_ms": 300,
    "traces_by_user_errors_ms": 300,
    "traces_since_1h_ms": 300,
}
QUERY_COLUMNS = (*QUERY_GOALS, "traces_search_ms")


def machine() -> dict[str, Any]:
    """Where and when the run happened, with the versions that matter."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "")
    except OSError:
        pass
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "load_average_at_start": os.getloadavg(),
        "python": sys.version.split()[0],
        "versions": versions,
    }


def throughput_verdict(ratio: float, factor: float) -> str:
    """How a rate grew when the load grew ``factor`` times."""
    if ratio >= 0.75 * factor:
        return "linear"
    if ratio >= 1.25:
        return "sublinear"
    if ratio >= 0.8:
        return "flat"
    return "degrading"


def cost_verdict(ratio: float, factor: float) -> str:
    """How a cost (latency, memory) grew when the data grew ``factor`` times."""
    if ratio < 2:
        return "flat"
    if ratio < 0.5 * factor:
        return "sublinear"
    if ratio <= 1.5 * factor:
        return "linear"
    return "superlinear"


def _ratio(new: float | None, old: float | None) -> float | None:
    return new / old if new is not None and old else None


def scaling_rows(series: dict[int, dict[str, float]], metric: str, kind: str) -> list[dict[str, Any]]:
    """Ratios of ``metric`` from each load level to the next (and to the first), with a verdict.

    ``series`` maps a load level (threads, clients, spans) to its figures; ``kind`` is
    ``throughput`` (higher is better) or ``cost`` (latency or memory).
    """
    levels = sorted(level for level, figures in series.items() if figures.get(metric) is not None)
    rows = []
    for previous, level in itertools.pairwise(levels):
        for base in dict.fromkeys((previous, levels[0])):
            ratio = _ratio(series[level][metric], series[base][metric])
            if ratio is None:
                continue
            factor = level / base
            judge = throughput_verdict if kind == "throughput" else cost_verdict
            rows.append({"metric": metric, "from": base, "to": level, "factor": factor,
                         "ratio": ratio, "verdict": judge(ratio, factor)})  # fmt: skip
    return rows


def ingest_goals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The ingest goal per protocol, against the best raw figure over client counts."""
    verdicts: list[dict[str, Any]] = []
    if not rows:
        return verdicts
    for protocol in ("http", "grpc"):
        rates = [r["spans_per_s"] for r in rows if r.get("kind") == "raw" and r.get("protocol") == protocol
                 and "spans_per_s" in r]  # fmt: skip
        best = max(rates, default=None)
        verdicts.append({"goal": f"collector ingest over {protocol} >= {INGEST_GOAL:,} spans/s", "measured": best,
                         "met": best is not None and best >= INGEST_GOAL})  # fmt: skip
    return verdicts


def query_goals(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The query targets, checked at 10^6 spans when that size was run."""
    case = next((c for c in cases if 900_000 <= c["spans"] <= 1_100_000 and "query" in c), None)
    if case is None:
        return []
    return [{"goal": f"{name[:-3]} at 10^6 spans < {limit} ms", "measured": case["query"].get(name),
             "met": case["query"].get(name, float("inf")) < limit} for name, limit in QUERY_GOALS.items()]  # fmt: skip


def table(title: str, header: list[str], rows: list[list[Any]]) -> str:
    """A plain text table, numbers right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(header)]
    lines = [title, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    for row in cells:
        padded = (c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        lines.append("  ".join(padded))
    return "\n".join(lines) + "\n"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "met" if value else "NOT MET"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
