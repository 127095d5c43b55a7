"""Content capture (opt-in) for Cohere v2 chat: input, tools, output, streamed output, events."""

from __future__ import annotations

import json
from typing import Any

from cohere_support import EMBED_MODEL, MODEL, RERANK_MODEL, USER, CohereSdk

from otel_helpers import json_attribute, only_span
from wikitrace_otel.testing.fake_cohere import FakeCohereServer, FakeResponse, payloads, stream

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
    {"role": "user", "content": [{"type": "text", "text": "Weather?"}]},
    {
        "role": "assistant",
        "tool_plan": "Look it up.",
        "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Lyon"}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_0", "content": "12C"},
]


def _tool_answer() -> dict[str, Any]:
    return payloads.chat_response(
        "Checking.",
        tool_plan="I will call the tool.",
        tool_calls=[payloads.tool_call("call_1", "get_weather", '{"city": "Paris"}')],
        finish_reason="TOOL_CALL",
    )


EXPECTED_OUTPUT = [
    {
        "role": "assistant",
        "parts": [
            {"type": "reasoning", "content": "I will call the tool."},
            {"type": "text", "content": "Checking."},
            {"type": "tool_call", "name": "get_weather", "arguments": {"city": "Paris"}, "id": "call_1"},
        ],
        "finish_reason": "TOOL_CALL",
    }
]


async def test_no_content_by_default(
    sdk: CohereSdk, instrument_cohere: Any, fake_cohere: FakeCohereServer, span_exporter: Any
) -> None:
    instrument_cohere()
    await sdk.call("chat", model=MODEL, messages=HISTORY, tools=TOOLS)
    found = dict(only_span(span_exporter).attributes or {})
    assert not [key for key in found if key.startswith(("gen_ai.input", "gen_ai.output.messages", "gen_ai.tool"))]


async def test_content_on_span(
    sdk: CohereSdk, instrument_cohere: Any, fake_cohere: FakeCohereServer, span_exporter: Any
) -> None:
    instrument_cohere(capture_content="SPAN_ONLY")
    fake_cohere.enqueue(FakeResponse.json(_tool_answer()))
    await sdk.call("chat", model=MODEL, messages=HISTORY, tools=TOOLS)
    span = only_span(span_exporter)
    assert json_attribute(span, "gen_ai.input.messages") == [
        {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
        {"role": "user", "parts": [{"type": "text", "content": "Weather?"}]},
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Look it up."},
                {"type": "tool_call", "name": "get_weather", "arguments": {"city": "Lyon"}, "id": "call_0"},
            ],
        },
        {"role": "tool", "parts": [{"type": "tool_call_response", "response": "12C", "id": "call_0"}]},
    ]
    assert json_attribute(span, "gen_ai.tool.definitions")[0]["name"] == "get_weather"
    assert json_attribute(span, "gen_ai.output.messages") == EXPECTED_OUTPUT


async def test_streamed_content_is_reassembled(
    sdk: CohereSdk, instrument_cohere: Any, fake_cohere: FakeCohereServer, span_exporter: Any
) -> None:
    instrument_cohere(capture_content="SPAN_ONLY")
    fake_cohere.enqueue(stream(payloads.chat_events(_tool_answer())))
    await sdk.drain(sdk.stream(model=MODEL, messages=USER))
    assert json_attribute(only_span(span_exporter), "gen_ai.output.messages") == EXPECTED_OUTPUT


async def test_content_as_event(
    sdk: CohereSdk, instrument_cohere: Any, fake_cohere: FakeCohereServer, span_exporter: Any, log_exporter: Any
) -> None:
    instrument_cohere(capture_content="EVENT_ONLY")
    await sdk.call("chat", model=MODEL, messages=USER)
    assert "gen_ai.input.messages" not in (only_span(span_exporter).attributes or {})
    (record,) = log_exporter.get_finished_logs()
    found = dict(record.log_record.attributes or {})
    assert found["gen_ai.provider.name"] == "cohere"
    assert json.loads(json.dumps(found["gen_ai.output.messages"]))[0]["parts"] == [
        {"type": "text", "content": payloads.DEFAULT_TEXT}
    ]


async def test_embed_and_rerank_inputs_are_never_captured(
    sdk: CohereSdk, instrument_cohere: Any, fake_cohere: FakeCohereServer, span_exporter: Any
) -> None:
    instrument_cohere(capture_content="SPAN_AND_EVENT")
    await sdk.call(
        "embed", model=EMBED_MODEL, texts=["secret one"], input_type="search_query", embedding_types=["float"]
    )
    await sdk.call("rerank", model=RERANK_MODEL, query="secret two", documents=["secret three"])
    spans = span_exporter.get_finished_spans()
    assert [span.name for span in spans] == [f"embeddings {EMBED_MODEL}", f"rerank {RERANK_MODEL}"]
    assert "secret" not in json.dumps([dict(span.attributes or {}) for span in spans])
