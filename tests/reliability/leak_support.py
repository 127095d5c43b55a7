"""The leak test's child interpreter: many instrumented calls, then what was left behind.

``python leak_support.py '<config json>'`` runs :func:`main` and prints one JSON line. The child
instruments the real OpenAI and Anthropic SDKs and makes calls chosen by a seeded random
generator from ``leak_workload.OPERATIONS``: plain calls, streams read to the end, streams
abandoned every way a user can abandon one, async calls, HTTP errors and connections cut
mid-stream. Most go through an in-process transport (the SDK's request building and parsing run,
no sockets); one call in ``http_every`` goes over real HTTP to the fake servers the parent
started (their URLs are in the config), so the socket path is exercised too.

:class:`SpanLedger` is also used on its own, by the stream fault tests.

It measures after a warm-up (``warmup`` calls, then ``gc.collect()``) and again at the end:
resident memory, thread count, and the :class:`SpanLedger` (spans started, ended, ended twice,
still open). The parent asserts on those figures; the child only reports them.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import random
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from leak_workload import HTTP_OPERATIONS, OPERATIONS, Clients, Counts, make_clients
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor


class SpanLedger(SpanProcessor):
    """Counts spans started and ended; a span ended twice or never shows up here.

    The SDK itself refuses a second ``end()`` (it logs a warning and skips ``on_end``), so a
    double end is also looked for in the ``opentelemetry`` log by :class:`WarningCounter`.
    """

    def __init__(self) -> None:
        self.started = 0
        self.ended = 0
        self.ended_unknown = 0
        self.open: set[int] = set()
        self._lock = threading.Lock()

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        with self._lock:
            self.started += 1
            self.open.add(span.context.span_id)

    def on_end(self, span: ReadableSpan) -> None:
        assert span.context is not None
        with self._lock:
            self.ended += 1
            try:
                self.open.remove(span.context.span_id)
            except KeyError:  # ended twice, or never seen starting
                self.ended_unknown += 1


class WarningCounter(logging.Handler):
    """Counts WARNING-and-above records of the logger trees it is added to."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) < 20:  # keep a sample, not an unbounded list
            self.messages.append(f"{record.name}: {record.getMessage()}")
        else:
            self.messages.append("")


def rss_bytes() -> int:
    """Resident set size of this process (Linux ``/proc``; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # not Linux: the peak only grows, so a bound on it is still a bound
        import resource

        scale = 1 if sys.platform == "darwin" else 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


# --- the child's main -----------------------------------------------------------------------


@dataclass
class Telemetry:
    """The providers the child instruments with, and what watches them."""

    ledger: SpanLedger
    reader: Any
    warnings: WarningCounter
    instrumentors: list[Any]


def instrument() -> Telemetry:
    """Instrument both SDKs with a ledger, a dropping exporter and an in-memory metric reader."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

    from wikitrace_otel.instrumentors.anthropic import AnthropicInstrumentor
    from wikitrace_otel.instrumentors.openai import OpenAIInstrumentor

    class DropExporter(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    ledger, reader, warnings = SpanLedger(), InMemoryMetricReader(), WarningCounter()
    # asyncio logs what goes wrong finalizing an abandoned async generator (or a task).
    for name in ("opentelemetry", "wikitrace_otel", "asyncio"):
        logging.getLogger(name).addHandler(warnings)
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(ledger)
    tracer_provider.add_span_processor(SimpleSpanProcessor(DropExporter()))
    providers = {"tracer_provider": tracer_provider, "meter_provider": MeterProvider(metric_readers=[reader])}
    instrumentors = [OpenAIInstrumentor(), AnthropicInstrumentor()]
    for instrumentor in instrumentors:
        instrumentor.instrument(**providers)
    return Telemetry(ledger, reader, warnings, instrumentors)


async def settle(telemetry: Telemetry) -> None:
    """Collect garbage, let the loop run the finalizers of abandoned async generators, and
    collect metrics (so values queued for the next collection are not counted as growth)."""
    telemetry.reader.collect()
    for _ in range(3):
        gc.collect()
        await asyncio.sleep(0)
    gc.collect()


async def run_calls(
    calls: int, clients: Clients, rng: random.Random, counts: Counts, telemetry: Telemetry, http_every: int
) -> None:
    """``calls`` operations; metrics are collected every 500 calls, as a periodic reader would."""
    for _ in range(calls):
        http = counts.calls % http_every == 0
        operation = rng.choice(HTTP_OPERATIONS if http else OPERATIONS)
        pending = operation(clients, rng, counts, http)
        if pending is not None:
            await pending
        counts.calls += 1
        counts.over_http += http
        counts.by_operation[operation.__name__] = counts.by_operation.get(operation.__name__, 0) + 1
        if counts.calls % 500 == 0:
            telemetry.reader.collect()


def _growth_of_ours(before: Any, after: Any) -> list[tuple[str, float]]:
    """Allocation growth (KiB) per source line, for lines in wikitrace_otel, largest first."""
    stats = after.compare_to(before, "lineno")
    ours = [s for s in stats if "wikitrace_otel" in s.traceback[0].filename and s.size_diff > 0]
    return [(f"{s.traceback[0].filename}:{s.traceback[0].lineno}", s.size_diff / 1024) for s in ours[:5]]


async def measure(config: dict[str, Any]) -> dict[str, Any]:
    """Warm up, checkpoint, run the calls, checkpoint again; the figures as a dict."""
    import tracemalloc

    telemetry = instrument()
    clients = make_clients(config)
    rng, counts = random.Random(config["seed"]), Counts()
    await run_calls(config["warmup"], clients, rng, counts, telemetry, config["http_every"])
    await settle(telemetry)
    rss_warm, threads_warm, curve = rss_bytes(), threading.active_count(), []
    step = max(1, config["calls"] // 10)
    for done in range(0, config["calls"], step):
        await run_calls(min(step, config["calls"] - done), clients, rng, counts, telemetry, config["http_every"])
        await settle(telemetry)
        curve.append(round((rss_bytes() - rss_warm) / 2**20, 2))
    figures: dict[str, Any] = {
        "rss_growth_mb": curve[-1],
        "rss_curve_mb": curve,
        "rss_warm_mb": round(rss_warm / 2**20, 1),
        "thread_growth": threading.active_count() - threads_warm,
    }
    if config["tracemalloc_calls"]:
        tracemalloc.start()
        await run_calls(config["tracemalloc_calls"] // 2, clients, rng, counts, telemetry, config["http_every"])
        await settle(telemetry)
        before = tracemalloc.take_snapshot()
        await run_calls(config["tracemalloc_calls"] // 2, clients, rng, counts, telemetry, config["http_every"])
        await settle(telemetry)
        figures["tracemalloc_ours_kib"] = _growth_of_ours(before, tracemalloc.take_snapshot())
        tracemalloc.stop()
    ledger = telemetry.ledger
    figures.update(
        cpu_seconds=round(time.process_time(), 1),
        calls=counts.calls,
        abandoned_streams=counts.abandoned_streams,
        server_errors_seen=counts.server_errors_seen,
        over_http=counts.over_http,
        by_operation=counts.by_operation,
        spans_started=ledger.started,
        spans_ended=ledger.ended,
        open_spans=len(ledger.open),
        ended_unknown=ledger.ended_unknown,
        warnings=[m for m in telemetry.warnings.messages if m][:5],
        warning_count=len(telemetry.warnings.messages),
    )
    return figures


def main() -> None:
    """Run the workload described by the JSON in ``sys.argv[1]``; print the figures as JSON."""
    config = json.loads(sys.argv[1])
    print(json.dumps(asyncio.run(measure(config))))


if __name__ == "__main__":
    main()
