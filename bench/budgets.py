"""Cost of budgets per span and per call.

Two places do budget work:

- ``BudgetSpanProcessor`` sees every span. Measured per span against a provider without it:
  outside any budget and without rules (the common case), and charging a GenAI span of another
  instrumentation inside a ``with budget()`` block, and under a per-user rule.
  The processor's two hooks are also timed alone on a finished span ("hooks"), which is
  what the SDK adds per span and is far less noisy than whole-span differences. A charged span
  is only queued when it ends; "charging later" is the time, per span, of applying the queued
  charges, which the next request (or budget read) pays.
- The gate our instrumentors pass (``before_request`` + ``after_response``): measured per call
  with no budget, inside one budget, and inside a budget with a per-user rule, pricing included.

Spans are made by hand (identity at start, usage before the end) and go through the SDK's
``SimpleSpanProcessor`` into an exporter that drops them. Variants are interleaved in shuffled
rounds, each after a garbage collection; figures are medians over rounds. A second bare variant
("control") shows the noise floor.

Usage: ``python bench/budgets.py [--rounds 15] [--spans 3000] [--json bench/results/budgets.json]``
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
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

import wikitrace_otel as wt
from wikitrace_otel._genai import gate
from wikitrace_otel.budgets import BudgetSpanProcessor, use_prices
from wikitrace_otel.budgets._gatekeeper import ensure_gate

PRICES = {"gpt-4o": {"input": 2.5, "output": 10, "cache_read": 1.25}}
START = {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": "gpt-4o"}
END = {"gen_ai.response.model": "gpt-4o", "gen_ai.usage.input_tokens": 1200, "gen_ai.usage.output_tokens": 300}
HUGE = 1e12  # limits no benchmark reaches


class DropExporter(SpanExporter):
    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def provider(with_budgets: bool) -> TracerProvider:
    made = TracerProvider()
    if with_budgets:
        made.add_span_processor(BudgetSpanProcessor())
    made.add_span_processor(SimpleSpanProcessor(DropExporter()))
    return made


def span_maker(made: TracerProvider) -> Callable[[], None]:
    tracer = made.get_tracer("other.instrumentation")

    def run() -> None:
        span = tracer.start_span("chat gpt-4o", attributes=START)
        span.set_attributes(END)
        span.end()

    return run


def processor_alone() -> Callable[[], None]:
    """The processor's own hooks on one finished span, without the SDK's span machinery."""
    made = TracerProvider()
    span = made.get_tracer("other.instrumentation").start_span("chat gpt-4o", attributes={**START, **END})
    span.end()
    processor = BudgetSpanProcessor()

    def run() -> None:
        processor.on_start(span)  # type: ignore[arg-type]
        processor.on_end(span)

    return run


def gate_call() -> None:
    ticket = gate.before_request(START)
    gate.after_response(ticket, {**START, **END})


def timed(fn: Callable[[], None], calls: int, inside: str) -> tuple[float, float]:
    """Seconds per call of ``fn`` run ``calls`` times in the given setting, and seconds per call
    of applying the charges it queued (paid at the next request or budget read)."""
    gate = ensure_gate()
    gate.set_rules([wt.BudgetRule(usd=HUGE, per="user.id")] if inside == "rule" else [], {"service.name": "b"})
    gc.collect()
    with wt.session(user="u1"):
        if inside == "none":
            return _run(fn, calls), 0.0
        with wt.budget(usd=HUGE):
            per_call = _run(fn, calls)
            start = time.perf_counter()
            gate.settle()
            return per_call, (time.perf_counter() - start) / calls


def _run(fn: Callable[[], None], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def run(rounds: int, calls: int) -> dict[str, Any]:
    use_prices(PRICES)
    bare, control, budgeted = (span_maker(provider(p)) for p in (False, False, True))
    hooks = processor_alone()
    variants: dict[str, tuple[Callable[[], None], str]] = {
        "span: bare": (bare, "none"),
        "span: control": (control, "none"),
        "span: processor, no budget": (budgeted, "none"),
        "span: processor, charging a budget": (budgeted, "budget"),
        "span: processor, budget + rule": (budgeted, "rule"),
        "hooks: no budget": (hooks, "none"),
        "hooks: charging a budget": (hooks, "budget"),
        "hooks: budget + rule": (hooks, "rule"),
        "gate: no budget": (gate_call, "none"),
        "gate: one budget": (gate_call, "budget"),
        "gate: budget + rule": (gate_call, "rule"),
    }
    for fn, inside in variants.values():  # warm up: price cache, code paths
        timed(fn, 200, inside)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    settling: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        order = list(variants)
        random.shuffle(order)
        for name in order:
            fn, inside = variants[name]
            per_call, settle = timed(fn, calls, inside)
            samples[name].append(per_call * 1e6)
            settling[name].append(settle * 1e6)
    ensure_gate().set_rules([], {})
    medians = {name: statistics.median(values) for name, values in samples.items()}
    settle_medians = {name: statistics.median(values) for name, values in settling.items() if any(values)}
    base = medians["span: bare"]
    return {
        "python": platform.python_version(),
        "rounds": rounds,
        "calls": calls,
        "median_us": medians,
        "settle_per_span_us": settle_medians,
        "added_per_span_us": {
            name: medians[name] - base for name in medians if name.startswith("span:") and name != "span: bare"
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    # Under 1,024 so queued charges are not applied inline during the timed loop.
    parser.add_argument("--spans", type=int, default=1000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run(args.rounds, args.spans)
    print(f"Python {result['python']}, {args.rounds} rounds x {args.spans} calls; medians (µs)")
    for name, value in result["median_us"].items():
        added = result["added_per_span_us"].get(name)
        extra = f"  (+{added:.2f} vs bare)" if added is not None else ""
        settle = result["settle_per_span_us"].get(name)
        extra += f"  [charging later: {settle:.2f}]" if settle is not None else ""
        print(f"  {name:<38} {value:8.2f}{extra}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
