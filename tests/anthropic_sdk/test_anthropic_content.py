"""Captured content: system instructions, tool definitions, history with tool results, output."""

from __future__ import annotations

import json
from typing import Any

import pytest
from anthropic_support import MODEL, AnthropicSdk, rich_message

from otel_helpers import json_attribute, only_span
from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, FakeResponse

TOOLS = [
    {
        "name": "get_weather",
        "description": "Weather of a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
    {"type": "web_search_20250305", "name": "web_search"},
]
HISTORY = [
    {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
    {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Use the tool.", "signature": "s"},
            {"type": "tool_use", "id": "toolu_0", "name": "get_weather", "input": {"city": "Paris"}},
        ],
    },
    {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_0", "content": [{"type": "text", "text": "18C"}]},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0K"}},
            {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}},
        ],
    },
]


async def test_content_on_span(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, instrument_anthropic: Any
) -> None:
    instrument_anthropic(capture_content="SPAN_ONLY")
    fake_anthropic.enqueue(FakeResponse.json(rich_message()))
    system = [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}]
    await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=HISTORY, system=system, tools=TOOLS)
    span = only_span(span_exporter)
    assert json_attribute(span, "gen_ai.system_instructions") == [{"type": "text", "content": "You are terse."}]
    assert json_attribute(span, "gen_ai.tool.definitions") == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather of a city",
            "parameters": TOOLS[0]["input_schema"],
        },
        {"type": "web_search_20250305", "name": "web_search"},
    ]
    assert json_attribute(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Use the tool."},
                {"type": "tool_call", "id": "toolu_0", "name": "get_weather", "arguments": {"city": "Paris"}},
            ],
        },
        {
            "role": "user",
            "parts": [
                {"type": "tool_call_response", "id": "toolu_0", "response": "18C"},
                {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw0K"},
                {"type": "uri", "modality": "document", "uri": "https://example.com/a.pdf"},
            ],
        },
    ]
    assert json_attribute(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "finish_reason": "tool_use",
            "parts": [
                {"type": "reasoning", "content": "Weather needs a tool."},
                {"type": "text", "content": "Let me check the weather."},
                {
                    "type": "tool_call",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "arguments": {"city": "Paris", "unit": "c"},
                },
            ],
        }
    ]


async def test_response_objects_appended_to_history_are_read(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, instrument_anthropic: Any
) -> None:
    instrument_anthropic(capture_content="SPAN_ONLY")
    fake_anthropic.enqueue(FakeResponse.json(rich_message()))
    first = await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "Hi"}])
    history = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": first.content}]
    await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=history)
    second = span_exporter.get_finished_spans()[-1]
    assistant = json_attribute(second, "gen_ai.input.messages")[1]
    assert [p["type"] for p in assistant["parts"]] == ["reasoning", "text", "tool_call"]
    assert assistant["parts"][2]["arguments"] == {"city": "Paris", "unit": "c"}


@pytest.mark.usefixtures("instrumented")
async def test_no_content_by_default(sdk: AnthropicSdk, span_exporter: Any) -> None:
    await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=HISTORY, system="Secret", tools=TOOLS)
    found = dict(only_span(span_exporter).attributes or {})
    assert not [k for k in found if k.startswith(("gen_ai.input", "gen_ai.output.messages", "gen_ai.system_instr"))]
    assert "Secret" not in json.dumps(found)


async def test_content_event(
    sdk: AnthropicSdk, span_exporter: Any, log_exporter: Any, instrument_anthropic: Any
) -> None:
    instrument_anthropic(capture_content="EVENT_ONLY")
    await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=HISTORY[:1], system="Be kind.")
    assert "gen_ai.input.messages" not in (only_span(span_exporter).attributes or {})
    (record,) = log_exporter.get_finished_logs()
    attributes = dict(record.log_record.attributes or {})
    assert attributes["gen_ai.operation.name"] == "chat"
    assert "gen_ai.system_instructions" in attributes
