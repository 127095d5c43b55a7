"""Query engine benchmark: index a store of realistic GenAI traces, then time the queries.

    python bench/query.py                       # 10^5 and 10^6 spans (JSONL), 10^5 spans (WAL)
    python bench/query.py --spans 100000 --json bench/results/query.json

Each trace is an agent run of 5 to 10 spans (agent, retrieval, embeddings, 2 to 5 chat calls, tool
calls), about 7 on average, across 4 services, 6 models of 2 providers, 300 users and 5,000
sessions; one chat call in five carries ~600 bytes of captured content and one in fifty fails.
Traces start one after another over the past week, as a store fills. Generation writes OTLP JSON
Lines (what the file exporter writes) or WAL records (serialized ``ExportTraceServiceRequest``,
what the collector writes). Indexing and queries each run in a fresh process, so "peak RSS" is
that step's own. Query figures are medians of repeated runs over one open ``QueryStore``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

SERVICES = ("support-bot", "search-api", "billing-agent", "docs-rag")
MODELS = (
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o"),
    ("openai", "o3-mini"),
    ("anthropic", "claude-3-5-haiku-latest"),
    ("anthropic", "claude-sonnet-4-0"),
    ("openai", "gpt-4.1-nano"),
)
NOW_NS = time.time_ns()
WEEK_NS = 7 * 86400 * 10**9
SPAN_LINE = 512


def _kv(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"key": key, "value": {"stringValue": value}}
    return {"key": key, "value": {"intValue": str(value)}}


def _trace(rng: random.Random, number: int, spacing_ns: int) -> tuple[str, list[dict[str, Any]]]:
    """One agent run as OTLP JSON spans, the ``number``-th of a week; returns (service, spans)."""
    trace_id = rng.getrandbits(128).to_bytes(16, "big").hex()
    # Stores fill in time order (give or take a batch): traces start one after another over 7 days.
    start = NOW_NS - WEEK_NS + number * spacing_ns + rng.randrange(spacing_ns)
    user, session = f"user-{rng.randrange(300)}", f"session-{rng.randrange(5000)}"
    provider, model = MODELS[rng.randrange(len(MODELS))]
    common = [_kv("user.id", user), _kv("session.id", session)]
    root_id = rng.getrandbits(64).to_bytes(8, "big").hex()
    spans: list[dict[str, Any]] = []
    clock = start + 1_000_000

    def child(name: str, attributes: list[dict[str, Any]], duration: int, error: bool = False) -> None:
        nonlocal clock
        span: dict[str, Any] = {
            "traceId": trace_id,
            "spanId": rng.getrandbits(64).to_bytes(8, "big").hex(),
            "parentSpanId": root_id,
            "name": name,
            "kind": 3,
            "startTimeUnixNano": str(clock),
            "endTimeUnixNano": str(clock + duration),
            "attributes": attributes + common,
            "status": {"code": 2, "message": "rate limited"} if error else {},
        }
        spans.append(span)
        clock += duration + 200_000

    embed = [_kv("gen_ai.operation.name", "embeddings"), _kv("gen_ai.provider.name", "openai")]
    embed += [_kv("gen_ai.request.model", "text-embedding-3-small"), _kv("gen_ai.usage.input_tokens", 12)]
    child("embeddings text-embedding-3-small", embed, int(rng.lognormvariate(17, 0.4)))
    child("retrieval handbook", [_kv("gen_ai.operation.name", "retrieval")], int(rng.lognormvariate(16, 0.5)))
    for call in range(rng.randint(2, 5)):
        attributes = [_kv("gen_ai.operation.name", "chat"), _kv("gen_ai.provider.name", provider)]
        attributes += [_kv("gen_ai.request.model", model), _kv("gen_ai.response.model", model)]
        failed = rng.random() < 0.02
        if not failed:
            attributes += [_kv("gen_ai.usage.input_tokens", rng.randint(200, 4000))]
            attributes += [_kv("gen_ai.usage.output_tokens", rng.randint(10, 800))]
        else:
            attributes += [_kv("error.type", "429")]
        if rng.random() < 0.2:
            text = f"question {number} about order {rng.randrange(10**6)} " + "lorem ipsum dolor sit amet " * 20
            attributes += [_kv("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [{"content": text}]}]))]
        child(f"chat {model}", attributes, int(rng.lognormvariate(20, 0.6)), failed)
        if call < 2 and rng.random() < 0.5:
            child("execute_tool lookup", [_kv("gen_ai.operation.name", "execute_tool")], int(rng.lognormvariate(14, 1)))
    root = {
        "traceId": trace_id,
        "spanId": root_id,
        "name": "invoke_agent support",
        "kind": 1,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(clock),
        "attributes": [_kv("gen_ai.operation.name", "invoke_agent"), *common],
        "status": {},
    }
    return SERVICES[number % len(SERVICES)], [root, *spans]


def _lines(target: int, seed: int = 7) -> Any:
    """(service, spans) groups of about SPAN_LINE spans, until ``target`` spans."""
    rng = random.Random(seed)
    spacing_ns = WEEK_NS // max(1, target // 7)  # about 7 spans per trace
    made = number = 0
    pending: dict[str, list[dict[str, Any]]] = {}
    while made < target:
        service, spans = _trace(rng, number, spacing_ns)
        number += 1
        made += len(spans)
        pending.setdefault(service, []).extend(spans)
        if len(pending[service]) >= SPAN_LINE:
            yield service, pending.pop(service)
    yield from pending.items()


def _traces_data(service: str, spans: list[dict[str, Any]]) -> dict[str, Any]:
    resource_attributes = [_kv("service.name", service), _kv("telemetry.sdk.language", "python")]
    scope = {"scope": {"name": "wikitrace_otel.instrumentors.openai", "version": "0.1.0"}, "spans": spans}
    return {"resourceSpans": [{"resource": {"attributes": resource_attributes}, "scopeSpans": [scope]}]}


def generate(root: Path, spans: int, form: str) -> int:
    """Write about ``spans`` spans as JSONL or WAL; returns the count written."""
    written = 0
    if form == "jsonl":
        with open(root / "spans-bench.jsonl", "w", encoding="utf-8") as out:
            for service, group in _lines(spans):
                out.write(json.dumps(_traces_data(service, group), separators=(",", ":")) + "\n")
                written += len(group)
        return written
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    (root / "wal" / "traces").mkdir(parents=True)
    with open(root / "wal" / "traces" / f"{1:020d}.wal", "wb") as out:
        for service, group in _lines(spans):
            data = _traces_data(service, group)
            for span in group:  # the protobuf JSON mapping wants base64 ids, OTLP/JSON hex
                for key in ("traceId", "spanId", "parentSpanId"):
                    if key in span:
                        span[key] = _b64(span[key])
            payload = json_format.ParseDict(data, ExportTraceServiceRequest()).SerializeToString()
            out.write(struct.pack("<II", len(payload), zlib.crc32(payload)) + payload)
            written += len(group)
    return written


def _b64(hex_text: str) -> str:
    import base64

    return base64.b64encode(bytes.fromhex(hex_text)).decode()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_index(root: str) -> dict[str, Any]:
    from wikitrace_otel.query import QueryStore

    started = time.perf_counter()
    with QueryStore(root) as store:
        added = store.refresh()
    seconds = time.perf_counter() - started
    size = sum(path.stat().st_size for path in Path(root, "index", "parts").glob("*.parquet"))
    return {"spans": added, "seconds": seconds, "spans_per_s": added / seconds, "peak_rss_mb": _peak_rss_mb(),
            "index_mb": size / 2**20}  # fmt: skip


def _median_ms(run: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def step_query(root: str) -> dict[str, Any]:
    from wikitrace_otel.query import QueryStore, TraceFilter, parse_time

    with QueryStore(root) as store:
        ids = [trace["trace_id"] for trace in store.list_traces(TraceFilter(limit=2000))]
        rng = random.Random(3)
        result = {
            "stats_by_model_ms": _median_ms(lambda: store.stats("model"), 5),
            "stats_by_user_ms": _median_ms(lambda: store.stats("user"), 5),
            "stats_by_day_last_24h_ms": _median_ms(lambda: store.stats("day", TraceFilter(since=parse_time("24h"))), 5),
            "show_ms": _median_ms(lambda: store.get_trace(rng.choice(ids)), 21),
            "traces_first_page_ms": _median_ms(lambda: store.list_traces(TraceFilter()), 5),
            "traces_by_model_ms": _median_ms(lambda: store.list_traces(TraceFilter(model="o3-mini")), 5),
            "traces_by_user_errors_ms": _median_ms(
                lambda: store.list_traces(TraceFilter(user="user-7", status="error")), 5
            ),
            "traces_since_1h_ms": _median_ms(lambda: store.list_traces(TraceFilter(since=parse_time("1h"))), 5),
            "traces_search_ms": _median_ms(lambda: store.list_traces(TraceFilter(search="order 4242")), 5),
        }
    result["peak_rss_mb"] = _peak_rss_mb()
    return result


def _child(step: str, root: Path) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--step", step, str(root)], capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(done.stderr)
    return json.loads(done.stdout)


def run_case(spans: int, form: str, queries: bool) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="wikitrace-bench-"))
    try:
        started = time.perf_counter()
        written = generate(root, spans, form)
        case: dict[str, Any] = {"form": form, "spans": written, "generate_s": time.perf_counter() - started}
        case["index"] = _child("index", root)
        if queries:
            case["query"] = _child("query", root)
        return case
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spans", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--wal-spans", type=int, default=100_000, help="0 skips the WAL case")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--step", nargs=2, metavar=("STEP", "ROOT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.step:
        step, root = args.step
        print(json.dumps(step_index(root) if step == "index" else step_query(root)))
        return
    cases = [run_case(count, "jsonl", True) for count in args.spans]
    if args.wal_spans:
        cases.append(run_case(args.wal_spans, "wal", False))
    for case in cases:
        print(json.dumps(case, indent=1))
    if args.json:
        args.json.write_text(
            json.dumps({"python": sys.version.split()[0], "cpus": os.cpu_count(), "cases": cases}, indent=1)
        )


if __name__ == "__main__":
    main()
