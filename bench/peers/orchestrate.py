"""Starts one worker per variant and interleaves their timed blocks, round by round.

Each round goes case by case; for each case it visits every live worker that covers it, in a
freshly shuffled order, and asks it for one block of ``calls`` calls. The bare worker's block
of the same case and round is the reference for the paired differences, so slow drift in the
machine's speed affects both sides of a pair alike.
A worker that fails to start, or dies, is reported as FAILED with its reason and the end of
its log; the others go on.
"""

from __future__ import annotations

import json
import os
import random
import select
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from peers.environment import PeerEnvironment
from peers.variants import PLAIN_SPAN, VARIANTS, Variant

BENCH = Path(__file__).resolve().parents[1]
SETUP_TIMEOUT_S = 180.0
Environments = dict[str, PeerEnvironment | str]
CASE_GROUPS = (
    ("chat",),
    ("stream_1", "stream_20"),
    ("embeddings",),
    ("messages",),
    ("messages_stream_1", "messages_stream_20"),
    (PLAIN_SPAN,),
)
BLOCK_TIMEOUT_S = 600.0


@dataclass
class VariantRun:
    """What one variant did over the run."""

    variant: Variant
    status: str = "ok"  # "ok" or "FAILED"
    reason: str = ""
    cases: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    rounds: list[dict[str, Any]] = field(default_factory=list)  # one {case: result} per round


class Worker:
    """A worker process and its JSON-lines pipe."""

    def __init__(self, variant: Variant, python: Path, log_dir: Path, workdir: Path) -> None:
        self.log_path = log_dir / f"{variant.name}.log"
        self.log: IO[str] = self.log_path.open("w")
        self.process = subprocess.Popen(
            [str(python), "-m", "peers.worker", variant.name],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            cwd=workdir,
            env=_worker_environment(),
            text=True,
        )

    def receive(self, timeout: float) -> dict[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        ready, _, _ = select.select([stdout], [], [], timeout)
        line = stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"no answer (exit code {self.process.poll()}); {self.log_tail()}")
        return json.loads(line)

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def log_tail(self) -> str:
        self.log.flush()
        lines = [line for line in self.log_path.read_text(errors="replace").splitlines() if line.strip()]
        return "log: " + " | ".join(lines[-3:])[-400:] if lines else "empty log"

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self.send({"quit": True})
                self.process.wait(timeout=20)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self.log.close()


def _worker_environment() -> dict[str, str]:
    """This process's environment without OTel / wikitrace / vendor settings that could send
    spans somewhere or change a variant's defaults."""
    prefixes = ("OTEL_", "WIKITRACE_", "LOGFIRE_", "LANGFUSE_", "TRACELOOP_", "ANTHROPIC_", "OPENAI_", "OPENINFERENCE_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(prefixes)}
    env["PYTHONPATH"] = str(BENCH)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _start(names: list[str], envs: Environments, log_dir: Path, workdir: Path) -> tuple:
    runs: dict[str, VariantRun] = {}
    workers: dict[str, Worker] = {}
    for name in names:
        variant = VARIANTS[name]
        runs[name] = VariantRun(variant)
        env = envs[variant.group]
        if isinstance(env, str):
            runs[name].status, runs[name].reason = "FAILED", f"venv: {env}"
            continue
        broken = [f"{line}: {why}" for line, why in env.failed.items() if line.split("==")[0] in variant.packages]
        if broken:
            runs[name].status, runs[name].reason = "FAILED", "install failed: " + "; ".join(broken)
            continue
        workers[name] = Worker(variant, env.python, log_dir, workdir)
    for name, worker in list(workers.items()):
        try:
            hello = worker.receive(SETUP_TIMEOUT_S)
        except RuntimeError as error:
            hello = {"ok": False, "error": str(error)}
        if not hello.get("ok"):
            runs[name].status, runs[name].reason = "FAILED", "setup: " + hello.get("error", "?")
            worker.stop()
            del workers[name]
            continue
        runs[name].cases, runs[name].versions = hello["cases"], hello["versions"]
    return runs, workers


def _block(worker: Worker, case: str, calls: int) -> dict[str, Any]:
    worker.send({"case": case, "calls": calls})
    return worker.receive(BLOCK_TIMEOUT_S)["result"]


def run(envs: Environments, names: list[str], rounds: int, calls: int, log_dir: Path) -> dict[str, VariantRun]:
    """Runs ``rounds`` interleaved rounds over the variants ``names``; returns what each did.

    ``envs`` maps each variant group to its ready venv, or to why it could not be made."""
    log_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wikitrace-peers-") as workdir:
        started = time.monotonic()
        runs, workers = _start(names, envs, log_dir, Path(workdir))
        print(f"  {len(workers)} workers ready in {time.monotonic() - started:.0f} s", flush=True)
        try:
            _rounds(runs, workers, rounds, calls)
        finally:
            started = time.monotonic()
            for worker in workers.values():
                worker.stop()
            print(f"  workers stopped in {time.monotonic() - started:.0f} s", flush=True)
    return runs


def _rounds(runs: dict[str, VariantRun], workers: dict[str, Worker], rounds: int, calls: int) -> None:
    """Case by case, every worker's block in a shuffled order, so the blocks paired against the
    bare worker's run within moments of it. The short and the long stream run back to back in
    each worker, so the per-chunk slope compares neighbouring blocks."""
    started = time.monotonic()
    for number in range(-1, rounds):  # round -1 warms every worker up and is not kept
        results: dict[str, dict[str, Any]] = {name: {} for name in workers}
        for group in CASE_GROUPS:
            order = [name for name in workers if group[0] in runs[name].cases]
            random.shuffle(order)
            for name in order:
                try:
                    for case in group:
                        results[name][case] = _block(workers[name], case, calls)
                except RuntimeError as error:
                    runs[name].status, runs[name].reason = "FAILED", f"died in round {number}: {error}"
                    workers.pop(name).stop()
        if number >= 0:
            for name in workers:
                runs[name].rounds.append(results[name])
        if number in (0, rounds - 1) or number % 10 == 9:
            print(f"  round {number + 1}/{rounds} done, {time.monotonic() - started:.0f} s", flush=True)
