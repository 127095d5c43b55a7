"""``chat.complete`` and ``embeddings.create`` (sync and async): span, attributes, usage, metrics."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from mistral_support import EMBED_MODEL, MODEL, SCOPE, USER, MistralSdk, mistral_class, sdk_module
from opentelemetry.trace import SpanKind

from otel_helpers import attributes, metric_points, only_span, point_attributes
from sdk_support import EndCounter
from wikitrace_otel.instrumentors.mistral.provider import server_url
from wikitrace_otel.testing.fake_mistral import FakeMistralServer, FakeResponse, payloads

pytestmark = pytest.mark.usefixtures("instrumented")


async def test_chat_complete_span(
    sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any, ends: EndCounter
) -> None:
    answer = payloads.chat_completion(MODEL, "Hi there", usage_body=payloads.usage(12, 5))
    fake_mistral.enqueue(FakeResponse.json(answer))
    result = await sdk.call(
        "chat.complete",
        model=MODEL,
        messages=USER,
        temperature=0.3,
        top_p=0.9,
        max_tokens=64,
        random_seed=7,
        stop=["END"],
        presence_penalty=0.1,
        frequency_penalty=0.2,
        response_format={"type": "json_object"},
    )
    assert result.choices[0].message.content == "Hi there"
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == SCOPE
    assert attributes(span) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "mistral_ai",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.seed": 7,
        "gen_ai.request.stop_sequences": ["END"],
        "gen_ai.request.presence_penalty": 0.1,
        "gen_ai.request.frequency_penalty": 0.2,
        "gen_ai.output.type": "json",
        "server.address": "127.0.0.1",
        "server.port": fake_mistral.port,
        "gen_ai.response.id": "cmpl-fake-1",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 5,
    }
    assert fake_mistral.requests[-1].body["random_seed"] == 7


async def test_cache_and_reasoning_tokens(sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any) -> None:
    usage = payloads.usage(120, 30, cached_tokens=100, reasoning_tokens=18)
    fake_mistral.enqueue(FakeResponse.json(payloads.chat_completion(MODEL, "Hi", usage_body=usage)))
    await sdk.call("chat.complete", model=MODEL, messages=USER)
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.usage.input_tokens"] == 120  # prompt tokens already include cached ones
    assert found["gen_ai.usage.output_tokens"] == 30
    if usage_keeps_unknown_fields():
        assert found["gen_ai.usage.cache_read.input_tokens"] == 100
        assert found["gen_ai.usage.reasoning.output_tokens"] == 18
    else:  # 1.x parses usage into a model that drops fields it does not declare
        assert "gen_ai.usage.cache_read.input_tokens" not in found
        assert "gen_ai.usage.reasoning.output_tokens" not in found


async def test_several_choices(sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any) -> None:
    fake_mistral.enqueue(FakeResponse.json(payloads.chat_completion(MODEL, "Hi", choices=2, finish_reason="length")))
    await sdk.call("chat.complete", model=MODEL, messages=USER, n=2)
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.request.choice.count"] == 2
    assert found["gen_ai.response.finish_reasons"] == ["length", "length"]


async def test_chat_metrics(sdk: MistralSdk, fake_mistral: FakeMistralServer, metric_reader: Any) -> None:
    await sdk.call("chat.complete", model=MODEL, messages=USER)
    points = metric_points(metric_reader)
    (duration,) = points["gen_ai.client.inference.duration"]
    assert point_attributes(duration) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "mistral_ai",
        "gen_ai.request.model": MODEL,
        "gen_ai.response.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": fake_mistral.port,
    }
    assert [p.value for p in points["gen_ai.client.inference.usage.input_tokens"]] == [9]
    assert [p.value for p in points["gen_ai.client.inference.usage.output_tokens"]] == [7]


async def test_embeddings_span(
    sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any, ends: EndCounter, metric_reader: Any
) -> None:
    # encoding_format is newer than the oldest supported SDK
    newer = "encoding_format" in inspect.signature(sdk_module("embeddings").Embeddings.create).parameters
    extra = {"encoding_format": "float"} if newer else {}
    result = await sdk.call(
        "embeddings.create", model=EMBED_MODEL, inputs=["one two", "three"], output_dimension=8, **extra
    )
    assert len(result.data) == 2 and len(result.data[0].embedding) == 8
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.name == f"embeddings {EMBED_MODEL}"
    assert attributes(span) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "mistral_ai",
        "gen_ai.request.model": EMBED_MODEL,
        "gen_ai.embeddings.dimension.count": 8,
        **({"gen_ai.request.encoding_formats": ["float"]} if newer else {}),
        "server.address": "127.0.0.1",
        "server.port": fake_mistral.port,
        "gen_ai.response.model": EMBED_MODEL,
        "gen_ai.usage.input_tokens": 3,
    }
    assert "gen_ai.client.operation.duration" in metric_points(metric_reader)


async def test_per_call_server_url_names_the_endpoint(
    sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any
) -> None:
    url = fake_mistral.base_url.replace("127.0.0.1", "localhost")
    await sdk.call("chat.complete", model=MODEL, messages=USER, server_url=url)
    assert attributes(only_span(span_exporter))["server.address"] == "localhost"


def test_default_server_is_the_mistral_api() -> None:
    with mistral_class()(api_key="test-key") as client:
        assert server_url(client.chat, {}) == "https://api.mistral.ai"


def usage_keeps_unknown_fields() -> bool:
    """Whether the installed SDK keeps usage fields it does not declare (2.x on)."""
    return sdk_module("models").UsageInfo.model_config.get("extra") == "allow"  # type: ignore[no-any-return]
