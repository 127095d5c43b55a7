"""``chat``, ``embed`` and ``rerank`` (sync and async): spans, attributes, billed usage, metrics."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from cohere_support import EMBED_MODEL, MODEL, RERANK_MODEL, SCOPE, USER, CohereSdk
from opentelemetry.trace import SpanKind

from otel_helpers import attributes, metric_points, only_span, point_attributes
from sdk_support import EndCounter
from wikitrace_otel.testing.fake_cohere import FakeCohereServer, FakeResponse, payloads

pytestmark = pytest.mark.usefixtures("instrumented")


async def test_chat_span(sdk: CohereSdk, fake_cohere: FakeCohereServer, span_exporter: Any, ends: EndCounter) -> None:
    usage = payloads.usage(12, 5, raw_input=212, raw_output=6)
    fake_cohere.enqueue(FakeResponse.json(payloads.chat_response("Hi there", usage_body=usage)))
    result = await sdk.call(
        "chat",
        model=MODEL,
        messages=USER,
        temperature=0.3,
        p=0.9,
        k=40,
        max_tokens=64,
        seed=7,
        stop_sequences=["END"],
        presence_penalty=0.1,
        frequency_penalty=0.2,
        response_format={"type": "json_object"},
    )
    assert result.message.content[0].text == "Hi there"
    assert fake_cohere.requests[-1].path == "/v2/chat"
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == SCOPE
    assert attributes(span) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "cohere",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.temperature": 0.3,
        "gen_ai.request.top_p": 0.9,
        "gen_ai.request.top_k": 40,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.seed": 7,
        "gen_ai.request.stop_sequences": ["END"],
        "gen_ai.request.presence_penalty": 0.1,
        "gen_ai.request.frequency_penalty": 0.2,
        "gen_ai.output.type": "json",
        "server.address": "127.0.0.1",
        "server.port": fake_cohere.port,
        "gen_ai.response.id": "co-fake-1",
        "gen_ai.response.finish_reasons": ["COMPLETE"],
        # billed units are the usage: that is what is charged
        "gen_ai.usage.input_tokens": 12,
        "gen_ai.usage.output_tokens": 5,
        "cohere.usage.raw.input_tokens": 212,
        "cohere.usage.raw.output_tokens": 6,
    }


async def test_cached_tokens(sdk: CohereSdk, fake_cohere: FakeCohereServer, span_exporter: Any) -> None:
    usage = payloads.usage(120, 30, cached=100)
    fake_cohere.enqueue(FakeResponse.json(payloads.chat_response("Hi", usage_body=usage)))
    await sdk.call("chat", model=MODEL, messages=USER)
    found = attributes(only_span(span_exporter))
    # Older SDKs do not declare the field but keep it (their models allow extra fields).
    assert found["gen_ai.usage.cache_read.input_tokens"] == 100
    assert found["gen_ai.usage.input_tokens"] == 120


async def test_chat_metrics(sdk: CohereSdk, fake_cohere: FakeCohereServer, metric_reader: Any) -> None:
    await sdk.call("chat", model=MODEL, messages=USER)
    points = metric_points(metric_reader)
    (duration,) = points["gen_ai.client.inference.duration"]
    assert point_attributes(duration) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "cohere",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": fake_cohere.port,
    }
    assert [p.value for p in points["gen_ai.client.inference.usage.input_tokens"]] == [8]
    assert [p.value for p in points["gen_ai.client.inference.usage.output_tokens"]] == [6]


async def test_embed_span(
    sdk: CohereSdk, fake_cohere: FakeCohereServer, span_exporter: Any, ends: EndCounter, metric_reader: Any
) -> None:
    import cohere

    # output_dimension is newer than the oldest supported SDK
    newer = "output_dimension" in inspect.signature(cohere.v2.client.V2Client.embed).parameters
    extra = {"output_dimension": 8} if newer else {}
    result = await sdk.call(
        "embed",
        model=EMBED_MODEL,
        texts=["one two", "three"],
        input_type="search_document",
        embedding_types=["float"],
        **extra,
    )
    assert len(result.embeddings.float_) == 2 and len(result.embeddings.float_[0]) == (8 if newer else 4)
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.name == f"embeddings {EMBED_MODEL}"
    assert attributes(span) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "cohere",
        "gen_ai.request.model": EMBED_MODEL,
        **({"gen_ai.embeddings.dimension.count": 8} if newer else {}),
        "gen_ai.request.encoding_formats": ["float"],
        "server.address": "127.0.0.1",
        "server.port": fake_cohere.port,
        "gen_ai.response.id": "embed-fake-1",
        "gen_ai.usage.input_tokens": 3,
    }
    assert "gen_ai.client.operation.duration" in metric_points(metric_reader)


async def test_rerank_span(
    sdk: CohereSdk, fake_cohere: FakeCohereServer, span_exporter: Any, ends: EndCounter, metric_reader: Any
) -> None:
    result = await sdk.call("rerank", model=RERANK_MODEL, query="q", documents=["a", "b", "c"], top_n=2)
    assert [r.index for r in result.results] == [2, 1]
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.name == f"rerank {RERANK_MODEL}"
    assert attributes(span) == {
        "gen_ai.operation.name": "rerank",
        "gen_ai.provider.name": "cohere",
        "gen_ai.request.model": RERANK_MODEL,
        "server.address": "127.0.0.1",
        "server.port": fake_cohere.port,
        "gen_ai.response.id": "rerank-fake-1",
        "cohere.usage.search_units": 1,
    }
    (duration,) = metric_points(metric_reader)["gen_ai.client.operation.duration"]
    assert point_attributes(duration)["gen_ai.operation.name"] == "rerank"


def test_v2_of_a_v1_client_is_traced(fake_cohere: FakeCohereServer, span_exporter: Any) -> None:
    import cohere
    import httpx

    with httpx.Client() as http:
        client = cohere.Client(api_key="co-test", base_url=fake_cohere.base_url, httpx_client=http)
        client.v2.chat(model=MODEL, messages=USER)
    assert attributes(only_span(span_exporter))["server.port"] == fake_cohere.port


def test_default_base_url_is_the_cohere_api() -> None:
    import cohere
    import httpx

    from wikitrace_otel.instrumentors.cohere import base_url

    with httpx.Client() as http:
        client = cohere.ClientV2(api_key="co-test", httpx_client=http, base_url=None)
        assert base_url(client, {}).startswith("https://api.cohere.")
