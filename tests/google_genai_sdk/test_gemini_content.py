"""Content capture: input messages in every shape ``contents`` takes, system instructions,
tool definitions and output messages (thoughts, function calls), on spans and on events."""

from __future__ import annotations

import json
from typing import Any

import pytest
from gemini_support import MODEL, GeminiSdk, rich_response
from gemini_tools import get_weather

from otel_helpers import json_attribute, only_span
from wikitrace_otel.testing.fake_gemini import FakeGeminiServer, FakeResponse, stream

RICH_OUTPUT = [
    {
        "role": "assistant",
        "parts": [
            {"type": "reasoning", "content": "Weather needs a tool."},
            {"type": "text", "content": "Let me check the weather."},
            {"type": "tool_call", "name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_1"},
        ],
        "finish_reason": "stop",
    }
]


@pytest.fixture
def capture(instrument_gemini: Any) -> None:
    instrument_gemini(capture_content="SPAN_ONLY")


@pytest.mark.usefixtures("capture")
async def test_content_on_the_span(sdk: GeminiSdk, fake_gemini: FakeGeminiServer, span_exporter: Any) -> None:
    from google.genai import types

    fake_gemini.enqueue(FakeResponse.json(rich_response()))
    contents = [
        types.Content(role="user", parts=[types.Part.from_text(text="Weather?")]),
        types.Content(role="model", parts=[types.Part.from_function_call(name="get_weather", args={"city": "Paris"})]),
        types.Content(
            role="user", parts=[types.Part.from_function_response(name="get_weather", response={"result": "Sunny"})]
        ),
        {"role": "user", "parts": [{"text": "Thanks"}, {"inline_data": {"mime_type": "image/png", "data": "aGk="}}]},
    ]
    config = {
        "system_instruction": "Be brief.",
        "tools": [
            types.Tool(
                function_declarations=[
                    types.FunctionDeclaration(
                        name="get_weather",
                        description="Weather of a city",
                        parameters=types.Schema(type="OBJECT", properties={"city": types.Schema(type="STRING")}),
                    )
                ]
            ),
            types.Tool(google_search=types.GoogleSearch()),
        ],
        "automatic_function_calling": {"disable": True},
    }
    await sdk.call("generate_content", model=MODEL, contents=contents, config=config)
    span = only_span(span_exporter)
    assert json_attribute(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "name": "get_weather", "arguments": {"city": "Paris"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "response": {"result": "Sunny"}}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Thanks"},
                {"type": "blob", "modality": "image", "content": "aGk=", "mime_type": "image/png"},
            ],
        },
    ]
    assert json_attribute(span, "gen_ai.system_instructions") == [{"type": "text", "content": "Be brief."}]
    tools = json_attribute(span, "gen_ai.tool.definitions")
    assert [(t["type"], t.get("name")) for t in tools] == [("function", "get_weather"), ("google_search", None)]
    assert tools[0]["description"] == "Weather of a city"
    assert tools[0]["parameters"]["properties"]["city"]["type"] == "STRING"
    assert json_attribute(span, "gen_ai.output.messages") == RICH_OUTPUT


@pytest.mark.usefixtures("capture")
async def test_strings_and_parts_form_one_user_message(sdk: GeminiSdk, span_exporter: Any) -> None:
    from google.genai import types

    contents = ["Describe", types.Part.from_uri(file_uri="gs://bucket/cat.jpg", mime_type="image/jpeg")]
    await sdk.call("generate_content", model=MODEL, contents=contents)
    assert json_attribute(only_span(span_exporter), "gen_ai.input.messages") == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "Describe"},
                {"type": "uri", "modality": "image", "uri": "gs://bucket/cat.jpg", "mime_type": "image/jpeg"},
            ],
        }
    ]


@pytest.mark.usefixtures("capture")
async def test_streamed_output_is_reassembled(
    sdk: GeminiSdk, fake_gemini: FakeGeminiServer, span_exporter: Any
) -> None:
    from wikitrace_otel.testing.fake_gemini import payloads

    answer = payloads.response(
        MODEL,
        [
            payloads.candidate(
                [
                    payloads.thought_part("Think "),
                    payloads.thought_part("more."),
                    payloads.text_part("Hel"),
                    payloads.text_part("lo"),
                    payloads.function_call_part("f", {"x": 1}),
                ]
            )
        ],
    )
    fake_gemini.enqueue(stream(payloads.stream_chunks(answer)))
    await sdk.drain(await sdk.call("generate_content_stream", model=MODEL, contents="Hi"))
    assert json_attribute(only_span(span_exporter), "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Think more."},
                {"type": "text", "content": "Hello"},
                {"type": "tool_call", "name": "f", "arguments": {"x": 1}},
            ],
            "finish_reason": "stop",
        }
    ]


@pytest.mark.usefixtures("capture")
def test_python_functions_are_tool_definitions(gemini_client: Any, span_exporter: Any) -> None:
    config = {"tools": [get_weather], "automatic_function_calling": {"disable": True}}
    gemini_client.models.generate_content(model=MODEL, contents="Weather?", config=config)
    assert json_attribute(only_span(span_exporter), "gen_ai.tool.definitions") == [
        {"type": "function", "name": "get_weather", "description": "Current weather of a city."}
    ]


async def test_no_content_by_default(
    instrumented: Any, sdk: GeminiSdk, fake_gemini: FakeGeminiServer, span_exporter: Any
) -> None:
    fake_gemini.enqueue(FakeResponse.json(rich_response()))
    await sdk.call("generate_content", model=MODEL, contents="Secret", config={"system_instruction": "Secret too"})
    found = only_span(span_exporter).attributes or {}
    assert not [k for k in found if k.startswith(("gen_ai.input", "gen_ai.output.messages", "gen_ai.system_instr"))]


async def test_content_on_an_event(
    instrument_gemini: Any, sdk: GeminiSdk, fake_gemini: FakeGeminiServer, span_exporter: Any, log_exporter: Any
) -> None:
    instrument_gemini(capture_content="EVENT_ONLY")
    fake_gemini.enqueue(FakeResponse.json(rich_response()))
    await sdk.call("generate_content", model=MODEL, contents="Weather?")
    span = only_span(span_exporter)
    assert "gen_ai.output.messages" not in (span.attributes or {})
    (record,) = log_exporter.get_finished_logs()
    attributes = dict(record.log_record.attributes or {})
    assert attributes["gen_ai.operation.name"] == "generate_content"
    assert json.loads(json.dumps(attributes["gen_ai.output.messages"])) == RICH_OUTPUT
