"""``invoke_model`` through botocore's Stubber, one model family at a time: request parameters,
usage from each family's body (or Bedrock's token-count headers), embeddings, content, and the
caller still reading the body."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from bedrock_support import CLAUDE, invoke_answer

from otel_helpers import attributes, json_attribute, only_span
from sdk_support import EndCounter
from wikitrace_otel.testing.fake_bedrock import payloads

pytestmark = pytest.mark.usefixtures("instrumented")

TOKEN_HEADERS = {"x-amzn-bedrock-input-token-count": "21", "x-amzn-bedrock-output-token-count": "9"}

# (model id, request body, answer body, answer headers, expected span attributes beyond identity)
FAMILIES: dict[str, tuple[str, dict[str, Any], dict[str, Any], dict[str, str], dict[str, Any]]] = {
    "anthropic": (
        CLAUDE,
        {
            "anthropic_version": "bedrock-2023-05-31",
            "max_tokens": 64,
            "temperature": 0.5,
            "top_k": 5,
            "stop_sequences": ["\n\nHuman:"],
            "messages": [{"role": "user", "content": "Hi"}],
        },
        payloads.anthropic_message(CLAUDE, input_tokens=10, output_tokens=5, cache_read=100, cache_write=20),
        {},
        {
            "gen_ai.request.max_tokens": 64,
            "gen_ai.request.temperature": 0.5,
            "gen_ai.request.top_k": 5,
            "gen_ai.request.stop_sequences": ["\n\nHuman:"],
            "gen_ai.response.id": "msg_bdrk_fake",
            "gen_ai.response.model": CLAUDE,
            "gen_ai.usage.input_tokens": 130,
            "gen_ai.usage.output_tokens": 5,
            "gen_ai.usage.cache_read.input_tokens": 100,
            "gen_ai.usage.cache_write.input_tokens": 20,
            "gen_ai.response.finish_reasons": ["end_turn"],
        },
    ),
    "nova": (
        "us.amazon.nova-lite-v1:0",
        {
            "schemaVersion": "messages-v1",
            "messages": [{"role": "user", "content": [{"text": "Hi"}]}],
            "inferenceConfig": {"max_new_tokens": 100, "temperature": 0.7, "top_p": 0.9, "top_k": 20},
        },
        {
            "output": {"message": {"role": "assistant", "content": [{"text": "Hello"}]}},
            "stopReason": "end_turn",
            "usage": {"inputTokens": 8, "outputTokens": 3, "totalTokens": 11, "cacheReadInputTokenCount": 2},
        },
        {},
        {
            "gen_ai.request.max_tokens": 100,
            "gen_ai.request.temperature": 0.7,
            "gen_ai.request.top_p": 0.9,
            "gen_ai.request.top_k": 20,
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.cache_read.input_tokens": 2,
            "gen_ai.usage.output_tokens": 3,
            "gen_ai.response.finish_reasons": ["end_turn"],
        },
    ),
    "titan_text": (
        "amazon.titan-text-express-v1",
        {"inputText": "Hi", "textGenerationConfig": {"maxTokenCount": 50, "temperature": 0.1, "stopSequences": ["|"]}},
        {"inputTextTokenCount": 3, "results": [{"tokenCount": 4, "outputText": "Hello", "completionReason": "FINISH"}]},
        {},
        {
            "gen_ai.request.max_tokens": 50,
            "gen_ai.request.temperature": 0.1,
            "gen_ai.request.stop_sequences": ["|"],
            "gen_ai.usage.input_tokens": 3,
            "gen_ai.usage.output_tokens": 4,
            "gen_ai.response.finish_reasons": ["FINISH"],
        },
    ),
    "llama": (
        "meta.llama3-1-70b-instruct-v1:0",
        {"prompt": "<|begin_of_text|>Hi", "max_gen_len": 128, "temperature": 0.3, "top_p": 0.8},
        {"generation": "Hello", "prompt_token_count": 6, "generation_token_count": 2, "stop_reason": "stop"},
        {},
        {
            "gen_ai.request.max_tokens": 128,
            "gen_ai.request.temperature": 0.3,
            "gen_ai.request.top_p": 0.8,
            "gen_ai.usage.input_tokens": 6,
            "gen_ai.usage.output_tokens": 2,
            "gen_ai.response.finish_reasons": ["stop"],
        },
    ),
    "mistral": (
        "mistral.mistral-7b-instruct-v0:2",
        {"prompt": "<s>[INST] Hi [/INST]", "max_tokens": 40, "top_k": 10, "stop": ["</s>"]},
        {"outputs": [{"text": "Hello", "stop_reason": "stop"}]},
        TOKEN_HEADERS,
        {
            "gen_ai.request.max_tokens": 40,
            "gen_ai.request.top_k": 10,
            "gen_ai.request.stop_sequences": ["</s>"],
            "gen_ai.usage.input_tokens": 21,
            "gen_ai.usage.output_tokens": 9,
            "gen_ai.response.finish_reasons": ["stop"],
        },
    ),
    "cohere": (
        "cohere.command-r-plus-v1:0",
        {"message": "Hi", "chat_history": [{"role": "USER", "message": "Before"}], "max_tokens": 30, "p": 0.5, "k": 3},
        {"response_id": "resp-1", "text": "Hello", "generation_id": "gen-1", "finish_reason": "COMPLETE"},
        TOKEN_HEADERS,
        {
            "gen_ai.request.max_tokens": 30,
            "gen_ai.request.top_p": 0.5,
            "gen_ai.request.top_k": 3,
            "gen_ai.response.id": "resp-1",
            "gen_ai.usage.input_tokens": 21,
            "gen_ai.usage.output_tokens": 9,
            "gen_ai.response.finish_reasons": ["COMPLETE"],
        },
    ),
    "openai_style": (
        "openai.gpt-oss-120b-1:0",
        {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 30, "temperature": 1.0},
        {
            "id": "chatcmpl-1",
            "model": "gpt-oss-120b",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "Hello"}}],
            "usage": {"prompt_tokens": 7, "completion_tokens": 2},
        },
        {},
        {
            "gen_ai.request.max_tokens": 30,
            "gen_ai.request.temperature": 1.0,
            "gen_ai.response.id": "chatcmpl-1",
            "gen_ai.response.model": "gpt-oss-120b",
            "gen_ai.usage.input_tokens": 7,
            "gen_ai.usage.output_tokens": 2,
            "gen_ai.response.finish_reasons": ["stop"],
        },
    ),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_invoke_model_families(family: str, stubbed: tuple[Any, Any], span_exporter: Any, ends: EndCounter) -> None:
    model_id, body, answer_body, headers, expected = FAMILIES[family]
    client, stubber = stubbed
    stubber.add_response("invoke_model", invoke_answer(answer_body, headers))
    answer = client.invoke_model(modelId=model_id, body=json.dumps(body))
    assert json.loads(answer["body"].read()) == answer_body  # the caller still reads the whole body
    span = only_span(span_exporter)
    assert span.name == f"chat {model_id}"
    found = attributes(span)
    identity = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "aws.bedrock",
        "gen_ai.request.model": model_id,
    }
    assert found == {**identity, "server.address": "bedrock-runtime.us-east-1.amazonaws.com", **expected}
    ends.check(span_exporter)


@pytest.mark.parametrize(
    ("model_id", "body", "answer_body", "input_tokens"),
    [
        (
            "amazon.titan-embed-text-v2:0",
            {"inputText": "Hi", "dimensions": 256},
            {"embedding": [0.1] * 4, "inputTextTokenCount": 3},
            3,
        ),
        (
            "cohere.embed-english-v3",
            {"texts": ["a", "b"], "input_type": "search_document"},
            {"id": "emb-1", "embeddings": [[0.1], [0.2]], "response_type": "embeddings_floats"},
            21,
        ),
    ],
)
def test_embedding_models(
    model_id: str,
    body: dict[str, Any],
    answer_body: dict[str, Any],
    input_tokens: int,
    stubbed: tuple[Any, Any],
    span_exporter: Any,
) -> None:
    client, stubber = stubbed
    stubber.add_response("invoke_model", invoke_answer(answer_body, TOKEN_HEADERS))
    client.invoke_model(modelId=model_id, body=json.dumps(body).encode())
    span = only_span(span_exporter)
    assert span.name == f"embeddings {model_id}"
    found = attributes(span)
    assert found["gen_ai.operation.name"] == "embeddings"
    assert found["gen_ai.usage.input_tokens"] == input_tokens
    assert "gen_ai.response.finish_reasons" not in found
    if "dimensions" in body:
        assert found["gen_ai.embeddings.dimension.count"] == 256


def test_a_provisioned_model_arn_is_recognised_by_its_body(stubbed: tuple[Any, Any], span_exporter: Any) -> None:
    model_id = "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123"
    body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    client, stubber = stubbed
    stubber.add_response("invoke_model", invoke_answer(payloads.anthropic_message(input_tokens=3, output_tokens=2)))
    client.invoke_model(modelId=model_id, body=json.dumps(body))
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.request.model"] == model_id
    assert found["gen_ai.usage.input_tokens"] == 3 and found["gen_ai.request.max_tokens"] == 10


def test_a_file_body_is_sent_unread_by_the_instrumentation(stubbed: tuple[Any, Any], span_exporter: Any) -> None:
    from botocore.stub import ANY

    client, stubber = stubbed
    stubber.add_response(
        "invoke_model", invoke_answer({"generation": "ok"}, TOKEN_HEADERS), {"modelId": ANY, "body": ANY}
    )
    body = io.BytesIO(b'{"prompt": "Hi", "max_gen_len": 5}')
    client.invoke_model(modelId="meta.llama3-8b-instruct-v1:0", body=body)
    assert body.tell() == 0
    found = attributes(only_span(span_exporter))
    assert "gen_ai.request.max_tokens" not in found  # not read: the caller's file stays at its position
    assert found["gen_ai.usage.input_tokens"] == 21


def test_content_of_prompt_and_anthropic_bodies(instrument_bedrock: Any, span_exporter: Any) -> None:
    from bedrock_support import client as make_client
    from botocore.stub import Stubber

    from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor

    BedrockInstrumentor().uninstrument()
    instrument_bedrock(capture_content="SPAN_ONLY")
    client = make_client()
    model_id, body, answer_body, headers, _ = FAMILIES["cohere"]
    claude_body = {
        "anthropic_version": "bedrock-2023-05-31",
        "max_tokens": 10,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hi"}],
    }
    with Stubber(client) as stubber:
        stubber.add_response("invoke_model", invoke_answer(answer_body, headers))
        stubber.add_response("invoke_model", invoke_answer(payloads.anthropic_message(text="Hey.")))
        client.invoke_model(modelId=model_id, body=json.dumps(body))
        client.invoke_model(modelId=CLAUDE, body=json.dumps(claude_body))
    cohere_span, claude_span = span_exporter.get_finished_spans()
    assert json_attribute(cohere_span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "Before"}]},
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]},
    ]
    assert json_attribute(cohere_span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello"}], "finish_reason": "COMPLETE"}
    ]
    assert json_attribute(claude_span, "gen_ai.system_instructions") == [{"type": "text", "content": "Be brief."}]
    assert json_attribute(claude_span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hey."}], "finish_reason": "end_turn"}
    ]


def test_invoke_model_error(stubbed: tuple[Any, Any], span_exporter: Any, ends: EndCounter) -> None:
    from botocore.exceptions import ClientError

    client, stubber = stubbed
    stubber.add_client_error("invoke_model", "ModelNotReadyException", "warming up", 429)
    with pytest.raises(ClientError):
        client.invoke_model(modelId=CLAUDE, body=b"{}")
    span = only_span(span_exporter)
    assert attributes(span)["error.type"] == "ModelNotReadyException"
    ends.check(span_exporter)


def test_an_error_reading_the_body_ends_the_span(
    stubbed: tuple[Any, Any], span_exporter: Any, ends: EndCounter
) -> None:
    from botocore.exceptions import ReadTimeoutError
    from botocore.response import StreamingBody
    from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout

    class _Stalled(io.RawIOBase):
        def read(self, size: int = -1) -> bytes:
            raise Urllib3ReadTimeout(None, "/model", "read timed out")  # type: ignore[arg-type]

    client, stubber = stubbed
    stubber.add_response("invoke_model", {"body": StreamingBody(_Stalled(), 10), "contentType": "application/json"})
    with pytest.raises(ReadTimeoutError):  # botocore's own error, raised by invoke_model instead of read()
        client.invoke_model(modelId=CLAUDE, body=b"{}")
    span = only_span(span_exporter)
    assert span.status.status_code.name == "ERROR"
    assert attributes(span)["error.type"] == "botocore.exceptions.ReadTimeoutError"
    ends.check(span_exporter)
