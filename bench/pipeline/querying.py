"""Query latency and peak RSS at 10^5, 10^6 and 10^7 stored spans.

The store is the one ``bench/query.py`` generates (agent traces of about 7.5 spans as OTLP JSON
Lines, 4 services, 6 models, 300 users, 5,000 sessions; one chat call in five with captured
content), and the steps are its steps, each in a fresh process: a full index build from nothing,
then the queries (``stats --by model|user|day``, ``show``, first ``traces`` page, ``traces``
filtered by model, by user and error status, by time, and by text), medians of repeated runs.

Generating 10^7 spans writes about 5 GB and indexing them takes a long time, so ``--store-cache``
keeps generated stores (``<cache>/spans-<count>/``) for later runs: a kept store is reused as is
and only its index is rebuilt.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import query as engine

MARKER = "generated.json"


def _store(spans: int, cache: Path | None) -> tuple[Path, dict[str, Any]]:
    """A generated store of about ``spans`` spans: (its root, how it was generated)."""
    root = cache / f"spans-{spans}" if cache else Path(tempfile.mkdtemp(prefix="wikitrace-pipeline-"))
    marker = root / MARKER
    if marker.exists():
        made = json.loads(marker.read_text())
        made["reused"] = True
        return root, made
    if root.exists():  # a generation that did not finish
        shutil.rmtree(root)
    root.mkdir(parents=True)
    started = time.perf_counter()
    written = engine.generate(root, spans, "jsonl")
    made = {"spans": written, "seconds": time.perf_counter() - started}
    marker.write_text(json.dumps(made))
    return root, {**made, "reused": False}


def _step(step: str, root: Path) -> dict[str, Any]:
    try:
        return engine._child(step, root)
    except SystemExit as failed:  # the step's stderr: keep the figures of the other sizes
        return {"error": str(failed)[-2000:]}


def run(spans: int, cache: Path | None) -> dict[str, Any]:
    """Generate (or reuse) a store, build its index from nothing, then time the queries."""
    root, made = _store(spans, cache)
    try:
        shutil.rmtree(root / "index", ignore_errors=True)
        case: dict[str, Any] = {"spans": made["spans"], "generate": made}
        case["store_mb"] = sum(path.stat().st_size for path in root.glob("*.jsonl")) / 2**20
        case["index"] = _step("index", root)
        if "error" not in case["index"]:
            case["query"] = _step("query", root)
        return case
    finally:
        if cache is None:
            shutil.rmtree(root, ignore_errors=True)
        else:  # the index of a kept store is rebuilt by the next run anyway
            shutil.rmtree(root / "index", ignore_errors=True)
