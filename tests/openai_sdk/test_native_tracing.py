"""Canary: the OpenAI SDK does not trace itself (yet).

Anthropic's SDK started emitting its own span per call whenever a global tracer provider
exists; every third-party instrumentor then produced two spans per call. If an OpenAI SDK
release does the same, these tests fail loudly: the instrumentor must then switch the SDK's
spans off for the calls it traces (as ``wikitrace_otel.instrumentors.anthropic.native`` does).
A subprocess gives the SDK a real global tracer provider, which a test process cannot reset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

_SCRIPT = r"""
import json, sys
import openai
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from wikitrace_otel.instrumentors.openai import OpenAIInstrumentor
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
scopes = {}
with FakeOpenAIServer() as server:
    with openai.OpenAI(api_key="sk-test", base_url=server.base_url, max_retries=0) as client:
        def calls():
            client.chat.completions.create(model="gpt-fake", messages=[{"role": "user", "content": "Hi"}])
            for _ in client.chat.completions.create(
                model="gpt-fake", messages=[{"role": "user", "content": "Hi"}], stream=True
            ):
                pass
            client.responses.create(model="gpt-fake", input="Hi")
            client.embeddings.create(model="emb-fake", input="Hi")
        calls()
        scopes["plain"] = [s.instrumentation_scope.name for s in exporter.get_finished_spans()]
        exporter.clear()
        OpenAIInstrumentor().instrument()
        calls()
        scopes["instrumented"] = [s.instrumentation_scope.name for s in exporter.get_finished_spans()]
        OpenAIInstrumentor().uninstrument()
print(json.dumps({"version": openai.__version__, **scopes}))
"""


def _run(tmp_path: Path) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "WIKITRACE_", "OPENAI_"))}
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_openai_sdk_emits_no_spans_of_its_own(tmp_path: Path) -> None:
    report = _run(tmp_path)
    assert report["plain"] == [], (
        f"openai {report['version']} now emits its own spans ({report['plain']}): switch them off for the "
        "calls OpenAIInstrumentor traces, as the Anthropic instrumentor does, or every call gets two spans"
    )
    assert report["instrumented"] == ["wikitrace_otel.instrumentors.openai"] * 4
