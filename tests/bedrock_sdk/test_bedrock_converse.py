"""``converse`` through botocore's Stubber: attributes, usage with the prompt cache, content,
errors, metrics."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bedrock_support import CLAUDE, NOVA, USER, has_member

from otel_helpers import attributes, json_attribute, metric_points, only_span
from sdk_support import EndCounter
from wikitrace_otel.testing.fake_bedrock import payloads

pytestmark = pytest.mark.usefixtures("instrumented")


def test_converse_span(stubbed: tuple[Any, Any], span_exporter: Any, ends: EndCounter) -> None:
    client, stubber = stubbed
    stubber.add_response("converse", payloads.converse_answer("Hi!", usage_body=payloads.usage(12, 7)))
    answer = client.converse(
        modelId=CLAUDE,
        messages=USER,
        inferenceConfig={"maxTokens": 256, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]},
        additionalModelRequestFields={"top_k": 40},
    )
    assert answer["output"]["message"]["content"] == [{"text": "Hi!"}]
    span = only_span(span_exporter)
    assert span.name == f"chat {CLAUDE}"
    assert (
        span.instrumentation_scope is not None
        and span.instrumentation_scope.name == "wikitrace_otel.instrumentors.bedrock"
    )
    assert attributes(span) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": CLAUDE,
        "server.address": "bedrock-runtime.us-east-1.amazonaws.com",
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 40,
        "gen_ai.request.stop_sequences": ["END"],
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 7,
        "gen_ai.response.finish_reasons": ["end_turn"],
    }
    ends.check(span_exporter)


@pytest.mark.parametrize(
    "model_id",
    [
        "us.anthropic.claude-3-5-sonnet-20240620-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-3-5-haiku-20241022-v1:0",
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123",
    ],
)
def test_the_model_id_is_recorded_as_given(stubbed: tuple[Any, Any], span_exporter: Any, model_id: str) -> None:
    client, stubber = stubbed
    stubber.add_response("converse", payloads.converse_answer())
    client.converse(modelId=model_id, messages=USER)
    span = only_span(span_exporter)
    assert span.name == f"chat {model_id}"
    assert attributes(span)["gen_ai.request.model"] == model_id


@pytest.mark.skipif(not has_member("TokenUsage", "cacheReadInputTokens"), reason="this botocore has no cache counts")
def test_cached_input_is_added_to_input_tokens(stubbed: tuple[Any, Any], span_exporter: Any) -> None:
    client, stubber = stubbed
    stubber.add_response("converse", payloads.converse_answer(usage_body=payloads.usage(4, 60, 3120, 200)))
    client.converse(modelId=CLAUDE, messages=USER)
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.usage.input_tokens"] == 4 + 3120 + 200
    assert found["gen_ai.usage.cache_read.input_tokens"] == 3120
    assert found["gen_ai.usage.cache_write.input_tokens"] == 200
    assert found["gen_ai.usage.output_tokens"] == 60


def test_content_capture(instrument_bedrock: Any, span_exporter: Any) -> None:
    from bedrock_support import client as make_client
    from botocore.stub import Stubber

    from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor

    BedrockInstrumentor().uninstrument()
    instrument_bedrock(capture_content="SPAN_ONLY")
    client = make_client()
    tool_use = {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}}
    reasoning = {"reasoningContent": {"reasoningText": {"text": "Need the weather.", "signature": "sig"}}}
    has_reasoning = has_member("ContentBlock", "reasoningContent")  # botocore 1.35 has none
    blocks = [reasoning] if has_reasoning else []
    answer = payloads.converse_answer(stop_reason="tool_use", content=[*blocks, {"text": "Checking."}, tool_use])
    messages = [
        {
            "role": "user",
            "content": [{"text": "Weather?"}, {"image": {"format": "png", "source": {"bytes": b"\x89PNG"}}}],
        },
        {"role": "assistant", "content": [tool_use]},
        {"role": "user", "content": [{"toolResult": {"toolUseId": "t1", "content": [{"text": "18C"}]}}]},
    ]
    tools = {
        "tools": [
            {"toolSpec": {"name": "get_weather", "description": "Weather", "inputSchema": {"json": {"type": "object"}}}}
        ]
    }
    with Stubber(client) as stubber:
        stubber.add_response("converse", answer)
        client.converse(modelId=NOVA, messages=messages, system=[{"text": "Be brief."}], toolConfig=tools)
    span = only_span(span_exporter)
    assert json_attribute(span, "gen_ai.system_instructions") == [{"type": "text", "content": "Be brief."}]
    assert json_attribute(span, "gen_ai.tool.definitions") == [
        {"type": "function", "name": "get_weather", "description": "Weather", "parameters": {"type": "object"}}
    ]
    inputs = json_attribute(span, "gen_ai.input.messages")
    assert inputs[0]["parts"][1] == {
        "type": "blob",
        "modality": "image",
        "content": "iVBORw==",
        "mime_type": "image/png",
    }
    assert inputs[1]["parts"] == [
        {"type": "tool_call", "id": "t1", "name": "get_weather", "arguments": {"city": "Paris"}}
    ]
    assert inputs[2]["parts"] == [{"type": "tool_call_response", "id": "t1", "response": "18C"}]
    (output,) = json_attribute(span, "gen_ai.output.messages")
    assert output["finish_reason"] == "tool_use"
    expected = ["reasoning", "text", "tool_call"] if has_reasoning else ["text", "tool_call"]
    assert [p["type"] for p in output["parts"]] == expected
    assert output["parts"][-1]["arguments"] == {"city": "Paris"}
    if has_reasoning:
        assert output["parts"][0]["content"] == "Need the weather."


def test_no_content_by_default(stubbed: tuple[Any, Any], span_exporter: Any) -> None:
    client, stubber = stubbed
    stubber.add_response("converse", payloads.converse_answer("secret answer"))
    client.converse(modelId=NOVA, messages=[{"role": "user", "content": [{"text": "secret question"}]}])
    text = json.dumps(attributes(only_span(span_exporter)))
    assert "secret" not in text


@pytest.mark.parametrize(("status", "code"), [(429, "ThrottlingException"), (400, "ValidationException")])
def test_errors_keep_the_sdk_exception(
    stubbed: tuple[Any, Any], span_exporter: Any, ends: EndCounter, status: int, code: str
) -> None:
    from botocore.exceptions import ClientError

    client, stubber = stubbed
    stubber.add_client_error("converse", service_error_code=code, service_message="nope", http_status_code=status)
    with pytest.raises(ClientError) as raised:
        client.converse(modelId=NOVA, messages=USER)
    assert raised.value.response["Error"]["Code"] == code
    span = only_span(span_exporter)
    assert span.status.status_code.name == "ERROR"
    assert attributes(span)["error.type"] == code
    assert [e.name for e in span.events] == ["exception"]
    ends.check(span_exporter)


def test_metrics(stubbed: tuple[Any, Any], metric_reader: Any) -> None:
    client, stubber = stubbed
    stubber.add_response("converse", payloads.converse_answer(usage_body=payloads.usage(12, 7)))
    client.converse(modelId=NOVA, messages=USER)
    points = metric_points(metric_reader)
    assert [p.value for p in points["gen_ai.client.inference.usage.input_tokens"]] == [12]
    assert [p.value for p in points["gen_ai.client.inference.usage.output_tokens"]] == [7]
    (duration,) = points["gen_ai.client.inference.duration"]
    assert duration.count == 1
    assert duration.attributes["gen_ai.provider.name"] == "aws.bedrock"
    assert duration.attributes["gen_ai.request.model"] == NOVA


def test_content_event(instrument_bedrock: Any, span_exporter: Any, log_exporter: Any) -> None:
    from bedrock_support import client as make_client
    from botocore.stub import Stubber

    from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor

    BedrockInstrumentor().uninstrument()
    instrument_bedrock(capture_content="EVENT_ONLY")
    client = make_client()
    with Stubber(client) as stubber:
        stubber.add_response("converse", payloads.converse_answer("Hi back"))
        client.converse(modelId=NOVA, messages=USER)
    span = only_span(span_exporter)
    assert "gen_ai.input.messages" not in attributes(span)
    (record,) = log_exporter.get_finished_logs()
    found = record.log_record.attributes
    assert found["gen_ai.request.model"] == NOVA
    assert found["gen_ai.output.messages"][0]["parts"] == ({"type": "text", "content": "Hi back"},)
    assert record.log_record.span_id == span.context.span_id
