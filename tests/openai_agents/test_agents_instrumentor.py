"""``OpenAIAgentsInstrumentor``: the processor added next to the application's own, removed
exactly, never twice, and never doubling spans with one registered by hand."""

from __future__ import annotations

import json
from collections import Counter
from importlib.metadata import entry_points
from typing import Any

import pytest
from agents_support import AGENT, UserProcessor, paths
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from wikitrace_otel import _install
from wikitrace_otel.integrations.openai_agents import OpenAIAgentsInstrumentor, WikitraceTracingProcessor
from wikitrace_otel.semconv import gen_ai as g

ONE_RUN = Counter({"invoke_workflow Agent workflow": 1, AGENT: 1, f"{AGENT}/chat gpt-4o-mini-2026-01-01": 1})


async def run_once(agents_sdk: Any) -> None:
    agent = agents_sdk.Agent(name="support-agent", instructions="Help.", model="gpt-4o-mini")
    result = await agents_sdk.Runner.run(agent, "Where is the Paris store?")
    assert result.final_output == "Hello from responses"


def registered() -> tuple[Any, ...]:
    """The SDK's processors, in order (the default provider keeps them in a tuple)."""
    from agents.tracing import get_trace_provider

    return tuple(get_trace_provider()._multi_processor._processors)


def exporter_of(provider: TracerProvider) -> InMemorySpanExporter:
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


async def test_instrument_adds_the_processor_next_to_the_applications(
    agents_sdk: Any, instrument_agents: Any, user_processor: UserProcessor, span_exporter: Any, ends: Any
) -> None:
    instrument_agents()

    await run_once(agents_sdk)

    assert paths(span_exporter.get_finished_spans()) == ONE_RUN
    assert user_processor.traces == ["Agent workflow"]
    assert user_processor.spans > 0
    ends.check(span_exporter)


async def test_uninstrument_removes_only_ours(
    agents_sdk: Any, instrument_agents: Any, user_processor: UserProcessor, span_exporter: Any
) -> None:
    instrument_agents()
    (mine, ours) = registered()
    assert mine is user_processor
    assert isinstance(ours, WikitraceTracingProcessor)
    OpenAIAgentsInstrumentor().uninstrument()  # a fresh handle on the singleton
    assert registered() == (user_processor,)

    await run_once(agents_sdk)

    assert span_exporter.get_finished_spans() == ()
    assert user_processor.traces == ["Agent workflow"]  # the application's processor stays
    instrument_agents()
    await run_once(agents_sdk)
    assert paths(span_exporter.get_finished_spans()) == ONE_RUN
    assert user_processor.traces == ["Agent workflow", "Agent workflow"]


async def test_instrumenting_twice_adds_one_processor(
    agents_sdk: Any, instrument_agents: Any, span_exporter: Any
) -> None:
    instrument_agents()
    instrument_agents()
    OpenAIAgentsInstrumentor().instrument()
    assert len(registered()) == 2  # the application's and ours

    await run_once(agents_sdk)

    assert paths(span_exporter.get_finished_spans()) == ONE_RUN


async def test_settings_reach_the_processor(agents_sdk: Any, instrument_agents: Any, span_exporter: Any) -> None:
    instrument_agents(capture_content="SPAN_ONLY")

    await run_once(agents_sdk)

    (chat,) = [span for span in span_exporter.get_finished_spans() if span.name.startswith("chat ")]
    first = json.loads((chat.attributes or {})[g.GEN_AI_INPUT_MESSAGES])[0]
    assert first["parts"][0]["content"] == "Where is the Paris store?"


def test_a_bad_setting_fails_at_instrument(instrument_agents: Any) -> None:
    with pytest.raises(ValueError, match="capture_content"):
        instrument_agents(capture_content="sometimes")


@pytest.mark.parametrize("hand_first", [True, False], ids=["hand-then-instrument", "instrument-then-hand"])
async def test_a_processor_added_by_hand_as_well_doubles_nothing(
    agents_sdk: Any, instrument_agents: Any, span_exporter: Any, hand_first: bool
) -> None:
    hand_provider = TracerProvider()
    hand_spans = exporter_of(hand_provider)
    hand = WikitraceTracingProcessor(tracer_provider=hand_provider)
    if hand_first:
        agents_sdk.add_trace_processor(hand)
    instrument_agents()
    if not hand_first:
        agents_sdk.add_trace_processor(hand)

    await run_once(agents_sdk)
    await run_once(agents_sdk)

    # The processor registered first records every trace; the other records none.
    recorded, idle = (hand_spans, span_exporter) if hand_first else (span_exporter, hand_spans)
    assert paths(recorded.get_finished_spans()) == ONE_RUN + ONE_RUN
    assert idle.get_finished_spans() == ()
    OpenAIAgentsInstrumentor().uninstrument()
    await run_once(agents_sdk)
    # Without ours, the hand-registered processor records the next trace in any order.
    assert len(hand_spans.get_finished_spans()) == (9 if hand_first else 3)
    hand_provider.shutdown()


async def test_a_trace_in_flight_at_uninstrument_still_ends_its_spans(
    agents_sdk: Any, instrument_agents: Any, user_processor: UserProcessor, span_exporter: Any, ends: Any
) -> None:
    instrument_agents()
    agent = agents_sdk.Agent(name="support-agent", instructions="Help.", model="gpt-4o-mini")

    with agents_sdk.trace("support"):
        await agents_sdk.Runner.run(agent, "first")
        OpenAIAgentsInstrumentor().uninstrument()
        assert len(registered()) == 2  # kept until the trace it records ends
        await agents_sdk.Runner.run(agent, "second")  # same trace: still recorded
    assert registered() == (user_processor,)
    await agents_sdk.Runner.run(agent, "third")  # a new trace: not recorded

    names = paths(span_exporter.get_finished_spans())
    assert names["invoke_workflow support"] == 1
    assert names["invoke_workflow support/invoke_agent support-agent"] == 2
    assert sum(names.values()) == 5
    assert user_processor.traces == ["support", "Agent workflow"]
    ends.check(span_exporter)


def test_registered_for_install_and_zero_code() -> None:
    path = "wikitrace_otel.integrations.openai_agents:OpenAIAgentsInstrumentor"
    assert _install.INSTRUMENTORS["openai_agents"] == ("agents", path)
    assert _install._instrument_names(["openai-agents", "openai_agents"]) == ["openai_agents"]
    (point,) = [p for p in entry_points(group="opentelemetry_instrumentor") if p.name == "openai_agents"]
    assert point.load() is OpenAIAgentsInstrumentor
    assert OpenAIAgentsInstrumentor().instrumentation_dependencies() == ("openai-agents >= 0.2.9, < 1",)
