"""Fixtures for the OpenAI Agents SDK tests: the processor registered as the SDK's only trace
processor, the SDK pointed at the fake OpenAI server (Responses API)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest

agents = pytest.importorskip("agents")

from agents_support import UserProcessor  # noqa: E402
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor  # noqa: E402

from sdk_support import instrumenting  # noqa: E402
from wikitrace_otel.integrations.openai_agents import OpenAIAgentsInstrumentor, WikitraceTracingProcessor  # noqa: E402


@pytest.fixture
def register(tracer_provider: Any, meter_provider: Any, logger_provider: Any) -> Iterator[Callable[..., Any]]:
    """Make a processor with the test providers the SDK's only trace processor."""

    def _register(**kwargs: Any) -> WikitraceTracingProcessor:
        processor = WikitraceTracingProcessor(
            tracer_provider=tracer_provider, meter_provider=meter_provider, logger_provider=logger_provider, **kwargs
        )
        agents.set_trace_processors([processor])
        return processor

    yield _register
    agents.set_trace_processors([])


@pytest.fixture
def agents_sdk(async_client: Any) -> Iterator[Any]:
    """The SDK using this test's client on the fake server, through the Responses API."""
    agents.set_default_openai_client(async_client, use_for_tracing=False)
    agents.set_default_openai_api("responses")
    yield agents
    agents.set_default_openai_api("responses")


class EndCounter(SpanProcessor):
    """Counts ``on_end`` per span id, to show every span ended exactly once."""

    def __init__(self) -> None:
        self.ends: Counter[int] = Counter()

    def on_end(self, span: ReadableSpan) -> None:
        assert span.context is not None
        self.ends[span.context.span_id] += 1

    def check(self, exporter: Any) -> None:
        spans = exporter.get_finished_spans()
        assert spans
        assert dict(self.ends) == {s.context.span_id: 1 for s in spans}


@pytest.fixture
def ends(tracer_provider: Any) -> EndCounter:
    counter = EndCounter()
    tracer_provider.add_span_processor(counter)
    return counter


@pytest.fixture
def user_processor() -> Iterator[UserProcessor]:
    """The application's own processor, the SDK's only one (in place of its exporter to OpenAI)."""
    processor = UserProcessor()
    agents.set_trace_processors([processor])
    yield processor
    agents.set_trace_processors([])


@pytest.fixture
def instrument_agents(
    user_processor: UserProcessor, tracer_provider: Any, meter_provider: Any, logger_provider: Any
) -> Iterator[Callable[..., OpenAIAgentsInstrumentor]]:
    """``instrument(**kwargs)`` with the test providers; uninstrumented after the test."""
    yield from instrumenting(OpenAIAgentsInstrumentor, tracer_provider, meter_provider, logger_provider)
