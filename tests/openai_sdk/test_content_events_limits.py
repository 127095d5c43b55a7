"""Content capture, continued: the details event, the size cap, inputs the SDK must still get
unchanged, and ``capped_json`` on its own."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber

from otel_helpers import attributes, json_attribute, metric_points, only_span
from wikitrace_otel._genai.content import capped_json, to_json
from wikitrace_otel.testing.fake_openai import FakeResponse
from wikitrace_otel.testing.fake_openai.payloads import chat_completion

INPUT = "gen_ai.input.messages"
OUTPUT = "gen_ai.output.messages"
SYSTEM = "gen_ai.system_instructions"
TOOL_DEFS = "gen_ai.tool.definitions"
TRUNCATED = "wikitrace.content.truncated"
CONTENT_KEYS = {INPUT, OUTPUT, SYSTEM, TOOL_DEFS}
EVENT_NAME = "gen_ai.client.inference.operation.details"

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
EXPECTED_INPUT = [
    {"role": "system", "parts": [{"type": "text", "content": "Be brief."}]},
    {"role": "user", "parts": [{"type": "text", "content": "Hi"}]},
]
EXPECTED_OUTPUT = [
    {"role": "assistant", "parts": [{"type": "text", "content": "Hello from choice 0"}], "finish_reason": "stop"}
]


def plain(value: Any) -> Any:
    """Log attributes come back with tuples for sequences; compare them as JSON-like data."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def only_record(log_exporter: Any) -> Any:
    logs = log_exporter.get_finished_logs()
    assert len(logs) == 1, logs
    return logs[0].log_record


def user_text(span: Any) -> str:
    """The text of the single user message of a span's input messages, checking the structure."""
    (message,) = json_attribute(span, INPUT)
    assert set(message) == {"role", "parts"} and message["role"] == "user"
    (part,) = message["parts"]
    assert set(part) == {"type", "content"} and part["type"] == "text"
    return part["content"]


# --- the details event --------------------------------------------------------------------


def test_event_only(instrument, client, span_exporter, log_exporter) -> None:
    instrument(capture_content="EVENT_ONLY")
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    span = only_span(span_exporter)
    record = only_record(log_exporter)
    assert not CONTENT_KEYS & set(attributes(span))
    assert record.event_name == EVENT_NAME
    assert record.severity_number is SeverityNumber.DEBUG
    assert (record.trace_id, record.span_id) == (span.context.trace_id, span.context.span_id)
    found = plain(dict(record.attributes))
    assert found == {**attributes(span), INPUT: EXPECTED_INPUT, OUTPUT: EXPECTED_OUTPUT}
    assert found["gen_ai.response.id"] == "chatcmpl-fake-1"  # response attributes are there too


def test_event_carries_system_instructions_and_tools(instrument, client, span_exporter, log_exporter) -> None:
    instrument(capture_content="EVENT_ONLY")
    tool = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    client.responses.create(model="gpt-4o", input="Hi", instructions="Be brief.", tools=[tool])

    found = plain(dict(only_record(log_exporter).attributes))
    assert found[SYSTEM] == [{"type": "text", "content": "Be brief."}]
    assert found[TOOL_DEFS] == [
        {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}
    ]
    assert found[INPUT] == [{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]
    assert not CONTENT_KEYS & set(attributes(only_span(span_exporter)))


def test_span_and_event(instrument, client, span_exporter, log_exporter) -> None:
    instrument(capture_content="SPAN_AND_EVENT")
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    span = only_span(span_exporter)
    assert json_attribute(span, INPUT) == EXPECTED_INPUT
    assert json_attribute(span, OUTPUT) == EXPECTED_OUTPUT
    found = plain(dict(only_record(log_exporter).attributes))
    assert found == {**attributes(span), INPUT: EXPECTED_INPUT, OUTPUT: EXPECTED_OUTPUT}


async def test_event_after_async_stream(instrument, async_client, span_exporter, log_exporter) -> None:
    instrument(capture_content="EVENT_ONLY")
    stream = await async_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    async for _ in stream:
        pass

    span = only_span(span_exporter)
    record = only_record(log_exporter)
    assert record.span_id == span.context.span_id
    assert plain(record.attributes[OUTPUT]) == EXPECTED_OUTPUT


# --- the size cap -------------------------------------------------------------------------


def test_size_cap(instrument, client, span_exporter, fake_openai) -> None:
    instrument(capture_content=True, max_content_size=1024)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x" * 50_000}])

    span = only_span(span_exporter)
    assert len(span.attributes[INPUT].encode("utf-8")) <= 1024
    content = user_text(span)
    assert content.startswith("x" * 100)
    assert content.endswith("chars truncated]")
    assert attributes(span)[TRUNCATED] is True
    assert json_attribute(span, OUTPUT) == EXPECTED_OUTPUT  # small attributes are left whole
    assert fake_openai.requests[-1].body["messages"][0]["content"] == "x" * 50_000  # the request is untouched


@pytest.mark.parametrize("char", ["é", "漢", "😀"])
def test_size_cap_counts_utf8_bytes(char, instrument, client, span_exporter) -> None:
    instrument(capture_content=True, max_content_size=1024)
    message = char * 600  # at most ~650 characters of JSON, but 1200+ bytes
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": message}])

    span = only_span(span_exporter)
    assert len(span.attributes[INPUT].encode("utf-8")) <= 1024
    assert user_text(span).startswith(char * 16)
    assert user_text(span) != message
    assert attributes(span)[TRUNCATED] is True


def test_under_the_cap_is_untouched(instrument, client, span_exporter) -> None:
    instrument(capture_content=True, max_content_size=1024)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "é" * 300}])

    span = only_span(span_exporter)
    assert user_text(span) == "é" * 300
    assert TRUNCATED not in attributes(span)


def test_size_cap_drops_oldest_messages(instrument, client, span_exporter) -> None:
    instrument(capture_content=True, max_content_size=1024)
    history = [{"role": "user", "content": f"{i:03d}" + "y" * 100} for i in range(30)]
    client.chat.completions.create(model="gpt-4o", messages=history)

    span = only_span(span_exporter)
    assert len(span.attributes[INPUT].encode("utf-8")) <= 1024
    kept = [m["parts"][0]["content"][:3] for m in json_attribute(span, INPUT)]
    assert 0 < len(kept) < 30
    assert kept == [f"{i:03d}" for i in range(30 - len(kept), 30)]  # the newest, in order


def test_event_content_is_capped_like_the_span(instrument, client, span_exporter, log_exporter) -> None:
    instrument(capture_content="SPAN_AND_EVENT", max_content_size=1024)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x" * 50_000}])

    span = only_span(span_exporter)
    found = plain(dict(only_record(log_exporter).attributes))
    assert found[INPUT] == json_attribute(span, INPUT)
    assert found[OUTPUT] == EXPECTED_OUTPUT


def test_size_cap_from_environment(monkeypatch, caplog, instrument, client, span_exporter) -> None:
    monkeypatch.setenv("WIKITRACE_GENAI_MAX_CONTENT_SIZE", "1024")
    instrument(capture_content=True)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x" * 50_000}])

    span = only_span(span_exporter)
    full = [{"role": "user", "parts": [{"type": "text", "content": "x" * 50_000}]}]
    assert span.attributes[INPUT] == capped_json(full, 1024)[0]  # the same cut as the explicit setting
    assert attributes(span)[TRUNCATED] is True
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("value", ["lots", "100", "-5", "1.5e3"])
def test_bad_size_in_environment_uses_default(value, monkeypatch, caplog, instrument, client, span_exporter) -> None:
    monkeypatch.setenv("WIKITRACE_GENAI_MAX_CONTENT_SIZE", value)
    instrument(capture_content=True)
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x" * 50_000}])

    span = only_span(span_exporter)
    assert user_text(span) == "x" * 50_000  # under the 64 KiB default
    assert TRUNCATED not in attributes(span)
    (warning,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert "WIKITRACE_GENAI_MAX_CONTENT_SIZE" in warning.getMessage()
    assert "65536" in warning.getMessage()


@pytest.mark.parametrize("explicit", [100, 0, "1024", 1024.0, True])
def test_bad_explicit_size_raises(explicit, instrument) -> None:
    with pytest.raises(ValueError, match="max_content_size"):
        instrument(capture_content=True, max_content_size=explicit)


def test_unpaired_surrogate_in_output_keeps_the_span(
    monkeypatch, instrument, client, span_exporter, fake_openai, metric_reader
) -> None:
    monkeypatch.delenv("WIKITRACE_RAISE_INTERNAL_ERRORS")
    instrument(capture_content=True)
    body = chat_completion({"model": "gpt-4o"})
    body["choices"][0]["message"]["content"] = "half an emoji: \ud83d"  # sent as the JSON escape \ud83d
    fake_openai.enqueue(FakeResponse.json(body))

    result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert result.choices[0].message.content == "half an emoji: \ud83d"
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.response.id"] == "chatcmpl-fake-1"
    assert found["gen_ai.usage.input_tokens"] == 11
    assert "gen_ai.client.inference.duration" in metric_points(metric_reader)


# --- inputs the SDK must still receive whole ---------------------------------------------


def test_generator_messages_are_not_consumed(instrument, client, span_exporter, fake_openai) -> None:
    instrument(capture_content=True)
    result = client.chat.completions.create(model="gpt-4o", messages=(m for m in MESSAGES))

    assert result.choices[0].message.content == "Hello from choice 0"
    assert fake_openai.requests[-1].body["messages"] == MESSAGES
    span = only_span(span_exporter)
    assert INPUT not in attributes(span)  # not readable without consuming it: left out
    assert json_attribute(span, OUTPUT) == EXPECTED_OUTPUT


async def test_async_generator_messages_are_not_consumed(instrument, async_client, fake_openai) -> None:
    instrument(capture_content="SPAN_AND_EVENT")
    await async_client.chat.completions.create(model="gpt-4o", messages=(m for m in MESSAGES))

    assert fake_openai.requests[-1].body["messages"] == MESSAGES


# --- capped_json --------------------------------------------------------------------------


def shape(value: Any) -> Any:
    """The structure of a value with every string blanked."""
    if isinstance(value, str):
        return ""
    if isinstance(value, list):
        return [shape(v) for v in value]
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    return value


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def test_capped_json_fits_unchanged() -> None:
    value = [{"role": "user", "parts": [{"type": "text", "content": "héllo"}]}]
    text = to_json(value)
    assert text == '[{"role":"user","parts":[{"type":"text","content":"héllo"}]}]'
    assert capped_json(value, size(text)) == (text, False)
    assert capped_json(value, size(text) - 1)[1] is True


@pytest.mark.parametrize(
    ("value", "limit"),
    [
        ("a" * 10_000, 256),
        ({"deep": {"deeper": [{"text": "b" * 5_000, "n": 3, "ok": True, "none": None}]}}, 512),
        (
            [
                {
                    "role": "user",
                    "parts": [{"type": "text", "content": "c" * 3_000}, {"type": "text", "content": "d" * 3_000}],
                }
            ],
            300,
        ),
        ([{"content": "é" * 2_000}, {"content": "漢" * 2_000}], 1024),
    ],
)
def test_capped_json_shortens_strings_keeping_the_structure(value, limit) -> None:
    text, truncated = capped_json(value, limit)

    assert truncated is True
    assert size(text) <= limit
    assert shape(json.loads(text)) == shape(value)
    assert "chars truncated]" in text


def test_capped_json_marks_how_much_was_cut() -> None:
    text, _ = capped_json(["a" * 10_000], 256)
    (kept,) = json.loads(text)
    prefix, _, mark = kept.partition("…[")
    assert prefix == "a" * len(prefix) and len(prefix) >= 16
    assert mark == f"{10_000 - len(prefix)} chars truncated]"


def test_capped_json_drops_oldest_list_items() -> None:
    value = [{"i": i, "text": f"message {i:02d}"} for i in range(50)]  # short strings: nothing to shorten
    text, truncated = capped_json(value, 300)

    kept = json.loads(text)
    assert truncated is True
    assert size(text) <= 300
    assert 0 < len(kept) < 50
    assert kept == value[50 - len(kept) :]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([[1] * 300], "[]"),  # one item, too large even when shortened: all dropped
        ({f"key{i}": i for i in range(300)}, "null"),  # a dict cannot drop entries
    ],
)
def test_capped_json_last_resorts(value, expected) -> None:
    assert capped_json(value, 256) == (expected, True)


@pytest.mark.parametrize("limit", [256, 300, 1024, 4096])
@pytest.mark.parametrize(
    "value",
    [
        [{"role": "user", "parts": [{"type": "text", "content": "x" * n}]} for n in (10, 5_000, 70, 20_000)],
        {"a": ["😀" * 3_000, {"b": "漢" * 3_000}], "c": 1.5},
        ['"quotes" and \\backslashes\\ \n' * 500],
    ],
    ids=["messages", "non-ascii", "escapes"],
)
def test_capped_json_is_always_valid_json_within_the_limit(value, limit) -> None:
    text, truncated = capped_json(value, limit)
    assert size(text) <= limit
    json.loads(text)
    assert truncated is True


def test_capped_json_survives_unpaired_surrogates() -> None:
    text, _ = capped_json([{"content": "half an emoji: \ud83d"}], 1024)
    assert json.loads(text)[0]["content"].startswith("half an emoji: ")
