"""Every benchmark in one command: the side-by-side peers comparison (timed, then counted in
instructions), the pipeline and reliability.

    python bench/run.py                      # everything, about 10 minutes for the peers part
    python bench/run.py --only peers         # or instructions, pipeline, reliability (repeatable)
    python bench/run.py --quick              # a short smoke run of each part
    python bench/run.py --only peers --rounds 40 --calls 10 --variants bare,wikitrace,otel-genai
    python bench/run.py --markdown bench/results/peers.json   # the tables of a past run, as Markdown
    python bench/run.py --summarize bench/results/peers.json  # recompute it from peers-rounds.json

- **peers** creates ``bench/.venv-peers`` (``pip install -e`` of this checkout plus the peers
  pinned in ``bench/peers/requirements.txt``; reused while its requirements hash matches,
  ``--recreate`` rebuilds it; peers that cannot be installed with the others get their own
  ``bench/.venv-peers-<group>``), starts one worker process per variant, interleaves their timed
  blocks and writes ``bench/results/peers.json`` and ``peers-rounds.json``.
  See ``bench/peers/`` and the "Side by side" section of BENCHMARKS.md.
- **instructions** runs ``bench/peers/instructions.py --json bench/results/peers-instructions.json``:
  the same variants counted with callgrind (about 20 minutes; needs valgrind and a C compiler).
- **pipeline** runs ``bench/pipeline.py --json bench/results/pipeline.json``.
- **reliability** runs ``bench/reliability.py --json bench/results/reliability.json``.

``--quick`` passes each script its smoke-run flag (``--quick``, or ``--ci`` for the reliability
suite at CI size) and writes every JSON to ``$TMPDIR/wikitrace-bench-quick/`` instead, so a
smoke run never overwrites real figures.

A part that is missing, fails or exits non-zero is reported as FAILED, and the exit status is 1.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from peers import environment, orchestrate, report, tables  # noqa: E402
from peers.variants import VARIANTS  # noqa: E402

RESULTS = BENCH / "results"
PARTS = ("peers", "instructions", "pipeline", "reliability")
# The script of each part run as a subprocess, and the results file it writes.
SCRIPTS = {
    "instructions": ("peers/instructions.py", "peers-instructions.json"),
    "pipeline": ("pipeline.py", "pipeline.json"),
    "reliability": ("reliability.py", "reliability.json"),
}
DEFAULT_ROUNDS, DEFAULT_CALLS = 60, 10
QUICK_ROUNDS, QUICK_CALLS = 3, 5
QUICK_FLAGS = ("--quick", "--ci")


def machine() -> dict[str, Any]:
    """What the figures were measured on; the load average says how busy it was."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_at_start": load,
    }


def run_peers(args: argparse.Namespace) -> tuple[bool, str]:
    names = args.variants.split(",") if args.variants else list(VARIANTS)
    unknown = [name for name in names if name not in VARIANTS]
    if unknown:
        return False, f"unknown variants {unknown}; known: {', '.join(VARIANTS)}"
    if "bare" not in names:
        names.insert(0, "bare")  # every added figure is paired against it
    record: dict[str, Any] = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    record["machine"] = machine()
    envs = prepare_environments({VARIANTS[name].group for name in names}, args.recreate)
    record["environments"] = {
        str(environment.venv_path(group).relative_to(BENCH.parent)): (
            env if isinstance(env, str) else {"reused": env.reused, "failed_installs": env.failed}
        )
        for group, env in envs.items()
    }
    record["settings"] = {"rounds": args.rounds, "calls_per_case_per_round": args.calls, "quick": args.quick}
    print(f"peers: {len(names)} workers, {args.rounds} rounds of {args.calls} calls per case", flush=True)
    started = time.monotonic()
    runs = orchestrate.run(envs, names, args.rounds, args.calls, environment.venv_path() / "logs")
    record["seconds"] = round(time.monotonic() - started, 1)
    record["machine"]["load_average_at_end"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    raw = report.raw_from_runs(runs)
    record |= report.summarize(raw)
    print(tables.render(record))
    for line in tables.failures(record):
        print(line)
    path = results_dir(args.quick) / "peers.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    # Every round's figures, compact: `--summarize` recomputes the summary from them.
    rounds_path = path.with_name(path.stem + "-rounds.json")
    rounds_path.write_text(json.dumps({"record": path.name, "variants": raw}, separators=(",", ":")) + "\n")
    print(f"peers: wrote {path} and {rounds_path.name} in {record['seconds']:.0f} s")
    bare_ok = record["variants"].get("bare", {}).get("status") == "ok"
    return bare_ok, "" if bare_ok else "the bare SDK worker failed, so nothing could be compared"


def prepare_environments(groups: set[str], recreate: bool) -> orchestrate.Environments:
    """Each venv the selected variants need, or why it could not be made."""
    envs: orchestrate.Environments = {}
    for group in sorted(groups):
        try:
            envs[group] = environment.prepare(group, recreate=recreate)
        except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
            envs[group] = str(error)
    return envs


def resummarize(path: Path) -> None:
    """Recomputes the summary of ``path`` (e.g. bench/results/peers.json) from its rounds file."""
    record = json.loads(path.read_text())
    raw = json.loads(path.with_name(path.stem + "-rounds.json").read_text())["variants"]
    record |= report.summarize(raw)
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(tables.render(record))


def _accepts(script: Path, flag: str) -> bool:
    """Whether ``script --help`` mentions ``flag`` (the other scripts are written alongside)."""
    try:
        shown = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return re.search(rf"(?<![\w-]){re.escape(flag)}(?![\w-])", shown.stdout) is not None


def results_dir(quick: bool) -> Path:
    """bench/results, or for a smoke run a directory outside the checkout, so it never
    overwrites real figures."""
    path = Path(tempfile.gettempdir()) / "wikitrace-bench-quick" if quick else RESULTS
    path.mkdir(parents=True, exist_ok=True)
    return path


def run_script(part: str, quick: bool) -> tuple[bool, str]:
    path, results = SCRIPTS[part]
    script = BENCH / path
    if not script.exists():
        return False, f"{script.relative_to(BENCH.parent)} does not exist"
    command = [sys.executable, str(script), "--json", str(results_dir(quick) / results)]
    # The smoke-run flag of each script: --quick, or --ci for reliability.py (the CI size).
    flag = next((flag for flag in QUICK_FLAGS if quick and _accepts(script, flag)), None)
    if flag:
        command.append(flag)
    print(f"{part}: {' '.join(command[1:])}", flush=True)
    code = subprocess.run(command, cwd=BENCH.parent, check=False).returncode
    return code == 0, "" if code == 0 else f"exit status {code}"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--only", action="append", choices=PARTS, help="run only this part (repeatable)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run of every part")
    parser.add_argument("--rounds", type=int, default=None, help=f"peers: interleaved rounds ({DEFAULT_ROUNDS})")
    parser.add_argument("--calls", type=int, default=None, help=f"peers: calls per case per round ({DEFAULT_CALLS})")
    parser.add_argument("--variants", default="", help="peers: comma-separated subset (bare is always added)")
    parser.add_argument("--recreate", action="store_true", help="peers: rebuild the venv")
    parser.add_argument("--markdown", type=Path, help="print the tables of a peers JSON as Markdown, run nothing")
    parser.add_argument("--summarize", type=Path, help="recompute a peers JSON from its -rounds.json, run nothing")
    args = parser.parse_args(argv)
    args.rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    args.calls = args.calls or (QUICK_CALLS if args.quick else DEFAULT_CALLS)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    if args.markdown:
        print(tables.render(json.loads(args.markdown.read_text()), markdown=True))
        return 0
    if args.summarize:
        resummarize(args.summarize)
        return 0
    outcomes = {}
    for part in args.only or PARTS:
        outcomes[part] = run_peers(args) if part == "peers" else run_script(part, args.quick)
    print("\nsummary:")
    for part, (ok, reason) in outcomes.items():
        print(f"  {part:<12} {'ok' if ok else 'FAILED: ' + reason}")
    return 0 if all(ok for ok, _ in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
