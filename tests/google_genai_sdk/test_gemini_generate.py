"""``models.generate_content`` and ``embed_content``, sync and async: span, attributes, usage,
metrics, and chats (one span per message)."""

from __future__ import annotations

from typing import Any

import pytest
from gemini_support import MODEL, SCOPE, GeminiSdk, rich_attributes, rich_response

from otel_helpers import attributes, metric_points, only_span
from sdk_support import EndCounter
from wikitrace_otel.testing.fake_gemini import FakeGeminiServer, FakeResponse, payloads

pytestmark = pytest.mark.usefixtures("instrumented")


async def test_generate_content_span(
    sdk: GeminiSdk, fake_gemini: FakeGeminiServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_gemini.enqueue(FakeResponse.json(rich_response()))
    response = await sdk.call("generate_content", model=MODEL, contents="Weather in Paris?")
    assert response.candidates[0].content.parts[1].text == "Let me check the weather."
    span = only_span(span_exporter)
    ends.check(span_exporter)
    assert span.name == f"generate_content {MODEL}"
    assert span.kind.name == "CLIENT"
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == SCOPE
    assert attributes(span) == {
        "gen_ai.operation.name": "generate_content",
        "gen_ai.provider.name": "gcp.gemini",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": fake_gemini.port,
        **rich_attributes(response.response_id),
    }
    assert fake_gemini.requests[-1].path.endswith(f"/models/{MODEL}:generateContent")


@pytest.mark.parametrize("typed", [False, True], ids=["dict", "GenerateContentConfig"])
async def test_request_attributes_from_config(
    sdk: GeminiSdk, fake_gemini: FakeGeminiServer, span_exporter: Any, typed: bool
) -> None:
    from google.genai import types

    config: dict[str, Any] = {
        "temperature": 0.3,
        "top_p": 0.9,
        "top_k": 40,
        "max_output_tokens": 256,
        "stop_sequences": ["END"],
        "seed": 7,
        "candidate_count": 2,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "response_mime_type": "application/json",
    }
    fake_gemini.enqueue(
        FakeResponse.json(
            payloads.response(
                MODEL,
                [payloads.candidate([payloads.text_part("{}")], "STOP", 0), payloads.candidate([], "MAX_TOKENS", 1)],
            )
        )
    )
    await sdk.call(
        "generate_content",
        model=MODEL,
        contents="Hi",
        config=types.GenerateContentConfig(**config) if typed else config,
    )
    found = attributes(only_span(span_exporter))
    assert {k: v for k, v in found.items() if k.startswith("gen_ai.request.") or k == "gen_ai.output.type"} == {
        "gen_ai.request.model": MODEL,
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 40,
        "gen_ai.request.max_tokens": 256,
        "gen_ai.request.stop_sequences": ["END"],
        "gen_ai.request.seed": 7,
        "gen_ai.request.choice.count": 2,
        "gen_ai.request.presence_penalty": 0.1,
        "gen_ai.request.frequency_penalty": 0.2,
        "gen_ai.output.type": "json",
    }
    assert found["gen_ai.response.finish_reasons"] == ["stop", "max_tokens"]
    assert fake_gemini.requests[-1].body["generationConfig"]["maxOutputTokens"] == 256


async def test_a_camel_case_config_dict_is_read(sdk: GeminiSdk, span_exporter: Any) -> None:
    await sdk.call("generate_content", model=MODEL, contents="Hi", config={"maxOutputTokens": 9, "topK": 3})
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.request.max_tokens"] == 9
    assert found["gen_ai.request.top_k"] == 3


async def test_no_config_means_no_request_attributes(sdk: GeminiSdk, span_exporter: Any) -> None:
    await sdk.call("generate_content", model=MODEL, contents="Hi")
    found = attributes(only_span(span_exporter))
    assert not [k for k in found if k.startswith("gen_ai.request.") and k != "gen_ai.request.model"]
    assert "gen_ai.output.type" not in found
    assert found["gen_ai.usage.input_tokens"] == 5 and found["gen_ai.usage.output_tokens"] == 6
    assert "gen_ai.usage.reasoning.output_tokens" not in found
    assert "gen_ai.usage.cache_read.input_tokens" not in found


async def test_metrics(sdk: GeminiSdk, fake_gemini: FakeGeminiServer, metric_reader: Any) -> None:
    fake_gemini.enqueue(FakeResponse.json(rich_response()))
    await sdk.call("generate_content", model=MODEL, contents="Hi")
    points = metric_points(metric_reader)
    (duration,) = points["gen_ai.client.inference.duration"]
    assert duration.count == 1
    assert dict(duration.attributes)["gen_ai.operation.name"] == "generate_content"
    assert dict(duration.attributes)["gen_ai.response.model"] == MODEL
    assert sum(p.value for p in points["gen_ai.client.inference.usage.input_tokens"]) == 120
    assert sum(p.value for p in points["gen_ai.client.inference.usage.output_tokens"]) == 52
    assert sum(p.value for p in points["gen_ai.client.inference.usage.cache_read.input_tokens"]) == 100
    assert sum(p.value for p in points["gen_ai.client.inference.usage.reasoning.output_tokens"]) == 12


async def test_embed_content(sdk: GeminiSdk, fake_gemini: FakeGeminiServer, span_exporter: Any) -> None:
    result = await sdk.call(
        "embed_content", model="text-embedding-004", contents=["a", "b"], config={"output_dimensionality": 4}
    )
    assert len(result.embeddings) == 2
    span = only_span(span_exporter)
    assert span.name == "embeddings text-embedding-004"
    found = attributes(span)
    assert found["gen_ai.operation.name"] == "embeddings"
    assert found["gen_ai.provider.name"] == "gcp.gemini"
    assert found["gen_ai.embeddings.dimension.count"] == 4
    assert "gen_ai.usage.input_tokens" not in found  # the Gemini API does not count embedding input
    assert fake_gemini.requests[-1].path.endswith("/models/text-embedding-004:batchEmbedContents")


async def test_chat_messages_are_one_span_each(
    sdk: GeminiSdk, fake_gemini: FakeGeminiServer, span_exporter: Any
) -> None:
    chats = sdk.client.aio.chats if sdk.is_async else sdk.client.chats
    chat = chats.create(model=MODEL)
    for question in ("Hi", "And now?"):
        answer = chat.send_message(question)
        if sdk.is_async:
            answer = await answer
        assert answer.text == payloads.DEFAULT_TEXT
    spans = span_exporter.get_finished_spans()
    assert [s.name for s in spans] == [f"generate_content {MODEL}"] * 2
    assert len(fake_gemini.requests) == 2
    assert len(fake_gemini.requests[-1].body["contents"]) == 3  # the history went along


async def test_http_spans_nest_under_the_call(sdk: GeminiSdk, span_exporter: Any, tracer_provider: Any) -> None:
    tracer = tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("parent") as parent:
        await sdk.call("generate_content", model=MODEL, contents="Hi")
    spans = {s.name: s for s in span_exporter.get_finished_spans()}
    call = spans[f"generate_content {MODEL}"]
    assert call.parent is not None and call.parent.span_id == parent.get_span_context().span_id


@pytest.mark.parametrize("streamed", [False, True], ids=["plain", "stream"])
def test_the_span_is_current_while_the_sdk_sends(
    fake_gemini: FakeGeminiServer, span_exporter: Any, streamed: bool
) -> None:
    from google import genai
    from google.genai import types
    from opentelemetry import trace

    if "client_args" not in types.HttpOptions.model_fields:
        pytest.skip("this SDK release takes no HTTP client arguments")
    current: list[Any] = []

    def on_request(request: Any) -> None:
        current.append(trace.get_current_span().get_span_context().span_id)

    options = {"base_url": fake_gemini.base_url, "client_args": {"event_hooks": {"request": [on_request]}}}
    client = genai.Client(api_key="k", http_options=options)
    if streamed:
        chunks = client.models.generate_content_stream(model=MODEL, contents="Hi")
        assert current == []  # nothing is sent before the first read
        list(chunks)
    else:
        client.models.generate_content(model=MODEL, contents="Hi")
    client.close()
    span = only_span(span_exporter)
    assert span.context is not None and current == [span.context.span_id]


async def test_thinking_level_is_the_reasoning_level(sdk: GeminiSdk, span_exporter: Any) -> None:
    from google.genai import types

    if "thinking_level" not in types.ThinkingConfig.model_fields:
        pytest.skip("this SDK release has no thinking levels")
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_level="HIGH"))
    await sdk.call("generate_content", model=MODEL, contents="Hi", config=config)
    assert attributes(only_span(span_exporter))["gen_ai.request.reasoning.level"] == "high"
