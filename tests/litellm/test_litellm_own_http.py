"""Providers LiteLLM calls with its own HTTP code (Anthropic here): LiteLLM's span is the only
record of the call, and it carries usage, cache counts and cost."""

from __future__ import annotations

from typing import Any

import pytest
from litellm_support import LITELLM_SCOPE, USER, Driver
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_helpers import attributes, json_attribute, only_span
from sdk_support import EndCounter
from wikitrace_otel.pricing import PriceTable
from wikitrace_otel.processors import CostEnrichingProcessor
from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, FakeResponse, error, payloads, stream

MODEL = "claude-sonnet-4-5"
SERVED = "claude-sonnet-4-5-20250929"


def _anthropic(server: FakeAnthropicServer, **kwargs: Any) -> dict[str, Any]:
    return {"model": f"anthropic/{MODEL}", "messages": USER, "api_base": server.base_url, "api_key": "sk-ant", **kwargs}


def _answer(cache_read: int | None = 1000, cache_write: int | None = 50) -> dict[str, Any]:
    usage = payloads.usage(100, 20, cache_read=cache_read, cache_write=cache_write)
    return payloads.message(SERVED, [payloads.text_block("Hello there")], usage_body=usage)


@pytest.fixture
def priced_exporter(instrument_litellm: Any) -> InMemorySpanExporter:
    """LiteLLM instrumented onto a provider whose exporter gets spans with their cost, as
    ``install()`` sets it up."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(CostEnrichingProcessor(SimpleSpanProcessor(exporter)))
    instrument_litellm(tracer_provider=provider)
    return exporter


async def test_usage_cache_counts_and_cost(
    llm: Driver, fake_anthropic: FakeAnthropicServer, priced_exporter: InMemorySpanExporter
) -> None:
    fake_anthropic.enqueue(FakeResponse.json(_answer()))

    await llm.completion(**_anthropic(fake_anthropic, max_tokens=64, temperature=0.5, stop=["END"]))

    span = only_span(priced_exporter)
    assert span.instrumentation_scope.name == LITELLM_SCOPE
    assert span.name == f"chat {MODEL}"
    found = attributes(span)
    cost = found.pop("gen_ai.usage.cost.amount")
    assert found.pop("gen_ai.response.id").startswith("chatcmpl-")  # LiteLLM's own id
    assert found == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": fake_anthropic.port,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.temperature": 0.5,
        "gen_ai.request.stop_sequences": ["END"],
        "gen_ai.response.model": SERVED,
        # LiteLLM folds Anthropic's cache reads and writes into prompt_tokens, as the conventions do.
        "gen_ai.usage.input_tokens": 1150,
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.usage.cache_read.input_tokens": 1000,
        "gen_ai.usage.cache_write.input_tokens": 50,
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.cost": cost,
        "gen_ai.usage.cost.currency": "USD",
        "gen_ai.usage.cost.source": "local",
    }
    price = PriceTable().lookup("anthropic", SERVED)
    assert price is not None and price.cache_read is not None and price.cache_read < price.input
    assert cost == pytest.approx(price.cost(1150, 20, cache_read=1000, cache_write=50))
    assert [r.path for r in fake_anthropic.requests] == ["/v1/messages"]


async def test_no_cache_counts_when_the_provider_reports_none(
    llm: Driver, fake_anthropic: FakeAnthropicServer, span_exporter: Any, litellm_only: Any
) -> None:
    fake_anthropic.enqueue(FakeResponse.json(_answer(cache_read=None, cache_write=None)))

    await llm.completion(**_anthropic(fake_anthropic, max_tokens=64))

    found = attributes(only_span(span_exporter))
    assert found["gen_ai.usage.input_tokens"] == 100
    assert not [key for key in found if "cache" in key or "reasoning" in key]


async def test_stream_with_usage(
    llm: Driver, fake_anthropic: FakeAnthropicServer, span_exporter: Any, litellm_only: Any, ends: EndCounter
) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(_answer(cache_read=None, cache_write=None))))

    chunks = await llm.drain(
        await llm.completion(
            **_anthropic(fake_anthropic, max_tokens=64, stream=True, stream_options={"include_usage": True})
        )
    )

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello there"
    ends.check(span_exporter)
    found = attributes(only_span(span_exporter))
    ttfc = found.pop("gen_ai.response.time_to_first_chunk")
    assert isinstance(ttfc, float) and ttfc > 0
    assert found.pop("gen_ai.response.id").startswith("chatcmpl-")
    assert found == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": fake_anthropic.port,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.stream": True,
        "gen_ai.response.model": MODEL,  # LiteLLM's chunks name the requested model
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 20,
        "gen_ai.response.finish_reasons": ["stop"],
    }


async def test_error_is_recorded_and_raised_unchanged(
    llm: Driver, fake_anthropic: FakeAnthropicServer, span_exporter: Any, litellm_only: Any, litellm_module: Any
) -> None:
    fake_anthropic.enqueue(error(429, "rate_limit_error", "Slow down"))

    with pytest.raises(litellm_module.RateLimitError) as raised:
        await llm.completion(**_anthropic(fake_anthropic, max_tokens=64))

    span = only_span(span_exporter)
    assert span.status.status_code.name == "ERROR"
    assert span.attributes["error.type"] == "429"
    assert span.events[0].name == "exception"
    assert span.events[0].attributes["exception.type"].endswith("RateLimitError")
    assert raised.value.status_code == 429


async def test_content_capture(
    llm: Driver, fake_anthropic: FakeAnthropicServer, span_exporter: Any, instrument_litellm: Any
) -> None:
    instrument_litellm(capture_content="SPAN_ONLY")
    fake_anthropic.enqueue(FakeResponse.json(_answer()))
    tools = [{"type": "function", "function": {"name": "find_store", "parameters": {"type": "object"}}}]

    await llm.completion(**_anthropic(fake_anthropic, max_tokens=64, tools=tools))

    span = only_span(span_exporter)
    assert json_attribute(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]}
    ]
    assert json_attribute(span, "gen_ai.tool.definitions") == [
        {"type": "function", "name": "find_store", "parameters": {"type": "object"}}
    ]
    assert json_attribute(span, "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello there"}], "finish_reason": "stop"}
    ]


async def test_no_content_by_default(
    llm: Driver, fake_anthropic: FakeAnthropicServer, span_exporter: Any, litellm_only: Any
) -> None:
    await llm.completion(**_anthropic(fake_anthropic, max_tokens=64))

    assert not [key for key in attributes(only_span(span_exporter)) if key.endswith(("messages", "definitions"))]
