"""Instructions the OpenAI instrumentor adds per call, counted with valgrind's callgrind.

Timing a call to within a few microseconds is hopeless on a loaded machine; counting the
instructions the CPU executes is not. This script re-runs itself under
``valgrind --tool=callgrind`` with instrumentation off while Python imports and warms up, then
counts, per case, N calls through the SDK's own method ("bare") and N calls through the
instrumentor's wrapper ("traced"), each phase dumped separately through callgrind's client
requests (a ten-line C helper compiled with the system's ``cc`` and loaded with ctypes). The
difference divided by N is what the instrumentation adds per call, span and metrics included.

The calls are those of ``bench/overhead.py``: the real SDK over ``httpx2.MockTransport``,
spans through ``SimpleSpanProcessor`` into an exporter that drops them, metrics into a real
``MeterProvider``. Metric collection (recording the queued histogram values, paid on the
exporter's thread) is counted as its own phase. "no-op providers" instruments against the API's
no-op tracer and meter: what our own Python costs without the SDK's span and metric work.

callgrind sees C functions, not Python ones, so the top list (``callgrind_annotate``, traced
minus bare per call, self cost) names interpreter and SDK internals: where the added
instructions are spent (allocation, dict and attribute lookups, context variables, locks...).
For the Python functions of our package, ``--profile`` adds a ``cProfile`` of the traced calls
(time, not instructions; call counts are exact).

Usage: ``python bench/callpath_instructions.py [--calls 100] [--top 25] [--profile]``
(about a minute; valgrind must be installed).
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_HELPER_C = r"""
#include <valgrind/callgrind.h>
void cg_start(void) { CALLGRIND_START_INSTRUMENTATION; }
void cg_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void cg_zero(void) { CALLGRIND_ZERO_STATS; }
void cg_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
"""
CASES = ("chat", "embeddings", "stream_5", "stream_45")


# --- the process under callgrind ------------------------------------------------------------


def _child(args: argparse.Namespace) -> None:
    helper = ctypes.CDLL(args.helper)
    sys.path.insert(0, str(HERE))
    import overhead
    from opentelemetry.metrics import NoOpMeterProvider
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import NoOpTracerProvider

    from wikitrace_otel.instrumentors.openai import OpenAIInstrumentor

    client = overhead.make_client({5: overhead.stream_body(5), 45: overhead.stream_body(45)})
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(overhead.DropExporter()))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    reference = tracer_provider.get_tracer("reference")
    attributes = {f"attribute.{i}": i for i in range(15)}

    def phase(label: str, fn: Callable[[], Any], calls: int) -> None:
        for _ in range(3):  # warm caches of this exact path, uncounted
            fn()
        gc.collect()
        helper.cg_zero()
        for _ in range(calls):
            fn()
        helper.cg_dump(label.encode())

    helper.cg_start()
    phase("span15", lambda: reference.start_span("reference", attributes=attributes).end(), args.calls)
    variants: list[tuple[str, dict[str, Any]]] = [("sdk", {"tracer_provider": tracer_provider})]
    variants[0][1]["meter_provider"] = meter_provider
    if not args.sdk_only:
        variants.append(("noop", {"tracer_provider": NoOpTracerProvider(), "meter_provider": NoOpMeterProvider()}))
    for variant, providers in variants:
        instrumentor = OpenAIInstrumentor()
        instrumentor.instrument(**providers)
        for case, (bare, traced) in overhead.cases(client).items():
            if case not in args.cases:
                continue
            phase(f"{variant}:{case}:bare", bare, args.calls)
            reader.get_metrics_data()
            phase(f"{variant}:{case}:traced", traced, args.calls)
            helper.cg_zero()
            reader.get_metrics_data()
            helper.cg_dump(f"{variant}:{case}:collect".encode())
        instrumentor.uninstrument()
    helper.cg_stop()


# --- the parent: run, read the dumps, report ------------------------------------------------


def build_helper(directory: Path) -> Path:
    """Compiles the callgrind client-request helper into ``directory``; returns the shared library."""
    source, library = directory / "cg_helper.c", directory / "cg_helper.so"
    source.write_text(_HELPER_C)
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        sys.exit("a C compiler (cc) is needed to build the callgrind client-request helper")
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-o", str(library), str(source)], check=True)
    return library


def _run_callgrind(args: argparse.Namespace, directory: Path, helper: Path) -> dict[str, Path]:
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    out = directory / "callgrind.out"
    command = [
        "valgrind",
        "--tool=callgrind",
        "--instr-atstart=no",
        f"--callgrind-out-file={out}",
        sys.executable,
        __file__,
        "--child",
        "--helper",
        str(helper),
        "--calls",
        str(args.calls),
        "--cases",
        *args.cases,
    ] + (["--sdk-only"] if args.sdk_only else [])
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        sys.exit(f"callgrind run failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return read_dumps(directory)


def read_dumps(directory: Path) -> dict[str, Path]:
    """The ``callgrind.out*`` files of ``directory`` dumped by a client request, by their label."""
    dumps: dict[str, Path] = {}
    for path in directory.glob("callgrind.out*"):
        text = path.read_text(errors="replace")[:4000]
        match = re.search(r"^desc: Trigger: Client Request: (.+)$", text, re.MULTILINE)
        if match:
            dumps[match.group(1).strip()] = path
    return dumps


def dump_total(path: Path) -> int:
    """The instructions counted in one dump (its ``summary:`` or ``totals:`` line)."""
    match = re.search(r"^(?:summary|totals): (\d+)", path.read_text(errors="replace"), re.MULTILINE)
    return int(match.group(1)) if match else 0


def _functions(path: Path) -> dict[str, int]:
    """Self instructions per C function, from ``callgrind_annotate``."""
    text = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(path)], check=True, capture_output=True, text=True
    ).stdout
    costs: dict[str, int] = {}
    for line in text.splitlines():
        match = re.match(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.+?)(?:\s+\[.*\])?$", line)
        if match:
            # Shorten the interpreter's build paths: "Objects/dictobject.c:insertdict".
            name = re.sub(r"^.*?/(?=(?:Python|Objects|Modules|Include|Parser)/)", "", match.group(2).strip())
            costs[name] = costs.get(name, 0) + int(match.group(1).replace(",", ""))
    return costs


def _report(args: argparse.Namespace, dumps: dict[str, Path]) -> dict[str, Any]:
    calls = args.calls
    per_call = {label: dump_total(path) / calls for label, path in dumps.items()}
    report: dict[str, Any] = {"calls": calls, "span15": per_call.get("span15"), "variants": {}}
    print(f"{calls} calls per phase; one SDK span with 15 attributes: {per_call.get('span15', 0):,.0f} instructions")
    for variant in ("sdk", "noop"):
        rows = {}
        for case in args.cases:
            bare, traced = per_call.get(f"{variant}:{case}:bare"), per_call.get(f"{variant}:{case}:traced")
            if bare is None or traced is None:
                continue
            collect = per_call.get(f"{variant}:{case}:collect", 0.0)
            rows[case] = {"bare": bare, "added": traced - bare, "collect": collect}
        if not rows:
            continue
        if "stream_5" in rows and "stream_45" in rows:
            rows["per_chunk"] = {"added": (rows["stream_45"]["added"] - rows["stream_5"]["added"]) / 40}
        report["variants"][variant] = rows
        title = "SDK providers" if variant == "sdk" else "no-op providers"
        print(f"\n{title}: instructions per call")
        print(f"{'case':<12}{'bare':>14}{'added':>14}{'collect':>14}")
        for case, row in rows.items():
            bare_text = f"{row['bare']:14,.0f}" if "bare" in row else " " * 14
            collect_text = f"{row['collect']:14,.0f}" if "collect" in row else ""
            print(f"{case:<12}{bare_text}{row['added']:14,.0f}{collect_text}")
    case = args.cases[0]
    bare_path, traced_path = dumps.get(f"sdk:{case}:bare"), dumps.get(f"sdk:{case}:traced")
    if bare_path is not None and traced_path is not None and args.top:
        bare_fns, traced_fns = _functions(bare_path), _functions(traced_path)
        added = {name: (cost - bare_fns.get(name, 0)) / calls for name, cost in traced_fns.items()}
        top = sorted(added.items(), key=lambda item: -item[1])[: args.top]
        report["top_functions"] = top
        print(f"\nTop C functions by instructions added per {case} call (self cost, traced minus bare):")
        for name, cost in top:
            print(f"{cost:12,.0f}  {name}")
    return report


def _profile(calls: int) -> None:
    """cProfile of traced chat calls, our package's functions only, by own time."""
    import cProfile
    import pstats

    sys.path.insert(0, str(HERE))
    import overhead
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from wikitrace_otel.instrumentors.openai import OpenAIInstrumentor

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(overhead.DropExporter()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    traced = overhead.cases(overhead.make_client({}))["chat"][1]
    for _ in range(20):
        traced()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(calls):
        traced()
    profiler.disable()
    instrumentor.uninstrument()
    stats = pstats.Stats(profiler)
    print(f"\ncProfile of {calls} traced chat calls, functions of wikitrace_otel by own time:")
    stats.sort_stats("tottime").print_stats("wikitrace_otel", 20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--calls", type=int, default=100, help="calls per counted phase")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=CASES)
    parser.add_argument("--top", type=int, default=25, help="C functions in the top list (0: none)")
    parser.add_argument("--sdk-only", action="store_true", help="skip the no-op providers variant")
    parser.add_argument("--profile", action="store_true", help="also print a cProfile of our package")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--helper", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    with tempfile.TemporaryDirectory(prefix="callpath-") as tmp:
        directory = Path(tmp)
        dumps = _run_callgrind(args, directory, build_helper(directory))
        report = _report(args, dumps)
    if args.profile:
        _profile(args.calls * 10)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
