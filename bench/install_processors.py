"""What the span processors ``install()`` adds cost per span, GenAI or not.

``install()`` puts wikitrace-otel's processors on the application's ``TracerProvider``: the
session, cost, budget and alert steps, and per exporter a ``CostEnrichingProcessor`` in front
of the exporting processor. Every span of the application goes through them: HTTP server
spans, database spans... so the figure that matters most is the cost of a plain span.

Variants, each a ``TracerProvider`` ending in the SDK's ``SimpleSpanProcessor`` into an
exporter that drops spans:

- ``bare``: nothing else (the reference);
- ``session``, ``cost``, ``budget``, ``alerts``, ``enrich``: one public processor alone
  (``enrich`` wraps the exporting processor);
- ``all``: the five public processors, added one by one;
- ``install``: what ``install()`` adds, through the same function it uses
  (``wikitrace_otel._install._add_span_processors``; on a tree without it, the same as ``all``).

Two kinds of span: ``plain`` (three HTTP attributes) and ``genai`` (a priced chat call from
another instrumentation: operation, provider, models, usage), and ``genai+budget``: the same
GenAI spans inside an open ``with budget():`` block, the charges settled inside the timed
block (install() variants only: the other processors do not see budgets).

Method: one round times a block of ``--spans`` spans for every variant, in a shuffled order,
each block after a garbage collection. Two figures per variant: the median over rounds of its
block minus the ``bare`` block *of the same round* (paired: slow drift in the machine's speed
cancels), and its fastest block minus the fastest ``bare`` block (on a loaded machine the least
disturbed blocks; steadier from run to run). ``noise`` is a second bare provider: how far two
identical variants differ on this machine. The clock is the thread's CPU time by default
(``--clock wall`` for ``perf_counter``): time other processes take is not counted.
Histogram values queued by the cost processor are recorded into the SDK between blocks,
untimed (the SDK records them at collection, off the span path).

Before/after: run it on two trees (``PYTHONPATH=<tree>/src python bench/install_processors.py``).

Usage: ``python bench/install_processors.py [--rounds 41] [--spans 100] [--clock thread|wall] [--json out.json]``
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import SpanProcessor, Tracer, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from wikitrace_otel import _install, alerts, budgets
from wikitrace_otel.budgets import BudgetSpanProcessor
from wikitrace_otel.budgets._gatekeeper import ensure_gate
from wikitrace_otel.pricing import PriceTable
from wikitrace_otel.processors import CostEnrichingProcessor, CostSpanProcessor, SessionSpanProcessor

PLAIN = {"http.request.method": "GET", "url.path": "/x", "http.response.status_code": 200}
GENAI = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.input_tokens": 12,
    "gen_ai.usage.output_tokens": 3,
}
SINGLE = ("session", "cost", "budget", "alerts", "enrich")


class DropExporter(SpanExporter):
    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def variants(prices: PriceTable) -> tuple[dict[str, Tracer], list[CostSpanProcessor]]:
    """A tracer per variant, and the cost processors (drained between blocks)."""
    meters = MeterProvider()
    costs: list[CostSpanProcessor] = []

    def cost() -> CostSpanProcessor:
        costs.append(CostSpanProcessor(prices, meter_provider=meters, preload=False))
        return costs[-1]

    def tracer(processors: list[SpanProcessor]) -> Tracer:
        provider = TracerProvider()
        for processor in processors:
            provider.add_span_processor(processor)
        return provider.get_tracer("bench")

    def exporting() -> SpanProcessor:
        return SimpleSpanProcessor(DropExporter())

    def separate() -> list[SpanProcessor]:
        shared = cost()
        return [
            SessionSpanProcessor(),
            shared,
            BudgetSpanProcessor(),
            alerts.span_processor(),
            CostEnrichingProcessor(exporting(), shared.prices),
        ]

    def installed() -> Tracer:
        add = getattr(_install, "_add_span_processors", None)
        if add is None:
            return tracer(separate())
        provider = TracerProvider()
        add(provider, cost(), [exporting()])
        return provider.get_tracer("bench")

    tracers = {
        "bare": tracer([exporting()]),
        "noise": tracer([exporting()]),
        "session": tracer([SessionSpanProcessor(), exporting()]),
        "cost": tracer([cost(), exporting()]),
        "budget": tracer([BudgetSpanProcessor(), exporting()]),
        "alerts": tracer([alerts.span_processor(), exporting()]),
        "enrich": tracer([CostEnrichingProcessor(exporting(), prices)]),
        "all": tracer(separate()),
        "install": installed(),
    }
    return tracers, costs


def block(tracer: Tracer, attributes: dict[str, Any], spans: int, clock: Callable[[], float], in_budget: bool) -> float:
    """µs per span for one block."""
    gc.collect()
    start = clock()
    if in_budget:
        with budgets.budget(usd=1e9, name="bench"):
            for _ in range(spans):
                tracer.start_span("x", attributes=attributes).end()
            ensure_gate().settle()
    else:
        for _ in range(spans):
            tracer.start_span("x", attributes=attributes).end()
    return (clock() - start) / spans * 1e6


def measure(rounds: int, spans: int, clock: Callable[[], float]) -> dict[str, Any]:
    prices = PriceTable()
    prices.preload()
    ensure_gate().prices = prices  # as install() does: budgets charge at the spans' prices
    tracers, costs = variants(prices)
    kinds: list[tuple[str, dict[str, Any], bool, list[str]]] = [
        ("plain", PLAIN, False, list(tracers)),
        ("genai", GENAI, False, list(tracers)),
        ("genai+budget", GENAI, True, ["bare", "noise", "all", "install"]),
    ]
    order = random.Random(1)
    results: dict[str, Any] = {}
    for kind, attributes, in_budget, names in kinds:
        for name in names:  # warm-up: price caches, first-call paths
            block(tracers[name], attributes, 20, clock, in_budget)
        times: dict[str, list[float]] = {name: [] for name in names}
        for _ in range(rounds):
            shuffled = names[:]
            order.shuffle(shuffled)
            for name in shuffled:
                times[name].append(block(tracers[name], attributes, spans, clock, in_budget))
            for processor in costs:
                processor.force_flush()  # record queued histogram values, untimed
        bare = times.pop("bare")
        results[kind] = {
            "bare_us": statistics.median(bare),
            "median": {name: statistics.median(map(float.__sub__, ts, bare)) for name, ts in times.items()},
            "best": {name: min(ts) - min(bare) for name, ts in times.items()},
        }
    return results


def table(results: dict[str, Any], estimate: str) -> str:
    names = ["noise", "session", "cost", "budget", "alerts", "enrich", "all", "install"]
    lines = ["| span | bare µs | " + " | ".join(f"+{n}" for n in names) + " |", "|" + "---|" * (len(names) + 2)]
    for kind, row in results.items():
        cells = [f"{row[estimate][n]:.1f}" if n in row[estimate] else "" for n in names]
        lines.append(f"| {kind} | {row['bare_us']:.1f} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--spans", type=int, default=100)
    parser.add_argument("--clock", choices=("thread", "wall"), default="thread")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    clock = time.thread_time if args.clock == "thread" else time.perf_counter
    results = measure(args.rounds, args.spans, clock)
    print(f"µs added per span: median of {args.rounds} paired differences ({args.spans} spans a block, {args.clock})")
    print(table(results, "median"))
    print("\nµs added per span: fastest block of each variant minus the fastest bare block")
    print(table(results, "best"))
    if args.json:
        meta = {
            "python": sys.version.split()[0],
            "opentelemetry-sdk": version("opentelemetry-sdk"),
            "machine": platform.machine(),
            "rounds": args.rounds,
            "spans": args.spans,
            "clock": args.clock,
        }
        args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
