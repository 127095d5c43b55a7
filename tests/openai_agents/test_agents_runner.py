"""The real Runner against the fake OpenAI server: workflow -> agent -> inference / tool, with
one inference span per model call (the OpenAI instrumentor's when it is on, ours when off)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from typing import Any

import pytest
from agents_support import AGENT, paths
from opentelemetry.trace import StatusCode

from wikitrace_otel.semconv import frameworks as f
from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.testing.fake_openai import FakeResponse
from wikitrace_otel.testing.fake_openai.responses_api import response_object

OPENAI_SCOPE = "wikitrace_otel.instrumentors.openai"
PROCESSOR_SCOPE = "wikitrace_otel.integrations.openai_agents"


def queue_tool_call_then_answer(fake_openai: Any) -> None:
    """First answer: call find_store; second: a plain message."""
    tools = [{"type": "function", "name": "find_store", "parameters": {}, "strict": True}]
    fake_openai.enqueue(FakeResponse.json(response_object({"model": "gpt-4o-mini", "tools": tools})))
    fake_openai.enqueue(FakeResponse.json(response_object({"model": "gpt-4o-mini"})))


def make_agent(agents_sdk: Any) -> Any:
    @agents_sdk.function_tool
    def find_store(city: str) -> str:
        """Find the store in a city."""
        return f"{city}: 12 Rue de Rivoli"

    return agents_sdk.Agent(name="support-agent", instructions="Help.", tools=[find_store], model="gpt-4o-mini")


@pytest.mark.parametrize("openai_on", [True, False], ids=["openai-instrumented", "openai-not-instrumented"])
async def test_runner_gives_one_tree(
    agents_sdk: Any, register: Any, instrument: Any, fake_openai: Any, span_exporter: Any, openai_on: bool, ends: Any
) -> None:
    if openai_on:
        instrument()
    register()
    queue_tool_call_then_answer(fake_openai)

    result = await agents_sdk.Runner.run(make_agent(agents_sdk), "Where is the Paris store?")

    assert result.final_output == "Hello from responses"
    spans = span_exporter.get_finished_spans()
    # The SDK's response span does not carry the request's model: ours is named after the
    # response's model.
    chat = "chat gpt-4o-mini" if openai_on else "chat gpt-4o-mini-2026-01-01"
    assert paths(spans) == Counter(
        {
            "invoke_workflow Agent workflow": 1,
            AGENT: 1,
            f"{AGENT}/{chat}": 2,
            f"{AGENT}/execute_tool find_store": 1,
        }
    )
    chats = [span for span in spans if span.name.startswith("chat ")]
    assert {span.instrumentation_scope.name for span in chats} == {OPENAI_SCOPE if openai_on else PROCESSOR_SCOPE}
    for span in chats:
        attributes = span.attributes or {}
        assert attributes[g.GEN_AI_PROVIDER_NAME] == "openai"
        assert attributes[g.GEN_AI_USAGE_INPUT_TOKENS] == 13
        assert attributes[g.GEN_AI_USAGE_OUTPUT_TOKENS] == 9
        assert attributes[g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 4
        assert attributes[g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 5
    assert len(fake_openai.requests) == 2
    ends.check(span_exporter)


async def test_concurrent_runs_keep_their_trees_apart(
    agents_sdk: Any, register: Any, instrument: Any, fake_openai: Any, span_exporter: Any, ends: Any
) -> None:
    instrument()
    register()
    agent = agents_sdk.Agent(name="support-agent", instructions="Help.", model="gpt-4o-mini")

    await asyncio.gather(*(agents_sdk.Runner.run(agent, f"question {i}") for i in range(3)))

    spans = span_exporter.get_finished_spans()
    assert paths(spans) == Counter({"invoke_workflow Agent workflow": 3, AGENT: 3, f"{AGENT}/chat gpt-4o-mini": 3})
    roots = [span for span in spans if span.parent is None]
    assert len({root.context.trace_id for root in roots}) == 3
    for span in spans:
        assert span.context.trace_id in {root.context.trace_id for root in roots}
    ends.check(span_exporter)


async def test_content_on_processor_spans(agents_sdk: Any, register: Any, fake_openai: Any, span_exporter: Any) -> None:
    register(capture_content="SPAN_ONLY")
    queue_tool_call_then_answer(fake_openai)

    await agents_sdk.Runner.run(make_agent(agents_sdk), "Where is the Paris store?")

    spans = {span.name: span for span in span_exporter.get_finished_spans()}
    tool = spans["execute_tool find_store"].attributes or {}
    assert json.loads(tool[g.GEN_AI_TOOL_CALL_ARGUMENTS]) == {"city": "Paris"}
    assert json.loads(tool[g.GEN_AI_TOOL_CALL_RESULT]) == "Paris: 12 Rue de Rivoli"
    first, second = sorted(
        (s for s in span_exporter.get_finished_spans() if s.name.startswith("chat")), key=lambda s: s.start_time
    )
    assert json.loads((first.attributes or {})[g.GEN_AI_OUTPUT_MESSAGES])[0]["parts"][0]["name"] == "find_store"
    history = json.loads((second.attributes or {})[g.GEN_AI_INPUT_MESSAGES])
    assert history[0] == {"role": "user", "parts": [{"type": "text", "content": "Where is the Paris store?"}]}
    assert history[-1]["role"] == "tool"


async def test_handoff_and_guardrail(agents_sdk: Any, register: Any, fake_openai: Any, span_exporter: Any) -> None:
    register()

    @agents_sdk.input_guardrail
    async def polite(ctx: Any, agent: Any, text: Any) -> Any:
        return agents_sdk.GuardrailFunctionOutput(output_info=None, tripwire_triggered=False)

    billing = agents_sdk.Agent(name="billing-agent", instructions="Billing.", model="gpt-4o-mini")
    triage = agents_sdk.Agent(
        name="triage-agent", instructions="Route.", handoffs=[billing], model="gpt-4o-mini", input_guardrails=[polite]
    )
    handoff_tool = [{"type": "function", "name": "transfer_to_billing_agent", "parameters": {}}]
    fake_openai.enqueue(FakeResponse.json(response_object({"model": "gpt-4o-mini", "tools": handoff_tool})))
    fake_openai.enqueue(FakeResponse.json(response_object({"model": "gpt-4o-mini"})))

    await agents_sdk.Runner.run(triage, "I was charged twice")

    spans = span_exporter.get_finished_spans()
    by_name = {span.name: span for span in spans}
    handoff = by_name["handoff"].attributes or {}
    assert handoff[f.OPENAI_AGENTS_HANDOFF_FROM] == "triage-agent"
    assert handoff[f.OPENAI_AGENTS_HANDOFF_TO] == "billing-agent"
    assert (by_name["guardrail polite"].attributes or {})[f.OPENAI_AGENTS_GUARDRAIL_TRIGGERED] is False
    assert {"invoke_agent triage-agent", "invoke_agent billing-agent"} <= set(by_name)


async def test_a_failing_tool_is_an_error_span(
    agents_sdk: Any, register: Any, fake_openai: Any, span_exporter: Any
) -> None:
    register()

    @agents_sdk.function_tool
    def find_store(city: str) -> str:
        """Find the store in a city."""
        raise ValueError("no store")

    agent = agents_sdk.Agent(name="support-agent", instructions="Help.", tools=[find_store], model="gpt-4o-mini")
    queue_tool_call_then_answer(fake_openai)
    await agents_sdk.Runner.run(agent, "Where is the Paris store?")

    (tool,) = [s for s in span_exporter.get_finished_spans() if s.name == "execute_tool find_store"]
    assert tool.status.status_code is StatusCode.ERROR
    assert (tool.attributes or {})[g.ERROR_TYPE]
