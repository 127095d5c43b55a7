"""The query commands, run in-process through ``wikitrace_otel.cli.main`` (and once as a real process)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from query_support import AgentRun, hex_id, sdk_attributes
from test_index import make_spans

from wikitrace_otel.cli import main
from wikitrace_otel.exporters import FileSpanExporter
from wikitrace_otel.store import read_spans
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer


@pytest.fixture
def two_traces(agent: AgentRun) -> list[str]:
    return [
        agent("Where is the Paris store?", user="alice", session_id="s-1"),
        agent("Can I return shoes?", user="bob", session_id="s-2", fail=True),
    ]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_traces(two_traces: list[str], store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "traces", "--store", str(store_dir))
    assert status == 0
    header, newest, oldest = out.splitlines()
    assert header.split()[:4] == ["START", "(UTC)", "TRACE", "ROOT"]
    assert two_traces[1] in newest and "error (1)" in newest and "bob" in newest
    assert two_traces[0] in oldest and " ok " in oldest and "gpt-4o-mini" in oldest

    status, out, _ = run(capsys, "traces", "--store", str(store_dir), "--user", "alice", "--json")
    assert status == 0 and [trace["trace_id"] for trace in json.loads(out)] == two_traces[:1]
    status, out, _ = run(capsys, "traces", "--store", str(store_dir), "--search", "nothing like this")
    assert (status, out) == (0, "no trace matches\n")


def test_show(
    two_traces: list[str], store_dir: Path, capsys: pytest.CaptureFixture[str], span_exporter: InMemorySpanExporter
) -> None:
    status, out, _ = run(capsys, "show", two_traces[1], "--store", str(store_dir))
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith(f"trace {two_traces[1]}")
    tree = [line.split("|")[2].strip() for line in lines if line.count("|") == 2]
    assert tree[0] == "invoke_agent support"
    assert tree[1].startswith("├─ chat gpt-4o-mini") and "11 in / 7 out" in tree[1] and "$" in tree[1]
    assert tree[2] == "├─ execute_tool find_store"
    assert tree[3].startswith("└─ chat gpt-4o-mini") and "ERROR" in tree[3]
    assert lines[-1].startswith("2 model calls, 18 tokens, cost $") and lines[-1].endswith("1 error")

    status, out, _ = run(capsys, "show", two_traces[1], "--store", str(store_dir), "--json")
    spans = json.loads(out)
    sdk = {hex_id(span.context.span_id, 16): span for span in span_exporter.get_finished_spans()}
    assert status == 0 and len(spans) == 4
    assert all(span["attributes"] == sdk_attributes(sdk[span["span_id"]]) for span in spans)


def test_stats(two_traces: list[str], store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = run(capsys, "stats", "--store", str(store_dir), "--by", "user")
    assert status == 0
    header, *rows = out.splitlines()
    assert header.split() == ["USER", "CALLS", "ERRORS", "INPUT", "OUTPUT", "COST", "P50", "P95", "P99"]
    assert sorted(row.split()[:3] for row in rows) == [["alice", "2", "0.0%"], ["bob", "2", "50.0%"]]
    status, out, _ = run(capsys, "stats", "--store", str(store_dir), "--json", "--since", "1h", "--user", "bob")
    (row,) = json.loads(out)
    assert status == 0 and (row["key"], row["calls"], row["errors"]) == ("gpt-4o-mini", 2, 1)


def test_tail_prints_recent_then_new_spans(store_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    FileSpanExporter(store_dir).export(make_spans(2))
    status, out, _ = run(capsys, "tail", "--store", str(store_dir), "-n", "3", "--stop-after", "0", "--json")
    assert status == 0 and len(out.splitlines()) == 3
    status, out, _ = run(capsys, "tail", "--store", str(store_dir), "-n", "1", "--stop-after", "0", "--status", "error")
    assert status == 0 and "ERROR boom" in out


def test_tail_follows(store_dir: Path) -> None:
    FileSpanExporter(store_dir).export(make_spans(1))
    command = [
        sys.executable,
        "-m",
        "wikitrace_otel",
        "tail",
        "--store",
        str(store_dir),
        "-n",
        "0",
        "--interval",
        "0.1",
    ]
    follower = subprocess.Popen([*command, "--stop-after", "20", "--json"], stdout=subprocess.PIPE, text=True)
    stop = threading.Event()

    def write_late_spans() -> None:  # until the follower prints: it may start after the first ones
        exporter = FileSpanExporter(store_dir)
        while not stop.wait(0.3):
            exporter.export(make_spans(1, service="late"))

    writer = threading.Thread(target=write_late_spans)
    writer.start()
    try:
        assert follower.stdout is not None
        first = json.loads(follower.stdout.readline())
        assert first["service"] == "late"
    finally:
        stop.set()
        writer.join()
        follower.kill()
        follower.communicate()


@pytest.mark.parametrize("form", ["otlp-json", "json", "csv"])
def test_export(
    form: str, two_traces: list[str], store_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "export.jsonl"
    target.parent.mkdir()
    status, out, err = run(
        capsys, "export", "--store", str(store_dir), "--format", form, "-o", str(target), "--user", "bob"
    )
    assert (status, out, err) == (0, "", "exported 4 spans\n")
    text = target.read_text()
    if form == "otlp-json":
        spans = list(read_spans(target))
        assert {span.trace_id for span in spans} == {two_traces[1]}
        original = {span.span_id: span for span in read_spans(store_dir) if span.trace_id == two_traces[1]}
        assert {span.span_id: span for span in spans} == original  # every field, the JSONL store's own reader
        status, out, _ = run(capsys, "traces", "--store", str(target.parent), "--json")  # the export is a store
        assert [trace["trace_id"] for trace in json.loads(out)] == two_traces[1:]
    elif form == "json":
        assert {span["trace_id"] for span in json.loads(text)} == {two_traces[1]}
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 4 and {row["UserId"] for row in rows if row["UserId"]} == {"bob"}


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["show", "0" * 32], 1, "no trace 00000000000000000000000000000000 in the store"),
        (["show", "xyz"], 2, "not a trace id: 'xyz'"),
        (["traces", "--since", "yesterday"], 2, "bad since: not a time: 'yesterday'"),
        (["traces", "--limit", "0"], 2, "limit must be"),
        (["traces", "--tenant", "../etc"], 2, "bad tenant name"),
        (["stats", "--tenant", "nobody"], 2, "no span store at"),
    ],
)
def test_errors(
    two_traces: list[str],
    store_dir: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
    message: str,
) -> None:
    code, out, err = run(capsys, *argv, "--store", str(store_dir))
    assert (code, out) == (status, "")
    assert message in err and err.count("\n") == 1


def test_empty_and_missing_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "traces", "--store", str(tmp_path))[::2] == (
        1,
        f"wikitrace-otel traces: the store at {tmp_path} holds no spans yet\n",
    )
    assert run(capsys, "stats", "--store", str(tmp_path / "nope"))[0] == 2


def test_tenant_and_default_store(
    store_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    FileSpanExporter(store_dir / "tenants" / "acme").export(make_spans(1, service="acme-app"))
    FileSpanExporter(store_dir).export(make_spans(1, service="root-app"))
    monkeypatch.setenv("WIKITRACE_DIR", str(store_dir))
    status, out, _ = run(capsys, "traces", "--tenant", "acme", "--json")
    assert status == 0 and [trace["service"] for trace in json.loads(out)] == ["acme-app"]
    status, out, _ = run(capsys, "traces", "--json")
    assert status == 0 and [trace["service"] for trace in json.loads(out)] == ["root-app"]


SMOKE_APP = textwrap.dedent(
    """
    import sys, openai, wikitrace_otel
    wikitrace_otel.install("smoke-app", store=sys.argv[1])
    client = openai.OpenAI(api_key="sk-test", base_url=sys.argv[2], max_retries=0)
    with wikitrace_otel.session(user="dana"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    """
)


def test_installed_app_then_cli_in_real_processes(tmp_path: Path, fake_openai: FakeOpenAIServer) -> None:
    store = tmp_path / "store"
    subprocess.run([sys.executable, "-c", SMOKE_APP, str(store), fake_openai.base_url], check=True, timeout=60)
    done = subprocess.run(
        [sys.executable, "-m", "wikitrace_otel", "traces", "--store", str(store), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    (trace,) = json.loads(done.stdout)
    assert (trace["service"], trace["user_id"], trace["tokens"]) == ("smoke-app", "dana", 18)
    assert trace["models"] == ["gpt-4o-mini"]
