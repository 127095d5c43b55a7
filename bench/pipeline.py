"""Pipeline throughput and how it scales: the local store, collector ingest and queries, at 1x/4x/16x.

    python bench/pipeline.py --json bench/results/pipeline.json      # about 10 minutes
    python bench/pipeline.py --quick                                 # a 1-2 minute smoke run
    python bench/pipeline.py --only query --max-spans 10000000 --store-cache /tmp/wikitrace-stores

1. **Local store.** Spans/s through ``wikitrace_otel.install()`` into the store (the default file
   exporter) at 1, 4 and 16 producing threads, from the instrumented openai SDK over
   ``httpx2.MockTransport`` and from hand-made spans of the instrumentor's shape. The store is
   read back: spans that did not reach it are reported as dropped (see ``bench/pipeline/store.py``).
2. **Collector ingest** over OTLP/HTTP and OTLP/gRPC at 1, 4 and 16 clients: a raw load generator
   (prebuilt serialized requests) and the official exporters behind ``BatchSpanProcessor``.
   Acknowledged spans/s, retryable refusals, the collector's peak RSS (``bench/pipeline/ingest.py``).
3. **Queries** at 10^5 and 10^6 stored spans, and 10^7 with ``--max-spans 10000000``: index build
   rate, ``stats`` / ``show`` / ``traces`` latency and peak RSS (``bench/pipeline/querying.py``).
4. **Scaling.** For each, the ratio from one load level to the next and whether that is linear,
   sublinear, flat or degrading (throughput), or flat, sublinear, linear or superlinear (costs).

Every measured step runs in a fresh process; peak RSS is that process's own (``ru_maxrss`` or
``VmHWM``). Goals (collector ingest >= 100,000 spans/s; the query targets at 10^6 spans) are
printed as met / NOT MET and written to the JSON with the machine, versions and date.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from pipeline import ingest, querying, report, store

LEVELS = (1, 4, 16)
SPAN_COUNTS = (100_000, 1_000_000, 10_000_000)
# Spans per local store run, the same at every thread count: (default, --quick).
STORE_SPANS = {"handmade": (16_000, 2_400), "plain": (16_000, 2_400), "sdk": (1_200, 160)}
QUICK_SPANS = 20_000  # the one query store of --quick


def measure_store(quick: bool) -> list[dict[str, Any]]:
    rows = []
    for source, sizes in STORE_SPANS.items():
        for threads in LEVELS:
            row = store.run(source, threads, sizes[quick])
            rows.append(row)
            _progress("store", row, "spans_per_s", "dropped", "peak_rss_mb")
    return rows


def measure_ingest(seconds: float, quick: bool) -> list[dict[str, Any]]:
    # A collector stopping waits up to 10 s for its indexing child: --quick runs it without one.
    extra = ["--no-index"] if quick else []
    rows = []
    for kind in ("raw", "bsp"):
        for protocol in ("http", "grpc"):
            for clients in LEVELS:
                row = ingest.run(kind, protocol, clients, seconds, extra)
                rows.append(row)
                _progress("ingest", row, "spans_per_s", "refused_by_collector", "peak_rss_mib")
    return rows


def measure_query(max_spans: int, cache: Path | None) -> list[dict[str, Any]]:
    cases = []
    for spans in sorted({count for count in SPAN_COUNTS if count <= max_spans} | {max_spans}):
        case = querying.run(spans, cache)
        cases.append(case)
        print(f"[query] {spans:,} spans: {json.dumps(case)}", file=sys.stderr, flush=True)
    return cases


def _progress(part: str, row: dict[str, Any], *keys: str) -> None:
    shown = {key: row.get(key) for key in ("source", "kind", "protocol", "threads", "clients", *keys, "error")}
    print(f"[{part}] {json.dumps({k: v for k, v in shown.items() if v is not None})}", file=sys.stderr, flush=True)


def scaling(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Ratios and verdicts, from 1 to 4 to 16 threads or clients, and from 10^5 to 10^7 spans."""
    rows: list[dict[str, Any]] = []
    for source in STORE_SPANS:
        series = {r["threads"]: r for r in results.get("store", []) if r.get("source") == source and "error" not in r}
        for metric, kind in (("spans_per_s", "throughput"), ("peak_rss_mb", "cost")):
            rows += [{"part": f"store {source}", **row} for row in report.scaling_rows(series, metric, kind)]
    for kind in ("raw", "bsp"):
        for protocol in ("http", "grpc"):
            series = {r["clients"]: r for r in results.get("ingest", [])
                      if (r["kind"], r["protocol"]) == (kind, protocol) and "error" not in r}  # fmt: skip
            for metric, judged in (("spans_per_s", "throughput"), ("peak_rss_mib", "cost")):
                part = f"ingest {kind} {protocol}"
                rows += [{"part": part, **row} for row in report.scaling_rows(series, metric, judged)]
    series = {c["spans"]: {**c.get("query", {}), **_index_figures(c)} for c in results.get("query", [])}
    for metric in (*report.QUERY_COLUMNS, "peak_rss_mb", "index_seconds", "index_peak_rss_mb"):
        rows += [{"part": "query", **row} for row in report.scaling_rows(series, metric, "cost")]
    return rows


def _index_figures(case: dict[str, Any]) -> dict[str, Any]:
    index = case.get("index", {})
    return {"index_seconds": index.get("seconds"), "index_peak_rss_mb": index.get("peak_rss_mb")}


def print_tables(results: dict[str, Any]) -> None:
    store_rows = [[r["source"], r["threads"], r.get("spans_per_s"), r.get("produced"), r.get("stored"),
                   r.get("dropped"), r.get("cpu_us_per_span"), r.get("peak_rss_mb"), r.get("error", "")[:60]]
                  for r in results.get("store", [])]  # fmt: skip
    header = ["source", "threads", "spans/s stored", "produced", "stored", "dropped", "CPU µs/span", "RSS MB", "error"]
    print(report.table("Local store through install()", header, store_rows))
    ingest_rows = [[f"{r['kind']} {r['protocol']}", r["clients"], r.get("spans_per_s"), r.get("refused_by_clients"),
                    r.get("refused_by_collector"), r.get("dropped"), r.get("peak_rss_mib"), r.get("cpu_us_per_span"),
                    r.get("error", "")[:60]] for r in results.get("ingest", [])]  # fmt: skip
    header = ["mode", "clients", "spans/s acked", "refused (clients)", "refused (collector)", "dropped (BSP)",
              "collector RSS MiB", "collector µs/span", "error"]  # fmt: skip
    print(report.table("Collector ingest", header, ingest_rows))
    query_rows = []
    for case in results.get("query", []):
        figures, index = case.get("query", {}), case.get("index", {})
        query_rows.append([case["spans"], index.get("spans_per_s"), index.get("peak_rss_mb"),
                           *(figures.get(c) for c in report.QUERY_COLUMNS), figures.get("peak_rss_mb")])  # fmt: skip
    header = ["spans", "index spans/s", "index RSS MB", *(c[:-3] + " ms" for c in report.QUERY_COLUMNS), "RSS MB"]
    print(report.table("Queries", header, query_rows))
    print(report.table("Scaling", ["part", "metric", "from", "to", "ratio", "verdict"],
                       [[r["part"], r["metric"], r["from"], r["to"], r["ratio"], r["verdict"]]
                        for r in results["scaling"]]))  # fmt: skip
    print(report.table("Goals", ["goal", "measured", "verdict"],
                       [[g["goal"], g["measured"], g["met"]] for g in results["goals"]]))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a 1-2 minute smoke run")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--only", action="append", choices=["store", "ingest", "query"], help="repeatable")
    parser.add_argument("--seconds", type=float, help="per collector run (default 6, --quick 1.5)")
    parser.add_argument("--max-spans", type=int, help="largest query store: 10000000 adds 10^7 (default 10^6)")
    parser.add_argument("--store-cache", type=Path, help="keep generated query stores here and reuse them")
    parser.add_argument("--step", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        _, source, threads, spans, directory = args.step
        print(json.dumps(store.child(source, int(threads), int(spans), directory)))
        return
    parts = args.only or ["store", "ingest", "query"]
    max_spans = args.max_spans or (QUICK_SPANS if args.quick else 1_000_000)
    results: dict[str, Any] = {"machine": report.machine(), "quick": args.quick}
    started = time.monotonic()
    if "store" in parts:
        results["store"] = measure_store(args.quick)
    if "ingest" in parts:
        results["ingest"] = measure_ingest(args.seconds or (1.5 if args.quick else 6.0), args.quick)
    if "query" in parts:
        results["query"] = measure_query(max_spans, args.store_cache)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["seconds"] = time.monotonic() - started
    results["scaling"] = scaling(results)
    results["goals"] = report.ingest_goals(results.get("ingest", [])) + report.query_goals(results.get("query", []))
    print_tables(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    # A goal not met is a figure; a step that could not run is a failure of the benchmark.
    failed = [row for part in ("store", "ingest") for row in results.get(part, []) if "error" in row]
    failed += [case for case in results.get("query", []) if "error" in case.get("index", {}) or
               "error" in case.get("query", {})]  # fmt: skip
    if failed:
        sys.exit(f"pipeline: {len(failed)} step(s) failed; see 'error' in the results")


if __name__ == "__main__":
    main()
