"""Content capture for the Responses API and legacy Completions: the exact messages on the span."""

from __future__ import annotations

from typing import Any

import pytest
from content_support import (
    CONTENT_KEYS,
    INPUT,
    OUTPUT,
    RESPONSES_TOOLS,
    SYSTEM,
    TOOL_DEFINITIONS,
    TOOL_DEFS,
    answer,
    text,
    tool_call,
)

from otel_helpers import json_attribute, only_span


def content_of(span: Any) -> dict[str, Any]:
    """The content attributes of a span, parsed."""
    return {key: json_attribute(span, key) for key in CONTENT_KEYS if key in (span.attributes or {})}


@pytest.fixture
def capturing(instrument) -> Any:
    return instrument(capture_content="SPAN_ONLY")


# --- Responses API ------------------------------------------------------------------------


def test_responses_string_input_and_instructions(capturing, client, span_exporter) -> None:
    client.responses.create(model="gpt-4o", input="Hi", instructions="Be brief.")

    assert content_of(only_span(span_exporter)) == {
        INPUT: [text("user", "Hi")],
        SYSTEM: [{"type": "text", "content": "Be brief."}],
        OUTPUT: [answer("Hello from responses")],
    }


def test_responses_item_list_with_function_call(capturing, client, span_exporter) -> None:
    items = [
        {"role": "developer", "content": "Answer in French."},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
    ]
    client.responses.create(model="gpt-4o", input=items)

    assert json_attribute(only_span(span_exporter), INPUT) == [
        text("developer", "Answer in French."),
        text("user", "Weather in Paris?"),
        {"role": "assistant", "parts": [tool_call("call_1")]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "sunny"}]},
    ]


def test_responses_history_with_previous_output_items(capturing, client, span_exporter) -> None:
    first = client.responses.create(
        model="o4-mini", input="Weather?", tools=RESPONSES_TOOLS, reasoning={"effort": "low"}
    )
    items: list[Any] = [{"role": "user", "content": "Weather?"}, *first.output]  # pydantic output items
    items.append({"type": "function_call_output", "call_id": "call_fake_1", "output": "sunny"})
    client.responses.create(model="o4-mini", input=items)

    assert json_attribute(span_exporter.get_finished_spans()[1], INPUT) == [
        text("user", "Weather?"),
        {"role": "assistant", "parts": [{"type": "reasoning", "content": "Thinking about the answer."}]},
        {"role": "assistant", "parts": [tool_call()]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_fake_1", "response": "sunny"}]},
    ]


def test_responses_tools_and_function_call_output(capturing, client, span_exporter) -> None:
    client.responses.create(model="gpt-4o", input="Weather in Paris?", tools=RESPONSES_TOOLS)

    assert content_of(only_span(span_exporter)) == {
        INPUT: [text("user", "Weather in Paris?")],
        TOOL_DEFS: TOOL_DEFINITIONS,
        OUTPUT: [{"role": "assistant", "parts": [tool_call()], "finish_reason": "tool_calls"}],
    }


def test_responses_reasoning_part(capturing, client, span_exporter) -> None:
    client.responses.create(model="o4-mini", input="Hi", reasoning={"effort": "low", "summary": "auto"})

    assert json_attribute(only_span(span_exporter), OUTPUT) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Thinking about the answer."},
                {"type": "text", "content": "Hello from responses"},
            ],
            "finish_reason": "stop",
        }
    ]


async def test_responses_stream_output(capturing, async_client, span_exporter) -> None:
    stream = await async_client.responses.create(model="gpt-4o", input="Hi", instructions="Be brief.", stream=True)
    kinds = [event.type async for event in stream]

    assert kinds.count("response.output_text.delta") == 3
    assert content_of(only_span(span_exporter)) == {
        INPUT: [text("user", "Hi")],
        SYSTEM: [{"type": "text", "content": "Be brief."}],
        OUTPUT: [answer("Hello from responses")],
    }


# --- legacy Completions -------------------------------------------------------------------


def test_legacy_completion_prompt(capturing, client, span_exporter) -> None:
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hi")

    assert content_of(only_span(span_exporter)) == {
        INPUT: [text("user", "Say hi")],
        OUTPUT: [answer("Hello legacy", "length")],
    }


def test_legacy_completion_stream(capturing, client, span_exporter) -> None:
    stream = client.completions.create(model="gpt-3.5-turbo-instruct", prompt=["Say hi"], stream=True)
    assert "".join(c.choices[0].text for c in stream if c.choices) == "Hello legacy"

    assert content_of(only_span(span_exporter)) == {
        INPUT: [text("user", "Say hi")],
        OUTPUT: [answer("Hello legacy", "length")],
    }
