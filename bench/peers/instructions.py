"""Instructions each tracing library adds per OpenAI / Anthropic SDK call, counted with callgrind.

What: for every variant of the side-by-side comparison (``bench/peers/variants.py``: the bare
SDKs, wikitrace-otel, and each peer), the number of CPU instructions one SDK call executes,
minus the bare SDK's own, counted by valgrind's callgrind instead of timed.

Why: the timed comparison (``bench/run.py --only peers``) measures microseconds, which on a
shared two-core machine move by tens of microseconds from one minute to the next. An
instruction count does not depend on the machine's load, so it ranks our call path against the
peers' without that noise (it does not see cache misses, branch mispredictions or lock waits,
which timing does).

Method: one child process per variant, run under ``valgrind --tool=callgrind
--instr-atstart=no`` by the variant's own venv python (``bench/.venv-peers`` or
``bench/.venv-peers-<group>``) with ``bench/`` on ``PYTHONPATH`` and ``PYTHONHASHSEED=0``, at
most ``--jobs`` at a time. The child sets the variant up exactly as the timed worker does
(``variants.VARIANTS[name].setup`` with ``worker.CountingExporter``), calls every measured case
five times uncounted, switches instrumentation on, then for each case calls it twice more
uncounted (after the other cases, the first block would otherwise pay for the interpreter
re-specializing its path) and runs ``--blocks`` blocks:

- ``gc.collect()``; inside ``setup.around()`` (entered and left outside the count, as the timed
  worker does): zero the counters, ``--calls`` calls, dump ``case:call:k``;
- zero, ``setup.flush()`` and ``setup.collect()``, dump ``case:after:k``: the work a library
  defers to flushing or metric collection (e.g. wikitrace-otel's deferred histogram
  recording), counted apart so both the call path and the call path plus that work are shown;
- the same once more, dumped as ``case:idle:k``: a flush and collection with no new calls, the
  fixed cost of one collection (iterating every instrument and attribute set). "after" per call
  is ``(after - idle) / calls``, so it does not depend on how many calls a block holds; the
  fixed cost is shown per collection.

The counters are switched through callgrind's client requests, with the helper library and the
dump parsing of ``bench/callpath_instructions.py``. Each figure is the median over blocks of
the block's instructions divided by its calls (``--calls``, at least 100 for the cheap
yardstick span); "added" is the variant's minus the bare SDK's; "plain spans" expresses it in
units of one plain SDK span with 15 attributes (the bare child's ``plain_span`` case; like every
span here it goes through ``SimpleSpanProcessor`` into ``CountingExporter``). The spans
``CountingExporter`` saw per call are shown too, so a variant that does not trace a case reads
"not instrumenting" instead of a small number. A variant that cannot be set up, or whose child
crashes or times out, is reported FAILED with the reason and the end of its log
(``bench/.venv-peers/logs/instructions-<variant>.log``).

Valgrind counts every thread together: a library that exports from a background thread
(Langfuse's batching processor) pays that export in whichever phase the thread happens to
run, which shows as a wider block-to-block spread.

Usage::

    python bench/peers/instructions.py [--variants bare,wikitrace,otel-openai-v2,...]
        [--cases chat embeddings messages] [--calls 10] [--blocks 5] [--jobs 2]
        [--json bench/results/peers-instructions.json] [--prepare] [--quick]
    python bench/peers/instructions.py --render bench/results/peers-instructions.json

Streams (``stream_1``, ``stream_20``, ``messages_stream_*``) are available through ``--cases``;
they are slow under valgrind. ``bare`` is always run. The venvs must exist (``python
bench/run.py --only peers`` builds them); ``--prepare`` creates or rebuilds a missing or stale
one first. Needs valgrind and a C compiler. Duration, default cases, ``--calls 10 --blocks 7``
on two shared cores: 1.5 to 6 minutes per variant (OpenLLMetry, OpenInference and Logfire are
the slow ones to import), 16 to 22 minutes for all ten with two jobs.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import ctypes
import datetime
import gc
import json
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parents[1]
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import callpath_instructions  # noqa: E402

from peers import environment, instruction_tables, orchestrate  # noqa: E402
from peers.variants import PLAIN_SPAN, VARIANTS, Setup, Variant  # noqa: E402
from peers.workload import ALL_CASES  # noqa: E402

DEFAULT_CASES = ("chat", "embeddings", "messages")
WARMUP_CALLS = 5
REWARM_CALLS = 2
PLAIN_SPAN_CALLS = 100  # the yardstick is cheap: more calls a block steady the unit every figure is given in


# --- the process under callgrind ------------------------------------------------------------


class Counters:
    """Callgrind's client requests through the compiled helper; no-ops without a helper (and
    the requests themselves do nothing outside valgrind)."""

    def __init__(self, helper: str) -> None:
        self.library = ctypes.CDLL(helper) if helper else None

    def start(self) -> None:
        if self.library is not None:
            self.library.cg_start()

    def stop(self) -> None:
        if self.library is not None:
            self.library.cg_stop()

    def zero(self) -> None:
        if self.library is not None:
            self.library.cg_zero()

    def dump(self, label: str) -> None:
        if self.library is not None:
            self.library.cg_dump(label.encode())


def measured_cases(variant: Variant, setup: Setup, wanted: list[str]) -> list[str]:
    """The requested cases this variant covers, plus the yardstick span for the bare SDKs."""
    cases = [case for case in wanted if case in setup.cases and case in variant.covers]
    if variant.kind == "bare" and PLAIN_SPAN in setup.cases:
        cases.append(PLAIN_SPAN)
    return cases


def _error(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:400]


def _warm_up(setup: Setup, exporter: Any, case: str, calls: int = WARMUP_CALLS) -> None:
    with setup.around():
        for _ in range(calls):
            setup.cases[case]()
    setup.flush()
    setup.collect()
    exporter.take()


def measure_case(setup: Setup, exporter: Any, counters: Counters, case: str, calls: int, blocks: int) -> dict:
    """``blocks`` counted blocks of ``case``; the spans the exporter saw per call in each."""
    figures: dict[str, Any] = {"calls": calls, "blocks": 0, "spans": [], "genai_spans": [], "names": [], "scopes": []}
    call = setup.cases[case]
    for block in range(blocks):
        try:
            if block == 0:  # the interpreter re-specializes the path after other cases: not in block 0
                _warm_up(setup, exporter, case, REWARM_CALLS)
            gc.collect()
            exporter.take()
            with setup.around():
                counters.zero()
                for _ in range(calls):
                    call()
                counters.dump(f"{case}:call:{block}")
            for phase in ("after", "idle"):  # idle: the same again with nothing new, the fixed part
                counters.zero()
                setup.flush()
                setup.collect()
                counters.dump(f"{case}:{phase}:{block}")
        except Exception as error:  # noqa: BLE001 - a peer that breaks the SDK call is a finding
            traceback.print_exc()
            figures["error"] = _error(error)
            break
        seen = exporter.take()
        figures["blocks"] += 1
        figures["spans"].append(seen["spans"] / calls)
        figures["genai_spans"].append(seen["genai_spans"] / calls)
        figures["names"] = sorted({*figures["names"], *seen["names"]})[:4]
        figures["scopes"] = sorted({*figures["scopes"], *seen["scopes"]})[:4]
    return figures


def child(name: str, helper: str, cases: list[str], calls: int, blocks: int) -> dict[str, Any]:
    """Sets ``name`` up, warms it up uncounted, then counts its cases; the result as a dict."""
    from peers import worker

    variant = VARIANTS[name]
    exporter = worker.CountingExporter()
    try:
        setup = variant.setup(exporter)
    except Exception as error:  # noqa: BLE001 - reported as the variant's failure
        traceback.print_exc()
        return {"ok": False, "error": "setup: " + _error(error)}
    result: dict[str, Any] = {"ok": True, "versions": worker.versions(variant.packages), "cases": {}}
    measured = []
    for case in measured_cases(variant, setup, cases):
        try:
            _warm_up(setup, exporter, case)
            measured.append(case)
        except Exception as error:  # noqa: BLE001
            traceback.print_exc()
            result["cases"][case] = {"blocks": 0, "error": "warm-up: " + _error(error)}
    counters = Counters(helper)
    counters.start()
    for case in measured:
        count = max(calls, PLAIN_SPAN_CALLS) if case == PLAIN_SPAN else calls
        result["cases"][case] = measure_case(setup, exporter, counters, case, count, blocks)
    counters.stop()
    return result


def _child_main(args: argparse.Namespace) -> None:
    sys.stdout = sys.stderr  # whatever the libraries print goes to the log
    result = child(args.child, args.helper, args.cases, args.calls, args.blocks)
    Path(args.out).write_text(json.dumps(result))


# --- the parent -----------------------------------------------------------------------------


def environments(groups: set[str], prepare: bool) -> dict[str, environment.PeerEnvironment | str]:
    """Each venv the variants need (built by the timed comparison), or why it is unusable."""
    envs: dict[str, environment.PeerEnvironment | str] = {}
    for group in sorted(groups):
        venv = environment.venv_path(group)
        if prepare:
            try:
                envs[group] = environment.prepare(group)
            except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
                envs[group] = f"venv {venv.name}: {error}"
            continue
        python = environment._python_in(venv)
        if not python.exists():
            envs[group] = f"{venv.name} does not exist: run bench/run.py --only peers, or pass --prepare"
            continue
        marker, version = venv / environment.HASH_FILE, f"{sys.version_info.major}.{sys.version_info.minor}"
        expected = environment.requirements_hash(environment.requirements_file(group), version)
        if not marker.exists() or marker.read_text().strip() != expected:
            print(f"note: {venv.name} was built from other pins than today's; --prepare rebuilds it", flush=True)
        envs[group] = environment.PeerEnvironment(python, reused=True, failed=environment._read_failures(venv))
    return envs


def _unusable(variant: Variant, env: environment.PeerEnvironment | str) -> str:
    """Why the variant cannot run in its venv, or "" when it can."""
    if isinstance(env, str):
        return env
    broken = [
        f"{line}: {why}" for line, why in env.failed.items() if environment.package_name(line) in variant.packages
    ]
    return "install failed: " + "; ".join(broken) if broken else ""


def _log_tail(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return "log: " + " | ".join(lines[-3:])[-400:] if lines else "empty log"


def _counts(result: dict[str, Any], directory: Path) -> None:
    """Adds each case's instructions per call, block by block, from the child's dumps."""
    dumps = callpath_instructions.read_dumps(directory)
    for case, figures in result["cases"].items():
        missing = []
        for phase in ("call", "after", "idle"):
            labels = [f"{case}:{phase}:{block}" for block in range(figures["blocks"])]
            missing += [label for label in labels if label not in dumps]
            figures[phase] = [
                callpath_instructions.dump_total(dumps[label]) / figures["calls"] for label in labels if label in dumps
            ]
        if missing:
            figures["error"] = f"dumps missing: {', '.join(missing)}"


def run_variant(name: str, python: Path, helper: Path, directory: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Runs one variant's child under callgrind; its result with the counts, or why it failed."""
    directory.mkdir()
    log = environment.venv_path() / "logs" / f"instructions-{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    out = directory / "result.json"
    command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={directory}/callgrind.out"]
    command += [str(python), "-m", "peers.instructions", "--child", name, "--helper", str(helper), "--out", str(out)]
    command += ["--calls", str(args.calls), "--blocks", str(args.blocks), "--cases", *args.cases]
    env = {**orchestrate._worker_environment(), "PYTHONHASHSEED": "0"}
    started = time.monotonic()
    with log.open("w") as handle:
        try:
            code = subprocess.run(command, cwd=directory, env=env, stdout=handle, stderr=handle, timeout=args.timeout)
            code = code.returncode
        except subprocess.TimeoutExpired:
            code = f"timed out after {args.timeout:.0f} s"
    seconds = round(time.monotonic() - started, 1)
    print(f"  {name}: done in {seconds:.0f} s", flush=True)
    if code != 0 or not out.exists():
        return {"status": "FAILED", "reason": f"child exit {code}; {_log_tail(log)}", "seconds": seconds}
    result = json.loads(out.read_text())
    if not result.pop("ok"):
        return {"status": "FAILED", "reason": result["error"], "seconds": seconds}
    _counts(result, directory)
    return {"status": "ok", "reason": "", "seconds": seconds, **result}


def run_all(names: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Every variant's child, ``args.jobs`` at a time; the record the report is made from."""
    envs = environments({VARIANTS[name].group for name in names}, args.prepare)
    record: dict[str, Any] = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    record["machine"] = {"platform": platform.platform(), "python": platform.python_version(), "valgrind": version}
    record["settings"] = {"calls_per_block": args.calls, "blocks": args.blocks, "cases": args.cases}
    variants: dict[str, dict[str, Any]] = {}
    print(f"{len(names)} variants under callgrind, {args.jobs} at a time", flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="peers-instructions-") as tmp,
        concurrent.futures.ThreadPoolExecutor(args.jobs) as pool,
    ):
        helper = callpath_instructions.build_helper(Path(tmp))
        futures = {}
        for name in names:
            env = envs[VARIANTS[name].group]
            if reason := _unusable(VARIANTS[name], env):
                variants[name] = {"status": "FAILED", "reason": reason}
                continue
            assert not isinstance(env, str)
            futures[name] = pool.submit(run_variant, name, env.python, helper, Path(tmp) / name, args)
        for name, future in futures.items():
            variants[name] = future.result()
    record["variants"] = {name: variants[name] for name in names}
    return record


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--variants", default="", help="comma-separated subset (bare is always run)")
    parser.add_argument("--cases", nargs="+", default=list(DEFAULT_CASES), choices=ALL_CASES)
    parser.add_argument("--calls", type=int, default=10, help="calls per counted block")
    parser.add_argument("--blocks", type=int, default=5, help="counted blocks per case (the median is reported)")
    parser.add_argument("--jobs", type=int, default=2, help="children under valgrind at a time")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds a child may take")
    parser.add_argument("--prepare", action="store_true", help="create or rebuild a missing or stale venv first")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: bare and wikitrace, chat only, 2 blocks of 2 calls"
    )
    parser.add_argument(
        "--render", type=Path, default=None, help="recompute and print the tables of a JSON, run nothing"
    )
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    parser.add_argument("--helper", default="", help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.child:
        _child_main(args)
        return 0
    if args.render:
        record = json.loads(args.render.read_text())
        record |= instruction_tables.summarize(record["variants"])
        print(instruction_tables.render(record))
        return 0
    if args.quick:
        args.variants, args.cases, args.calls, args.blocks = "bare,wikitrace", ["chat"], 2, 2
    names = args.variants.split(",") if args.variants else list(VARIANTS)
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        print(f"unknown variants {unknown}; known: {', '.join(VARIANTS)}", file=sys.stderr)
        return 2
    names = ["bare", *[name for name in names if name != "bare"]]
    record = run_all(names, args)
    record |= instruction_tables.summarize(record["variants"])
    print(instruction_tables.render(record))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        print(f"wrote {args.json}")
    return 0 if record["variants"]["bare"]["status"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
