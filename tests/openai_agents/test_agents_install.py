"""``install()`` and ``opentelemetry-instrument`` in a fresh interpreter: an Agents SDK run is
traced with no processor registered by hand, and the SDK is not imported before the
application imports it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sdk_support import clean_env, instrument_command
from wikitrace_otel.store import read_spans
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer

APP = """
import asyncio
import sys

{setup}
assert "agents" not in sys.modules, "the SDK was imported before the application imported it"
import agents
import openai

client = openai.AsyncOpenAI(base_url="{base_url}", api_key="sk-test", max_retries=0)
agents.set_default_openai_client(client, use_for_tracing=False)
agents.set_default_openai_api("responses")
agent = agents.Agent(name="support-agent", instructions="Help.", model="gpt-4o-mini")
print(asyncio.run(agents.Runner.run(agent, "Hi")).final_output)
"""
INSTALL = 'import wikitrace_otel\ninstallation = wikitrace_otel.install("agents-app", store="{store}")'
EXPECTED = {
    "invoke_workflow Agent workflow": None,
    "invoke_agent support-agent": "invoke_workflow Agent workflow",
    # The OpenAI instrumentor traces the model call: its span, under the agent, is the record.
    "chat gpt-4o-mini": "invoke_agent support-agent",
}


def run(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


def environment(server: FakeOpenAIServer, **extra: str) -> dict[str, str]:
    env = clean_env(server, **extra)
    env.pop("OPENAI_API_KEY", None)  # the SDK's own exporter then sends nothing anywhere
    return env


def tree(store: Path) -> dict[str, str | None]:
    spans = list(read_spans(store))
    names = {span.span_id: span.name for span in spans}
    assert len(names) == len(spans) == len({span.name for span in spans})
    return {span.name: names.get(span.parent_span_id or "") for span in spans}


def test_install_traces_an_agent_run(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    store = tmp_path / "store"
    setup = INSTALL.format(store=store)
    (tmp_path / "app.py").write_text(textwrap.dedent(APP.format(setup=setup, base_url=fake_openai.base_url)))

    out = run([sys.executable, "app.py"], tmp_path, environment(fake_openai))

    assert out.strip() == "Hello from responses"
    assert tree(store) == EXPECTED


def test_opentelemetry_instrument_traces_an_agent_run(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    store = tmp_path / "store"
    (tmp_path / "app.py").write_text(textwrap.dedent(APP.format(setup="", base_url=fake_openai.base_url)))

    run([*instrument_command(), "app.py"], tmp_path, environment(fake_openai, WIKITRACE_DIR=str(store)))

    assert tree(store) == EXPECTED
