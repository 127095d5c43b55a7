"""Overhead of CostSpanProcessor per span, with a warm price cache, against no processor.

Spans are made by hand the way another instrumentation would (identity at start, usage set
before the end) and go through the SDK's ``SimpleSpanProcessor`` into an exporter that drops
them. The measured variants differ only in whether a ``CostSpanProcessor`` is registered first.
Its histogram values are queued on the span path and recorded when metrics are collected, so
that collection cost is reported apart, per span.

Also timed, per call: the pricing hot path (``PriceTable.lookup`` + ``ModelPrice.cost``),
``cost_attributes()``, and genai-prices' own ``calc_price`` (what each span would cost without
the cache).

Rounds interleave the variants in a shuffled order, each batch starts after a garbage
collection, and the figures are medians over rounds, so machine noise hits all variants alike.
A second bare variant ("noise") shows how far two identical setups differ on this machine.

Usage: ``python bench/cost_processor.py [--rounds 15] [--spans 2000] [--json bench/results/cost.json]``
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
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from wikitrace_otel.pricing import PriceTable
from wikitrace_otel.processors.cost import CostSpanProcessor, cost_attributes

START = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"}
END = {
    "gen_ai.response.model": "gpt-4o-2024-08-06",
    "gen_ai.usage.input_tokens": 1200,
    "gen_ai.usage.cache_read.input_tokens": 1000,
    "gen_ai.usage.output_tokens": 300,
}
UNKNOWN_START = {**START, "gen_ai.request.model": "in-house-model"}
UNKNOWN_END = {**END, "gen_ai.response.model": "in-house-model"}
OTHER = {"http.request.method": "GET", "url.path": "/health"}


class DropExporter(SpanExporter):
    """Accepts and forgets every span."""

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def span_cases(provider: TracerProvider) -> dict[str, Callable[[], None]]:
    tracer = provider.get_tracer("bench")

    def genai(start: dict[str, Any], end: dict[str, Any]) -> Callable[[], None]:
        def run() -> None:
            span = tracer.start_span("chat gpt-4o", attributes=start)
            span.set_attributes(end)
            span.end()

        return run

    def other() -> None:
        tracer.start_span("GET /health", attributes=OTHER).end()

    return {"genai_priced": genai(START, END), "genai_unknown": genai(UNKNOWN_START, UNKNOWN_END), "other": other}


def make_provider(with_cost: bool, meter_provider: MeterProvider) -> TracerProvider:
    provider = TracerProvider()
    if with_cost:
        provider.add_span_processor(CostSpanProcessor(PriceTable(), meter_provider, preload=False))
    provider.add_span_processor(SimpleSpanProcessor(DropExporter()))
    return provider


def time_per_call(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def micro_cases() -> dict[str, Callable[[], Any]]:
    import genai_prices

    table = PriceTable()
    attributes = {**START, **END}
    usage = genai_prices.Usage(input_tokens=1200, cache_read_tokens=1000, output_tokens=300)

    def lookup_and_cost() -> float:
        price = table.lookup("openai", "gpt-4o-2024-08-06", fallback="gpt-4o")
        return price.cost(1200, 300, 1000) if price else 0.0

    return {
        "lookup+cost": lookup_and_cost,
        "cost_attributes": lambda: cost_attributes(attributes, table),
        "genai_prices.calc_price": lambda: genai_prices.calc_price(usage, "gpt-4o-2024-08-06", provider_id="openai"),
    }


def run(rounds: int, spans: int) -> dict[str, Any]:
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    providers = {
        "bare": make_provider(False, meter_provider),
        "control": make_provider(False, meter_provider),  # a second bare variant: the noise floor
        "cost": make_provider(True, meter_provider),
    }
    cases = {variant: span_cases(provider) for variant, provider in providers.items()}
    micro = micro_cases()
    samples: dict[str, dict[str, list[float]]] = {v: {c: [] for c in cases[v]} for v in providers}
    collect: dict[str, list[float]] = {c: [] for c in cases["cost"]}
    micro_samples: dict[str, list[float]] = {c: [] for c in micro}
    order = random.Random(0)
    for _ in range(rounds):
        batches = [(variant, case, fn) for variant, by_case in cases.items() for case, fn in by_case.items()]
        order.shuffle(batches)
        for variant, case, fn in batches:
            for _ in range(spans // 10):  # warm-up, and the price cache
                fn()
            reader.get_metrics_data()
            gc.collect()
            samples[variant][case].append(time_per_call(fn, spans))
            start = time.perf_counter()
            reader.get_metrics_data()
            if variant == "cost":
                collect[case].append((time.perf_counter() - start) / spans)
        for case, fn in micro.items():
            calls = spans if case != "genai_prices.calc_price" else max(spans // 20, 10)
            fn()
            gc.collect()
            micro_samples[case].append(time_per_call(fn, calls))
    return summarize(samples, collect, micro_samples)


def summarize(
    samples: dict[str, dict[str, list[float]]], collect: dict[str, list[float]], micro: dict[str, list[float]]
) -> dict[str, Any]:
    us = {v: {c: statistics.median(s) * 1e6 for c, s in by_case.items()} for v, by_case in samples.items()}
    return {
        "span_us": us,
        "added_us": {case: us["cost"][case] - us["bare"][case] for case in us["bare"]},
        "noise_us": {case: us["control"][case] - us["bare"][case] for case in us["bare"]},
        "collect_us_per_span": {case: statistics.median(s) * 1e6 for case, s in collect.items()},
        "call_us": {case: statistics.median(s) * 1e6 for case, s in micro.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--spans", type=int, default=2000)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args()
    report = run(args.rounds, args.spans)
    report["environment"] = {
        "python": platform.python_version(),
        "opentelemetry-sdk": version("opentelemetry-sdk"),
        "genai-prices": version("genai-prices"),
        "machine": platform.machine(),
        "rounds": args.rounds,
        "spans_per_round": args.spans,
    }
    env = report["environment"]
    print(
        f"opentelemetry-sdk {env['opentelemetry-sdk']}, genai-prices {env['genai-prices']}, "
        f"python {env['python']}, {args.rounds} rounds x {args.spans} spans (medians)"
    )
    print(f"{'span':<16}{'bare µs':>10}{'cost µs':>10}{'added µs':>10}{'noise µs':>10}{'collect µs/span':>17}")
    for case, added in report["added_us"].items():
        bare, cost = report["span_us"]["bare"][case], report["span_us"]["cost"][case]
        noise, collected = report["noise_us"][case], report["collect_us_per_span"][case]
        print(f"{case:<16}{bare:10.2f}{cost:10.2f}{added:10.2f}{noise:10.2f}{collected:17.2f}")
    print(f"{'call':<26}{'µs':>8}")
    for case, value in report["call_us"].items():
        print(f"{case:<26}{value:8.2f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
