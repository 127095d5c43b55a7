"""Content capture: the setting, and the exact messages each OpenAI API produces on the span."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from content_support import (
    CONTENT_KEYS,
    INPUT,
    OUTPUT,
    PARAMETERS,
    RESPONSES_TOOLS,
    TOOL_DEFINITIONS,
    TOOL_DEFS,
    answer,
    text,
    tool_call,
)

from otel_helpers import attributes, json_attribute, only_span

CAPTURE_VARIABLE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
TOOLS = [
    {
        "type": "function",
        "function": {"name": "get_weather", "description": "Weather in a city", "parameters": PARAMETERS},
    }
]


EXPECTED_INPUT = [text("system", "Be brief."), text("user", "Hi")]
EXPECTED_OUTPUT = [answer("Hello from choice 0")]
TOOL_OUTPUT = [{"role": "assistant", "parts": [tool_call()], "finish_reason": "tool_calls"}]


def content_of(span: Any) -> dict[str, Any]:
    """The content attributes of a span, parsed."""
    return {key: json_attribute(span, key) for key in CONTENT_KEYS if key in (span.attributes or {})}


def warnings_from(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(logger) and r.levelno >= logging.WARNING]


# --- the setting ------------------------------------------------------------------------


def test_off_by_default(instrumented, client, span_exporter, log_exporter) -> None:
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES, tools=TOOLS)
    client.responses.create(model="gpt-4o", input="Hi", instructions="Be brief.", tools=RESPONSES_TOOLS)

    spans = span_exporter.get_finished_spans()
    assert len(spans) == 2
    for span in spans:
        assert not set(CONTENT_KEYS) & set(span.attributes or {})
        assert "wikitrace.content.truncated" not in (span.attributes or {})
    assert log_exporter.get_finished_logs() == ()


@pytest.mark.parametrize(
    ("value", "on_span", "on_event"),
    [
        ("SPAN_ONLY", True, False),
        ("span_only", True, False),
        (" Span_Only ", True, False),
        ("EVENT_ONLY", False, True),
        ("event_only", False, True),
        ("SPAN_AND_EVENT", True, True),
        ("NO_CONTENT", False, False),
        ("", False, False),
    ],
)
def test_environment_variable(
    value, on_span, on_event, monkeypatch, caplog, instrument, client, span_exporter, log_exporter
) -> None:
    monkeypatch.setenv(CAPTURE_VARIABLE, value)
    instrument()
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    span = only_span(span_exporter)
    assert content_of(span) == ({INPUT: EXPECTED_INPUT, OUTPUT: EXPECTED_OUTPUT} if on_span else {})
    assert len(log_exporter.get_finished_logs()) == (1 if on_event else 0)
    assert warnings_from(caplog, "wikitrace_otel") == []


@pytest.mark.parametrize("value", ["true", "false", "TRUE", "1", "garbage"])
def test_bad_environment_value_fails_closed_with_one_warning(
    value, monkeypatch, caplog, instrument, client, span_exporter, log_exporter
) -> None:
    monkeypatch.setenv(CAPTURE_VARIABLE, value)
    instrument()
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    spans = span_exporter.get_finished_spans()
    assert len(spans) == 2
    assert [content_of(span) for span in spans] == [{}, {}]
    assert log_exporter.get_finished_logs() == ()
    (warning,) = warnings_from(caplog, "wikitrace_otel")
    assert CAPTURE_VARIABLE in warning.getMessage()
    assert repr(value) in warning.getMessage()


@pytest.mark.parametrize(
    ("variable", "explicit", "on_span", "on_event"),
    [
        ("SPAN_AND_EVENT", False, False, False),
        ("SPAN_AND_EVENT", "NO_CONTENT", False, False),
        ("NO_CONTENT", True, True, False),
        ("garbage", "event_only", False, True),
        ("EVENT_ONLY", "SPAN_ONLY", True, False),
    ],
)
def test_explicit_argument_wins(
    variable, explicit, on_span, on_event, monkeypatch, caplog, instrument, client, span_exporter, log_exporter
) -> None:
    monkeypatch.setenv(CAPTURE_VARIABLE, variable)
    instrument(capture_content=explicit)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert content_of(only_span(span_exporter)) == ({INPUT: EXPECTED_INPUT, OUTPUT: EXPECTED_OUTPUT} if on_span else {})
    assert len(log_exporter.get_finished_logs()) == (1 if on_event else 0)
    assert warnings_from(caplog, "wikitrace_otel") == []  # the bad variable is never read


@pytest.mark.parametrize("explicit", ["sometimes", "true", 1, ["SPAN_ONLY"]])
def test_bad_explicit_value_raises(explicit, instrument, client, span_exporter) -> None:
    with pytest.raises(ValueError, match="capture_content"):
        instrument(capture_content=explicit)

    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert span_exporter.get_finished_spans() == ()  # nothing was patched


# --- Chat Completions ---------------------------------------------------------------------


@pytest.fixture
def capturing(instrument) -> Any:
    return instrument(capture_content="SPAN_ONLY")


def test_chat_messages(capturing, client, span_exporter) -> None:
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    span = only_span(span_exporter)
    assert content_of(span) == {INPUT: EXPECTED_INPUT, OUTPUT: EXPECTED_OUTPUT}
    assert "wikitrace.content.truncated" not in attributes(span)


def test_chat_one_output_message_per_choice(capturing, client, span_exporter) -> None:
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES, n=3)

    assert json_attribute(only_span(span_exporter), OUTPUT) == [answer(f"Hello from choice {i}") for i in range(3)]


def test_chat_tools_and_tool_call(capturing, client, span_exporter) -> None:
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES, tools=TOOLS)

    assert content_of(only_span(span_exporter)) == {
        INPUT: EXPECTED_INPUT,
        OUTPUT: TOOL_OUTPUT,
        TOOL_DEFS: TOOL_DEFINITIONS,
    }


def test_chat_history_with_tool_call_and_response(capturing, client, span_exporter) -> None:
    history = [
        {"role": "user", "content": "Weather in Paris?", "name": "ann"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C"},
    ]
    client.chat.completions.create(model="gpt-4o", messages=history)

    assert json_attribute(only_span(span_exporter), INPUT) == [
        {**text("user", "Weather in Paris?"), "name": "ann"},
        {"role": "assistant", "parts": [tool_call("call_1")]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": "sunny, 21C"}]},
    ]


def test_chat_non_json_tool_arguments_stay_a_string(capturing, client, span_exporter) -> None:
    call = {"id": "call_2", "type": "function", "function": {"name": "get_weather", "arguments": "Paris, please"}}
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "assistant", "tool_calls": [call]}])

    assert json_attribute(only_span(span_exporter), INPUT) == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_2", "name": "get_weather", "arguments": "Paris, please"}],
        }
    ]


def test_chat_image_parts(capturing, client, span_exporter) -> None:
    content = [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
    ]
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": content}])

    assert json_attribute(only_span(span_exporter), INPUT) == [
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "What is this?"},
                {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
                {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "iVBORw0KGgo="},
            ],
        }
    ]


def test_chat_pydantic_message_from_previous_response(capturing, client, span_exporter) -> None:
    history: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    first = client.chat.completions.create(model="gpt-4o", messages=history, tools=TOOLS)
    history += [first.choices[0].message, {"role": "tool", "tool_call_id": "call_fake_1", "content": "sunny"}]
    client.chat.completions.create(model="gpt-4o", messages=history)

    first_span, second_span = span_exporter.get_finished_spans()
    assert json_attribute(first_span, OUTPUT) == TOOL_OUTPUT
    assert content_of(second_span) == {
        INPUT: [
            text("user", "Weather in Paris?"),
            {"role": "assistant", "parts": [tool_call()]},
            {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_fake_1", "response": "sunny"}]},
        ],
        OUTPUT: EXPECTED_OUTPUT,
    }


def test_chat_pydantic_text_message(capturing, client, span_exporter) -> None:
    first = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    client.chat.completions.create(model="gpt-4o", messages=[*MESSAGES, first.choices[0].message])

    assert json_attribute(span_exporter.get_finished_spans()[1], INPUT) == [
        *EXPECTED_INPUT,
        text("assistant", "Hello from choice 0"),
    ]


# --- streams ------------------------------------------------------------------------------


def test_stream_text_reassembled(capturing, client, span_exporter) -> None:
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True, n=2)
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]

    assert len(pieces) == 6  # really streamed in fragments
    assert content_of(only_span(span_exporter)) == {
        INPUT: EXPECTED_INPUT,
        OUTPUT: [answer("Hello from choice 0"), answer("Hello from choice 1")],
    }


def test_stream_tool_call_reassembled(capturing, client, span_exporter) -> None:
    with client.chat.completions.create(model="gpt-4o", messages=MESSAGES, tools=TOOLS, stream=True) as stream:
        fragments = [
            c.choices[0].delta.tool_calls[0].function.arguments
            for c in stream
            if c.choices and c.choices[0].delta.tool_calls
        ]

    assert len(fragments) == 3
    assert content_of(only_span(span_exporter)) == {
        INPUT: EXPECTED_INPUT,
        OUTPUT: TOOL_OUTPUT,
        TOOL_DEFS: TOOL_DEFINITIONS,
    }


async def test_async_stream_text_and_tool_call(capturing, async_client, span_exporter) -> None:
    stream = await async_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    async for _ in stream:
        pass
    stream = await async_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, tools=TOOLS, stream=True)
    async with stream:
        async for _ in stream:
            pass

    text_span, tool_span = span_exporter.get_finished_spans()
    assert json_attribute(text_span, OUTPUT) == EXPECTED_OUTPUT
    assert content_of(tool_span) == {INPUT: EXPECTED_INPUT, OUTPUT: TOOL_OUTPUT, TOOL_DEFS: TOOL_DEFINITIONS}


def test_stream_helper_output(capturing, client, span_exporter) -> None:
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        final = stream.get_final_completion()

    assert final.choices[0].message.content == "Hello from choice 0"
    assert content_of(only_span(span_exporter)) == {INPUT: EXPECTED_INPUT, OUTPUT: EXPECTED_OUTPUT}
