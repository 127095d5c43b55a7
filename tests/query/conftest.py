"""Fixtures for the query tests: stores written by the real pipeline.

- ``store_dir``: an empty directory for a store.
- ``tracer_provider`` (overrides the shared one): a real SDK provider with the session processor,
  the file exporter writing to ``store_dir`` and the shared in-memory exporter (``span_exporter``),
  so tests compare what the query engine returns with what the SDK produced.
- ``agent``: runs a small traced agent (an agent span, two OpenAI chat calls through the real SDK
  against the fake server, a tool span) in a ``wikitrace_otel.session``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from query_support import AgentRun

import wikitrace_otel
from wikitrace_otel.exporters import FileSpanExporter
from wikitrace_otel.processors import SessionSpanProcessor
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer, FakeResponse


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    path.mkdir()
    return path


@pytest.fixture
def tracer_provider(store_dir: Path, span_exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider(resource=Resource.create({"service.name": "shop"}))
    provider.add_span_processor(SessionSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(store_dir)))
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def agent(
    instrument: Callable[..., Any], client: Any, tracer_provider: TracerProvider, fake_openai: FakeOpenAIServer
) -> AgentRun:
    """``agent(question, user=, session_id=, fail=False, model=)``: run one traced agent; returns its trace id."""
    instrument(capture_content="SPAN_ONLY")
    tracer = tracer_provider.get_tracer("shop-agent")

    def run(question: str, *, user: str, session_id: str, fail: bool = False, model: str = "gpt-4o-mini") -> str:
        import openai

        attributes = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "support"}
        tool = {"gen_ai.operation.name": "execute_tool"}
        error = FakeResponse.error(500, "upstream broke", code="server_error", type_="server_error")
        with (
            wikitrace_otel.session(id=session_id, user=user),
            tracer.start_as_current_span("invoke_agent support", attributes=attributes) as root,
        ):
            messages = [{"role": "user", "content": question}]
            client.chat.completions.create(model=model, messages=messages)
            with tracer.start_as_current_span("execute_tool find_store", attributes=tool):
                pass
            if fail:
                fake_openai.enqueue(error)
            with contextlib.suppress(openai.APIError):
                client.chat.completions.create(model=model, messages=[*messages, {"role": "user", "content": "and?"}])
            return format(root.get_span_context().trace_id, "032x")

    return run
