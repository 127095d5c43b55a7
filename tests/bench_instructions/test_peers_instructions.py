"""bench/peers/instructions.py: callgrind dumps read into instructions per call, the per-case
summary against the bare SDKs, and the child's counting loop run for real (without valgrind)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import callpath_instructions
import pytest
from peers import instruction_tables, instructions, orchestrate


def _dump(directory: Path, number: int, total: int, label: str | None) -> None:
    """One dump in callgrind's format; ``label`` None is the dump written at program exit."""
    trigger = f"Client Request: {label}" if label else "Program termination"
    (directory / f"callgrind.out.{number}").write_text(
        f"version: 1\ncreator: callgrind-3.19.0\npid: 7\ncmd: python -m peers.instructions\npart: {number}\n\n"
        f"desc: I1 cache: \ndesc: Timerange: Basic block 1 - 2\ndesc: Trigger: {trigger}\n\n"
        f"positions: line\nevents: Ir\nsummary: {total}\n\nfl=(1) x.c\nfn=(1) f\n0 {total}\n\ntotals: {total}\n"
    )


def test_each_client_request_dump_is_read_under_its_label(tmp_path: Path) -> None:
    _dump(tmp_path, 1, 1200, "chat:call:0")
    _dump(tmp_path, 2, 300, "chat:after:0")
    _dump(tmp_path, 3, 999, None)

    dumps = callpath_instructions.read_dumps(tmp_path)

    assert sorted(dumps) == ["chat:after:0", "chat:call:0"]
    assert callpath_instructions.dump_total(dumps["chat:call:0"]) == 1200


def test_counts_are_per_call_block_by_block_and_a_missing_dump_is_an_error(tmp_path: Path) -> None:
    totals = {"call": (1000, 1100), "after": (50, 70), "idle": (20, 20)}
    number = 0
    for phase, values in totals.items():
        for block, total in enumerate(values):
            number += 1
            _dump(tmp_path, number, total, f"chat:{phase}:{block}")
    result: dict[str, Any] = {
        "cases": {"chat": {"calls": 10, "blocks": 2}, "messages": {"calls": 10, "blocks": 1}},
    }

    instructions._counts(result, tmp_path)

    chat = result["cases"]["chat"]
    assert (chat["call"], chat["after"], chat["idle"]) == ([100, 110], [5, 7], [2, 2])
    assert "error" not in chat
    assert result["cases"]["messages"]["call"] == []
    assert "messages:call:0" in result["cases"]["messages"]["error"]


def _case(call: list[float], spans: float = 1.0, calls: int = 10) -> dict[str, Any]:
    blocks = len(call)
    return {
        "calls": calls,
        "blocks": blocks,
        "call": call,
        "after": [5.0] * blocks,
        "idle": [2.0] * blocks,
        "spans": [spans] * blocks,
        "genai_spans": [spans] * blocks,
    }


RUNS: dict[str, dict[str, Any]] = {
    "bare": {
        "status": "ok",
        "cases": {
            "chat": {**_case([1000.0, 1004.0, 1000.0], spans=0.0), "idle": [5.0] * 3},
            "messages": _case([800.0], spans=0.0),
            "plain_span": _case([100.0, 100.0, 102.0], calls=100),
        },
    },
    "wikitrace": {"status": "ok", "cases": {"chat": _case([1300.0, 1300.0, 1390.0]), "messages": _case([900.0])}},
    "otel-openai-v2": {"status": "ok", "cases": {"chat": _case([1500.0])}},
    "openinference": {"status": "ok", "cases": {"chat": _case([1010.0], spans=0.0), "messages": _case([810.0])}},
    "logfire": {"status": "FAILED", "reason": "setup: ModuleNotFoundError: No module named 'logfire'"},
}


def test_added_instructions_are_medians_against_the_bare_sdk_in_plain_spans() -> None:
    summary = instruction_tables.summarize(RUNS)

    assert summary["plain_span"] == 100.0
    chat = summary["cases"]["chat"]
    assert chat["bare"]["instructions"] == 1000.0
    assert "added" not in chat["bare"]
    ours = chat["wikitrace"]
    assert (ours["instructions"], ours["added"], ours["plain_spans"]) == (1300.0, 300.0, 3.0)
    # after = (after - idle) per call: 3 for the variant, 0 for the bare SDKs.
    assert (ours["after"], ours["after_added"], ours["added_with_after"]) == (3.0, 3.0, 303.0)
    assert ours["plain_spans_with_after"] == pytest.approx(3.03)
    assert (ours["collect_fixed"], ours["spread"], ours["spans_per_call"]) == (20.0, 90.0, 1.0)
    assert ours["status"] == "ok"


def test_a_case_without_spans_reads_not_instrumenting_and_a_failed_variant_keeps_its_reason() -> None:
    summary = instruction_tables.summarize(RUNS)

    assert summary["cases"]["chat"]["openinference"]["status"] == "not instrumenting"
    assert summary["cases"]["messages"]["openinference"]["status"] == "ok"
    assert summary["cases"]["chat"]["logfire"]["status"].startswith("FAILED: setup: ModuleNotFoundError")
    assert "otel-openai-v2" not in summary["cases"]["messages"]
    assert "plain_span" not in summary["cases"]


def test_the_tables_show_every_variant_and_who_does_not_cover_a_case() -> None:
    record = {"settings": {"blocks": 3, "calls_per_block": 10}, "variants": RUNS}
    record |= instruction_tables.summarize(RUNS)

    text = instruction_tables.render(record)

    chat = text.split("\nchat: ", 1)[1].split("\n\n", 1)[0]
    assert [line.split()[0] for line in chat.splitlines()[2:]] == [
        "bare",
        "wikitrace",
        "otel-openai-v2",
        "openinference",
        "logfire",
    ]
    assert "not instrumenting" in chat
    assert "not covering this case: otel-openai-v2" in text.split("\nmessages: ", 1)[1]
    assert "FAILED logfire" in text


def _child(tmp_path: Path, variant: str) -> dict[str, Any]:
    """The child as the parent starts it, minus valgrind and the helper: counting is a no-op."""
    out = tmp_path / f"{variant}.json"
    command = [sys.executable, "-m", "peers.instructions", "--child", variant, "--out", str(out)]
    command += ["--calls", "2", "--blocks", "2", "--cases", "chat", "messages"]
    env = {**orchestrate._worker_environment(), "WIKITRACE_RAISE_INTERNAL_ERRORS": "true"}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(out.read_text())


def test_the_child_counts_every_case_and_the_spans_each_call_made(tmp_path: Path) -> None:
    bare, ours = _child(tmp_path, "bare"), _child(tmp_path, "wikitrace")

    assert bare["ok"] and ours["ok"]
    assert list(bare["cases"]) == ["chat", "messages", "plain_span"]
    assert bare["cases"]["chat"]["spans"] == [0.0, 0.0]
    assert bare["cases"]["plain_span"]["calls"] == instructions.PLAIN_SPAN_CALLS
    assert bare["cases"]["plain_span"]["spans"] == [1.0, 1.0]
    assert list(ours["cases"]) == ["chat", "messages"]
    for case in ours["cases"].values():
        assert "error" not in case
        assert (case["blocks"], case["spans"], case["genai_spans"]) == (2, [1.0, 1.0], [1.0, 1.0])
    assert ours["cases"]["chat"]["scopes"] == ["wikitrace_otel.instrumentors.openai"]
    assert ours["versions"]["openai"]
