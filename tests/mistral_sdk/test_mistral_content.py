"""Content capture (opt-in): input messages, tool definitions, output messages, events."""

from __future__ import annotations

import json
from typing import Any

from mistral_support import MODEL, USER, MistralSdk, sdk_module

from otel_helpers import json_attribute, only_span
from wikitrace_otel.testing.fake_mistral import FakeMistralServer, FakeResponse, payloads, stream

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]
HISTORY = [
    {"role": "system", "content": "Be brief."},
    {
        "role": "user",
        "content": [{"type": "text", "text": "Weather?"}, {"type": "image_url", "image_url": "https://x/y.png"}],
    },
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"id": "call_0", "function": {"name": "get_weather", "arguments": '{"city": "Lyon"}'}}],
    },
    {"role": "tool", "tool_call_id": "call_0", "name": "get_weather", "content": "12C"},
]


# Older SDKs reject thinking chunks (they predate reasoning models) while parsing the answer.
THINKS = hasattr(sdk_module("models"), "ThinkChunk")


def _tool_answer() -> dict[str, Any]:
    return payloads.chat_completion(
        MODEL,
        [payloads.thinking("Need the tool."), payloads.text("Checking.")] if THINKS else [payloads.text("Checking.")],
        tool_calls=[payloads.tool_call("call_1", "get_weather", '{"city": "Paris"}')],
        finish_reason="tool_calls",
    )


EXPECTED_OUTPUT = [
    {
        "role": "assistant",
        "parts": [
            *([{"type": "reasoning", "content": "Need the tool."}] if THINKS else []),
            {"type": "text", "content": "Checking."},
            {"type": "tool_call", "name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_1"},
        ],
        "finish_reason": "tool_calls",
    }
]


async def test_no_content_by_default(
    sdk: MistralSdk, instrument_mistral: Any, fake_mistral: FakeMistralServer, span_exporter: Any
) -> None:
    instrument_mistral()
    await sdk.call("chat.complete", model=MODEL, messages=HISTORY, tools=TOOLS)
    found = dict(only_span(span_exporter).attributes or {})
    assert not [key for key in found if key.startswith(("gen_ai.input", "gen_ai.output.messages", "gen_ai.tool"))]


async def test_content_on_span(
    sdk: MistralSdk, instrument_mistral: Any, fake_mistral: FakeMistralServer, span_exporter: Any
) -> None:
    instrument_mistral(capture_content="SPAN_ONLY")
    fake_mistral.enqueue(FakeResponse.json(_tool_answer()))
    await sdk.call("chat.complete", model=MODEL, messages=HISTORY, tools=TOOLS)
    span = only_span(span_exporter)
    assert json_attribute(span, "gen_ai.input.messages") == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Weather?"},
                {"type": "uri", "modality": "image", "uri": "https://x/y.png"},
            ],
        },
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "name": "get_weather", "arguments": {"city": "Lyon"}, "id": "call_0"}],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "response": "12C", "id": "call_0"}]},
    ]
    assert json_attribute(span, "gen_ai.tool.definitions") == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Weather of a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    assert json_attribute(span, "gen_ai.output.messages") == EXPECTED_OUTPUT


async def test_streamed_content_is_reassembled(
    sdk: MistralSdk, instrument_mistral: Any, fake_mistral: FakeMistralServer, span_exporter: Any
) -> None:
    instrument_mistral(capture_content="SPAN_ONLY")
    fake_mistral.enqueue(stream(payloads.chat_chunks(_tool_answer())))
    await sdk.drain(await sdk.call("chat.stream", model=MODEL, messages=USER))
    assert json_attribute(only_span(span_exporter), "gen_ai.output.messages") == EXPECTED_OUTPUT


async def test_streamed_text_pieces(
    sdk: MistralSdk, instrument_mistral: Any, fake_mistral: FakeMistralServer, span_exporter: Any
) -> None:
    instrument_mistral(capture_content="SPAN_ONLY")
    fake_mistral.enqueue(stream(payloads.chat_chunks(payloads.chat_completion(MODEL, "One two three four"))))
    await sdk.drain(await sdk.call("chat.stream", model=MODEL, messages=USER))
    (message,) = json_attribute(only_span(span_exporter), "gen_ai.output.messages")
    assert message["parts"] == [{"type": "text", "content": "One two three four"}]


async def test_content_as_event(
    sdk: MistralSdk, instrument_mistral: Any, fake_mistral: FakeMistralServer, span_exporter: Any, log_exporter: Any
) -> None:
    instrument_mistral(capture_content="EVENT_ONLY")
    await sdk.call("chat.complete", model=MODEL, messages=USER)
    assert "gen_ai.input.messages" not in (only_span(span_exporter).attributes or {})
    (record,) = log_exporter.get_finished_logs()
    found = dict(record.log_record.attributes or {})
    assert found["gen_ai.provider.name"] == "mistral_ai"
    assert json.loads(json.dumps(found["gen_ai.input.messages"])) == [
        {"role": "user", "parts": [{"type": "text", "content": "Hello"}]}
    ]


async def test_embeddings_input_is_never_captured(
    sdk: MistralSdk, instrument_mistral: Any, fake_mistral: FakeMistralServer, span_exporter: Any
) -> None:
    instrument_mistral(capture_content="SPAN_ONLY")
    await sdk.call("embeddings.create", model="mistral-embed", inputs=["secret text"])
    assert "secret text" not in json.dumps(dict(only_span(span_exporter).attributes or {}))


async def test_sdk_message_objects_and_a_previous_answer(
    sdk: MistralSdk, instrument_mistral: Any, fake_mistral: FakeMistralServer, span_exporter: Any
) -> None:
    instrument_mistral(capture_content="SPAN_ONLY")
    models = sdk_module("models")
    first = await sdk.call("chat.complete", model=MODEL, messages=[models.UserMessage(content="Hi")])
    history = [models.UserMessage(content="Hi"), first.choices[0].message, models.UserMessage(content="More")]
    await sdk.call("chat.complete", model=MODEL, messages=history)
    assert json_attribute(span_exporter.get_finished_spans()[-1], "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]},
        {"role": "assistant", "parts": [{"type": "text", "content": payloads.DEFAULT_TEXT}]},
        {"role": "user", "parts": [{"type": "text", "content": "More"}]},
    ]
