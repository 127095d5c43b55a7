"""Collector ingest at 1, 4 and 16 concurrent clients, over OTLP/HTTP protobuf and OTLP/gRPC.

Two kinds of client, each its own process, against ``python -m wikitrace_otel.collector`` with its
default settings (indexing child included) on a fresh store:

- ``raw``: the load generator of ``bench/collector_ingest.py``. Prebuilt serialized
  ``ExportTraceServiceRequest`` bodies of 512 spans each, sent as fast as the collector answers
  (``http.client`` keep-alive, or a raw gRPC unary call). Only acknowledged requests count, and
  an acknowledgement means the WAL was fsync'ed.
- ``bsp``: the official exporters (``opentelemetry-exporter-otlp-proto-http`` / ``-grpc``) behind
  the SDK's ``BatchSpanProcessor`` with its defaults, fed by a loop that makes GenAI-shaped SDK
  spans as fast as it can. Spans the exporter got acknowledged count; spans the processor's queue
  dropped and batches that failed after the exporter's own retries are counted apart.

Client processes are forked once their imports and request bodies are ready (see ``_preload``),
and the official-exporter clients start their clock together, so start-up stays out of the rate.

Retryable refusals (HTTP 503, gRPC ``RESOURCE_EXHAUSTED``) are counted by the raw clients and by the
collector itself (``refused.*`` in ``/api/health``); the official exporters retry them unseen.
"""

from __future__ import annotations

import functools
import importlib
import multiprocessing
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from typing import Any

import collector_ingest as raw

ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.input_tokens": 120,
    "gen_ai.usage.output_tokens": 40,
    "gen_ai.usage.cost.amount": 0.0000432,
    "server.address": "api.openai.com",
    "session.id": "session-7",
    "user.id": "user-3@example.com",
}


def _counting(inner: Any, totals: Any) -> Any:
    """``inner`` wrapped so acknowledged and failed spans land in ``totals`` [1] and [2]."""
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

    class Counting(SpanExporter):
        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            result = inner.export(spans)
            with totals.get_lock():
                totals[1 if result is SpanExportResult.SUCCESS else 2] += len(spans)
            return result

        def shutdown(self) -> None:
            inner.shutdown()

        def force_flush(self, timeout_millis: int = 30_000) -> bool:
            return inner.force_flush(timeout_millis)

    return Counting()


def _preload(kind: str, protocol: str) -> None:
    """Do here, once, what every client process would otherwise do inside the measured window.

    Clients are forked, so they inherit imported modules and the raw load generator's request
    bodies (``make_request`` is memoized here and primed with the 4 bodies each sender uses).
    """
    if kind == "raw":
        if not hasattr(raw.make_request, "cache_info"):
            raw.make_request = functools.lru_cache(maxsize=None)(raw.make_request)  # type: ignore[assignment]
        for seed in range(4):
            raw.make_request(seed=seed)
    modules = ["opentelemetry.sdk.trace.export"] + (["grpc"] if protocol == "grpc" else [])
    if kind == "bsp":
        modules.append(f"opentelemetry.exporter.otlp.proto.{protocol}.trace_exporter")
    for module in modules:  # imported here, inherited by the forked clients
        importlib.import_module(module)


def _bsp_sender(protocol: str, port: int, seconds: float, totals: Any, start: Any) -> None:
    """Make spans for ``seconds``, exported by ``BatchSpanProcessor``; totals: produced, acked, failed.

    Waits on ``start`` once set up, so the clock starts when every client is ready.
    """
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.trace import SpanKind

    if protocol == "http":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter: Any = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces")
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        exporter = GrpcExporter(endpoint=f"127.0.0.1:{port}", insecure=True)
    provider = TracerProvider(resource=Resource.create({"service.name": "pipeline-bench"}))
    provider.add_span_processor(BatchSpanProcessor(_counting(exporter, totals)))
    tracer = provider.get_tracer("wikitrace_otel.instrumentors.openai", "0.1.0")
    produced = 0
    start.wait()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for _ in range(64):
            with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=ATTRIBUTES):
                pass
        produced += 64
    provider.shutdown()  # exports what the queue still holds
    with totals.get_lock():
        totals[0] += produced


def _health(port: int) -> dict[str, Any]:
    import json

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=30) as answer:
        return json.loads(answer.read()).get("counters", {})


def run_bsp(protocol: str, clients: int, seconds: float, extra: list[str]) -> dict[str, Any]:
    """``clients`` processes with the official exporter behind ``BatchSpanProcessor``."""
    with tempfile.TemporaryDirectory(prefix="wikitrace-pipeline-") as store:
        process, grpc_port, http_port = raw._start_collector(store, extra)
        try:
            totals, start = multiprocessing.Array("q", 3), multiprocessing.Barrier(clients + 1)
            port = http_port if protocol == "http" else grpc_port
            workers = [
                multiprocessing.Process(target=_bsp_sender, args=(protocol, port, seconds, totals, start))
                for _ in range(clients)
            ]
            for worker in workers:
                worker.start()
            start.wait(300)
            started = time.monotonic()
            for worker in workers:
                worker.join()
            elapsed = time.monotonic() - started
            counters = _health(http_port)
            rss, cpu = raw._peak_rss_mib(process.pid), raw._cpu_seconds(process.pid)
        finally:
            process.terminate()
            process.wait(30)
            if process.stdout is not None:
                process.stdout.close()
    produced, acked, failed = totals[:]
    return {
        "spans_per_s": acked / elapsed,
        "produced": produced,
        "acknowledged": acked,
        "failed": failed,
        "dropped": produced - acked - failed,
        "peak_rss_mib": rss,
        "cpu_us_per_span": cpu / acked * 1e6 if acked else float("nan"),
        "collector_counters": counters,
    }


def _refusals(counters: dict[str, Any]) -> int:
    """Retryable refusals the collector counted: back-pressure and the connection cap."""
    return sum(int(v) for k, v in counters.items() if k in ("refused.overloaded", "refused.connections"))


def run(kind: str, protocol: str, clients: int, seconds: float, extra: list[str] | None = None) -> dict[str, Any]:
    """One measured configuration; ``kind`` is ``raw`` or ``bsp``, ``protocol`` ``http`` or ``grpc``.

    ``extra`` are more collector flags (``--no-index``, for instance).
    """
    try:
        _preload(kind, protocol)
        if kind == "raw":
            result = raw.run(protocol, seconds, clients, extra or [])
            result["refused_by_clients"] = result.pop("refused")
        else:
            result = run_bsp(protocol, clients, seconds, extra or [])
    except Exception as exc:  # noqa: BLE001 - one failed configuration must not cost the others
        return {"kind": kind, "protocol": protocol, "clients": clients, "error": repr(exc)}
    counters = result.get("collector_counters", {})
    result.update(kind=kind, protocol=protocol, clients=clients, refused_by_collector=_refusals(counters))
    result["spans_stored"] = int(counters.get("traces.accepted", 0))
    return result
