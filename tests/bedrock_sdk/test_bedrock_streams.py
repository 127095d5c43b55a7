"""``converse_stream`` and ``invoke_model_with_response_stream`` against the fake Bedrock server
(AWS event-stream framing over HTTP): every way a stream ends ends its span exactly once."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest
from bedrock_support import CLAUDE, NOVA, USER, check_converse_stream_read

from otel_helpers import attributes, json_attribute, only_span
from sdk_support import EndCounter
from wikitrace_otel.testing.fake_bedrock import FakeBedrockServer, error, eventstream, payloads, stream

pytestmark = pytest.mark.usefixtures("instrumented")


def _http_response(event_stream: Any) -> Any:
    """The HTTP response under an event stream: closed by the test after the stream is dropped,
    since a stream dropped unread leaves its socket open (instrumented or not)."""
    return event_stream.__wrapped__._raw_stream


CLAUDE_BODY = json.dumps(
    {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
)


def _converse_events(text: str = "Hello there") -> list[eventstream.Frame]:
    return payloads.converse_events(payloads.converse_answer(text, usage_body=payloads.usage(12, 7)))


def test_converse_stream_read_to_the_end(live: Any, span_exporter: Any, ends: EndCounter, metric_reader: Any) -> None:
    answer = live.converse_stream(modelId=NOVA, messages=USER, inferenceConfig={"maxTokens": 50})
    check_converse_stream_read(list(answer["stream"]), span_exporter, metric_reader)
    ends.check(span_exporter)


def test_break_then_close(live: Any, span_exporter: Any, ends: EndCounter) -> None:
    answer = live.converse_stream(modelId=NOVA, messages=USER)
    event_stream = answer["stream"]
    for _ in event_stream:
        break
    assert span_exporter.get_finished_spans() == ()
    event_stream.close()
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.response.finish_reasons"] == ["error"]  # cut short: no stop reason came
    assert "gen_ai.usage.input_tokens" not in found
    ends.check(span_exporter)


def test_close_unread(live: Any, span_exporter: Any, ends: EndCounter) -> None:
    live.converse_stream(modelId=NOVA, messages=USER)["stream"].close()
    assert only_span(span_exporter).status.status_code.name == "UNSET"
    ends.check(span_exporter)


def test_garbage_collected_unread(live: Any, span_exporter: Any, ends: EndCounter) -> None:
    answer = live.converse_stream(modelId=NOVA, messages=USER)
    http = _http_response(answer["stream"])
    del answer
    gc.collect()
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["error"]
    ends.check(span_exporter)
    http.close()


def test_error_event_mid_stream(
    fake_bedrock: FakeBedrockServer, live: Any, span_exporter: Any, ends: EndCounter
) -> None:
    from botocore.exceptions import EventStreamError

    frames = [*_converse_events()[:2], eventstream.exception("modelStreamErrorException", "model broke")]
    fake_bedrock.enqueue(stream(frames))
    answer = live.converse_stream(modelId=NOVA, messages=USER)
    seen = []
    with pytest.raises(EventStreamError) as raised:
        for event in answer["stream"]:
            seen.append(event)
    assert len(seen) == 2
    span = only_span(span_exporter)
    assert span.status.status_code.name == "ERROR"
    assert attributes(span)["error.type"] == raised.value.response["Error"]["Code"] == "modelStreamErrorException"
    answer["stream"].close()  # botocore leaves the connection open after an error event
    ends.check(span_exporter)


def test_connection_cut_mid_stream(
    fake_bedrock: FakeBedrockServer, live: Any, span_exporter: Any, ends: EndCounter
) -> None:
    fake_bedrock.enqueue(stream(_converse_events(), cut_after=2))
    answer = live.converse_stream(modelId=NOVA, messages=USER)
    with pytest.raises(Exception) as raised:  # urllib3's error, as botocore lets it through
        list(answer["stream"])
    span = only_span(span_exporter)
    assert span.status.status_code.name == "ERROR"
    assert attributes(span)["error.type"] != ""
    assert span.events[0].attributes is not None
    assert span.events[0].attributes["exception.type"].endswith(type(raised.value).__name__)
    answer["stream"].close()
    ends.check(span_exporter)


def test_http_error_before_the_stream(fake_bedrock: FakeBedrockServer, live: Any, span_exporter: Any) -> None:
    from botocore.exceptions import ClientError

    fake_bedrock.enqueue(error(429, "ThrottlingException", "slow down"))
    with pytest.raises(ClientError):
        live.converse_stream(modelId=NOVA, messages=USER)
    assert attributes(only_span(span_exporter))["error.type"] == "ThrottlingException"


def test_streamed_content_is_reassembled(
    instrument_bedrock: Any, fake_bedrock: FakeBedrockServer, live: Any, span_exporter: Any
) -> None:
    from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor

    BedrockInstrumentor().uninstrument()
    instrument_bedrock(capture_content="SPAN_ONLY")
    tool_use = {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}}
    answer = payloads.converse_answer(stop_reason="tool_use", content=[{"text": "Let me check."}, tool_use])
    fake_bedrock.enqueue(stream(payloads.converse_events(answer)))
    list(live.converse_stream(modelId=NOVA, messages=USER)["stream"])
    (output,) = json_attribute(only_span(span_exporter), "gen_ai.output.messages")
    assert output == {
        "role": "assistant",
        "parts": [
            {"type": "text", "content": "Let me check."},
            {"type": "tool_call", "id": "t1", "name": "get_weather", "arguments": {"city": "Paris"}},
        ],
        "finish_reason": "tool_use",
    }


def test_invoke_stream_anthropic(
    fake_bedrock: FakeBedrockServer, live: Any, span_exporter: Any, ends: EndCounter
) -> None:
    message = payloads.anthropic_message(CLAUDE, "Hi there.", input_tokens=10, output_tokens=5, cache_read=40)
    fake_bedrock.enqueue(stream(payloads.anthropic_chunks(message)))
    answer = live.invoke_model_with_response_stream(modelId=CLAUDE, body=CLAUDE_BODY)
    chunks = [json.loads(e["chunk"]["bytes"]) for e in answer["body"]]
    assert chunks[0]["type"] == "message_start"
    assert fake_bedrock.requests[-1].path.endswith("/invoke-with-response-stream")
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.request.stream"] is True and found["gen_ai.request.max_tokens"] == 64
    assert found["gen_ai.response.id"] == "msg_bdrk_fake"
    assert found["gen_ai.usage.input_tokens"] == 50 and found["gen_ai.usage.cache_read.input_tokens"] == 40
    assert found["gen_ai.usage.output_tokens"] == 5
    assert found["gen_ai.response.finish_reasons"] == ["end_turn"]
    ends.check(span_exporter)


def test_invoke_stream_usage_from_invocation_metrics(
    fake_bedrock: FakeBedrockServer, live: Any, span_exporter: Any
) -> None:
    fake_bedrock.enqueue(stream(payloads.titan_chunks("Titan says hi.", input_tokens=6, output_tokens=4)))
    body = json.dumps({"inputText": "Hi", "textGenerationConfig": {"maxTokenCount": 20}})
    answer = live.invoke_model_with_response_stream(modelId="amazon.titan-text-express-v1", body=body)
    text = "".join(json.loads(e["chunk"]["bytes"])["outputText"] for e in answer["body"])
    assert text == "Titan says hi."
    found = attributes(only_span(span_exporter))
    assert (found["gen_ai.usage.input_tokens"], found["gen_ai.usage.output_tokens"]) == (6, 4)
    assert found["gen_ai.response.finish_reasons"] == ["FINISH"]


@pytest.mark.parametrize("how", ["close", "gc", "cut"])
def test_invoke_stream_cut_short(
    how: str, fake_bedrock: FakeBedrockServer, live: Any, span_exporter: Any, ends: EndCounter
) -> None:
    message = payloads.anthropic_message(CLAUDE)
    fake_bedrock.enqueue(stream(payloads.anthropic_chunks(message), cut_after=3 if how == "cut" else None))
    answer = live.invoke_model_with_response_stream(modelId=CLAUDE, body=CLAUDE_BODY)
    body = answer["body"]
    http = _http_response(body)
    next(iter(body))
    if how == "close":
        body.close()
    elif how == "gc":
        del answer, body
        gc.collect()
    else:
        with pytest.raises(Exception):  # noqa: B017 - whatever urllib3 raises for a cut body
            list(body)
    span = only_span(span_exporter)
    assert attributes(span)["gen_ai.response.finish_reasons"] == ["error"]
    assert (span.status.status_code.name == "ERROR") == (how == "cut")
    ends.check(span_exporter)
    http.close()


def test_retries_are_inside_the_one_span(fake_bedrock: FakeBedrockServer, span_exporter: Any, ends: EndCounter) -> None:
    from bedrock_support import client

    fake_bedrock.enqueue(error(429, "ThrottlingException", "slow down"))
    retrying = client(fake_bedrock.endpoint_url, retries=1)
    list(retrying.converse_stream(modelId=NOVA, messages=USER)["stream"])
    assert len(fake_bedrock.requests) == 2
    span = only_span(span_exporter)
    assert span.status.status_code.name == "UNSET"
    assert attributes(span)["gen_ai.response.finish_reasons"] == ["end_turn"]
    ends.check(span_exporter)


# model id, request body, streamed chunk bodies, expected (finish reason, input, output, text)
STREAMED_FAMILIES: dict[str, tuple[str, dict[str, Any], list[dict[str, Any]], tuple[str, int, int, str]]] = {
    "nova": (
        NOVA,
        {"messages": [{"role": "user", "content": [{"text": "Hi"}]}], "inferenceConfig": {"max_new_tokens": 9}},
        [
            {"messageStart": {"role": "assistant"}},
            {"contentBlockDelta": {"delta": {"text": "Hel"}, "contentBlockIndex": 0}},
            {"contentBlockDelta": {"delta": {"text": "lo"}, "contentBlockIndex": 0}},
            {"messageStop": {"stopReason": "end_turn"}},
            {"metadata": {"usage": {"inputTokens": 5, "outputTokens": 2}}},
        ],
        ("end_turn", 5, 2, "Hello"),
    ),
    "llama": (
        "us.meta.llama3-2-11b-instruct-v1:0",
        {"prompt": "Hi", "max_gen_len": 9},
        [
            {"generation": "Hel", "prompt_token_count": 4, "generation_token_count": 1, "stop_reason": None},
            {
                "generation": "lo",
                "prompt_token_count": None,
                "generation_token_count": 2,
                "stop_reason": "stop",
                "amazon-bedrock-invocationMetrics": payloads.invocation_metrics(4, 2),
            },
        ],
        ("stop", 4, 2, "Hello"),
    ),
    "mistral": (
        "mistral.mistral-7b-instruct-v0:2",
        {"prompt": "<s>[INST] Hi [/INST]", "max_tokens": 9},
        [
            {"outputs": [{"text": "Hel", "stop_reason": None}]},
            {
                "outputs": [{"text": "lo", "stop_reason": "stop"}],
                "amazon-bedrock-invocationMetrics": payloads.invocation_metrics(8, 2),
            },
        ],
        ("stop", 8, 2, "Hello"),
    ),
    "cohere": (
        "cohere.command-r-v1:0",
        {"message": "Hi", "max_tokens": 9},
        [
            {"is_finished": False, "event_type": "text-generation", "text": "Hello"},
            {
                "is_finished": True,
                "event_type": "stream-end",
                "finish_reason": "COMPLETE",
                "amazon-bedrock-invocationMetrics": payloads.invocation_metrics(3, 1),
            },
        ],
        ("COMPLETE", 3, 1, "Hello"),
    ),
    "openai_style": (
        "openai.gpt-oss-20b-1:0",
        {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 9},
        [
            {"choices": [{"index": 0, "delta": {"content": "Hello"}, "finish_reason": None}]},
            {
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                "amazon-bedrock-invocationMetrics": payloads.invocation_metrics(6, 1),
            },
        ],
        ("stop", 6, 1, "Hello"),
    ),
}


@pytest.mark.parametrize("family", sorted(STREAMED_FAMILIES))
def test_invoke_stream_families(
    family: str, instrument_bedrock: Any, fake_bedrock: FakeBedrockServer, live: Any, span_exporter: Any
) -> None:
    from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor

    BedrockInstrumentor().uninstrument()
    instrument_bedrock(capture_content="SPAN_ONLY")
    model_id, body, chunks, (reason, input_tokens, output_tokens, text) = STREAMED_FAMILIES[family]
    fake_bedrock.enqueue(stream([eventstream.chunk(c) for c in chunks]))
    answer = live.invoke_model_with_response_stream(modelId=model_id, body=json.dumps(body))
    assert len(list(answer["body"])) == len(chunks)
    span = only_span(span_exporter)
    found = attributes(span)
    assert found["gen_ai.request.max_tokens"] == 9
    assert found["gen_ai.response.finish_reasons"] == [reason]
    assert (found["gen_ai.usage.input_tokens"], found["gen_ai.usage.output_tokens"]) == (input_tokens, output_tokens)
    (output,) = json_attribute(span, "gen_ai.output.messages")
    assert output["parts"] == [{"type": "text", "content": text}]
