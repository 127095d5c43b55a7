"""Overhead of the decorators per call (and per generator item), in nanoseconds.

Each case is a tiny function measured bare and decorated, so the difference is the
decorator's own cost:

- ``no provider``: no tracer provider installed, the state of an application that imports
  wikitrace-otel but never installs tracing. Should be the price of one Python wrapper call.
- ``installed``: a real SDK ``TracerProvider`` with ``SimpleSpanProcessor`` into an exporter
  that drops spans: span creation, context switch, ending and processing all count.
- ``installed+content``: the same with ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY``:
  arguments bound, made JSON-safe, serialized and capped.

Two references put the figures in proportion: ``plain wrapper`` is a ``functools.wraps``
pass-through (the least any decorator costs), ``sdk span`` wraps the call in
``tracer.start_as_current_span`` by hand (the least a span costs with this provider).

The global provider is switched between variants the way the test suite does it (resetting
the API's private globals), which only a benchmark or a test may do. Rounds interleave all
variants and the figures are medians over rounds, so machine noise hits them alike.

Usage: ``python bench/decorators.py [--rounds 15] [--calls 20000] [--json bench/results/decorators.json]``
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import opentelemetry.sdk.version
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.util._once import Once

import wikitrace_otel.decorators as wt
from wikitrace_otel._decorators import settings

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
ITEMS = 20  # items per generator run


class DropExporter(SpanExporter):
    """Accepts and forgets every span."""

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def use_provider(provider: TracerProvider | None, content: bool) -> None:
    """Install ``provider`` globally (None: none at all) and set content capture."""
    trace_api._TRACER_PROVIDER_SET_ONCE = Once()  # type: ignore[attr-defined]
    trace_api._TRACER_PROVIDER = None  # type: ignore[attr-defined]
    if provider is not None:
        trace_api.set_tracer_provider(provider)
    os.environ[CAPTURE] = "SPAN_ONLY" if content else "NO_CONTENT"
    settings.configure()


def lookup(city: str, days: int = 1) -> dict[str, Any]:
    return {"city": city, "days": days}


async def alookup(city: str, days: int = 1) -> dict[str, Any]:
    return {"city": city, "days": days}


def stream(n: int) -> Any:
    yield from range(n)


def plain_wrapper(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


def sdk_span(fn: Callable[..., Any]) -> Callable[..., Any]:
    tracer = trace_api.get_tracer("bench")  # a ProxyTracer: follows the provider installed later

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with tracer.start_as_current_span("lookup"):
            return fn(*args, **kwargs)

    return wrapper


REFERENCES = {"plain wrapper": ("no provider", plain_wrapper), "sdk span": ("installed", sdk_span)}


def pairs() -> dict[str, tuple[Callable[[int], float], Callable[[int], float]]]:
    """Case name -> (time the bare function, time the decorated one), each returning seconds per call."""
    traced_sync = wt.tool(name="lookup")(lookup)
    traced_async = wt.tool(name="lookup")(alookup)
    traced_stream = wt.trace(name="stream")(stream)
    return {
        "sync call": (sync_timer(lookup), sync_timer(traced_sync)),
        "async call": (async_timer(alookup), async_timer(traced_async)),
        "generator item": (stream_timer(stream), stream_timer(traced_stream)),
    }


def sync_timer(fn: Callable[..., Any]) -> Callable[[int], float]:
    def run(calls: int) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            fn("Paris", days=2)
        return (time.perf_counter() - start) / calls

    return run


def async_timer(fn: Callable[..., Any]) -> Callable[[int], float]:
    async def loop(calls: int) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            await fn("Paris", days=2)
        return (time.perf_counter() - start) / calls

    return lambda calls: asyncio.run(loop(calls))


def stream_timer(fn: Callable[..., Any]) -> Callable[[int], float]:
    # Per item, span start and end included: a 20-item generator's cost divided by 20.
    def run(calls: int) -> float:
        runs = max(calls // ITEMS, 1)
        start = time.perf_counter()
        for _ in range(runs):
            for _ in fn(ITEMS):
                pass
        return (time.perf_counter() - start) / (runs * ITEMS)

    return run


VARIANTS = {"no provider": (False, False), "installed": (True, False), "installed+content": (True, True)}


def run(rounds: int, calls: int) -> dict[str, Any]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(DropExporter()))
    cases = pairs()
    references = {name: sync_timer(make(lookup)) for name, (_, make) in REFERENCES.items()}
    samples: dict[str, dict[str, list[float]]] = {v: {c: [] for c in cases} for v in VARIANTS}
    reference_samples: dict[str, list[float]] = {name: [] for name in REFERENCES}
    bare: dict[str, list[float]] = {c: [] for c in cases}
    for _ in range(rounds):
        for variant, (installed, content) in VARIANTS.items():
            use_provider(provider if installed else None, content)
            for case, (time_bare, time_traced) in cases.items():
                time_traced(calls // 10)  # warm-up
                samples[variant][case].append(time_traced(calls) - time_bare(calls))
            for name, (where, _) in REFERENCES.items():
                if where == variant:
                    reference_samples[name].append(references[name](calls) - cases["sync call"][0](calls))
        for case, (time_bare, _) in cases.items():
            bare[case].append(time_bare(calls))
    use_provider(None, False)
    return {
        "bare_ns": {c: statistics.median(s) * 1e9 for c, s in bare.items()},
        "added_ns": {v: {c: statistics.median(s) * 1e9 for c, s in by_case.items()} for v, by_case in samples.items()},
        "reference_added_ns": {name: statistics.median(s) * 1e9 for name, s in reference_samples.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--json", default=None, help="also write the results here")
    args = parser.parse_args()
    report = run(args.rounds, args.calls)
    report["environment"] = {
        "python": platform.python_version(),
        "opentelemetry-sdk": opentelemetry.sdk.version.__version__,
        "machine": platform.machine(),
        "rounds": args.rounds,
        "calls_per_round": args.calls,
    }
    print(
        f"python {platform.python_version()}, opentelemetry-sdk {opentelemetry.sdk.version.__version__}, "
        f"{args.rounds} rounds x {args.calls} calls; medians, ns added per call (per item for generators)"
    )
    print(f"{'case':<16}{'bare ns':>10}" + "".join(f"{v + ' +ns':>24}" for v in VARIANTS))
    for case, bare in report["bare_ns"].items():
        added = "".join(f"{report['added_ns'][v][case]:24.0f}" for v in VARIANTS)
        print(f"{case:<16}{bare:10.0f}{added}")
    for name, (where, _) in REFERENCES.items():
        print(f"reference, sync call: {name} ({where}) +{report['reference_added_ns'][name]:.0f} ns")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(report, out, indent=2)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
