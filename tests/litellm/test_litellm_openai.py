"""LiteLLM calling OpenAI models through the real OpenAI SDK: one span per call, whoever emits it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from litellm_support import LITELLM_SCOPE, OPENAI_SCOPE, USER, Driver
from opentelemetry import trace

from otel_helpers import attributes, only_span
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer, FakeResponse


def _openai(fake_openai: FakeOpenAIServer, **kwargs: Any) -> dict[str, Any]:
    return {"api_base": fake_openai.base_url, "api_key": "sk-test", "max_retries": 0, **kwargs}


@pytest.mark.usefixtures("both")
async def test_with_the_openai_instrumentor_the_call_has_its_span_only(
    llm: Driver, fake_openai: FakeOpenAIServer, tracer_provider: Any, span_exporter: Any
) -> None:
    tracer = tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("step") as step:
        answer = await llm.completion(model="openai/gpt-4o-mini", messages=USER, **_openai(fake_openai))

    assert answer.choices[0].message.content
    chat, outer = span_exporter.get_finished_spans()
    assert outer.name == "step"
    assert chat.name == "chat gpt-4o-mini"
    assert chat.instrumentation_scope.name == OPENAI_SCOPE
    assert chat.parent is not None and chat.parent.span_id == step.get_span_context().span_id
    assert chat.attributes["gen_ai.usage.input_tokens"] == 11
    assert [r.path for r in fake_openai.requests] == ["/v1/chat/completions"]


@pytest.mark.usefixtures("litellm_only")
async def test_without_it_litellm_emits_the_span(
    llm: Driver, fake_openai: FakeOpenAIServer, tracer_provider: Any, span_exporter: Any
) -> None:
    tracer = tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("step") as step:
        before = time.time_ns()
        await llm.completion(
            model="openai/gpt-4o-mini", messages=USER, temperature=0.2, max_tokens=50, **_openai(fake_openai)
        )
        after = time.time_ns()

    spans = span_exporter.get_finished_spans()
    assert len(spans) == 2, [(s.name, s.instrumentation_scope.name) for s in spans]
    chat, _outer = spans
    assert chat.instrumentation_scope.name == LITELLM_SCOPE
    assert chat.kind == trace.SpanKind.CLIENT
    assert chat.parent is not None and chat.parent.span_id == step.get_span_context().span_id
    # Emitted after the call, but it covers the call.
    assert before <= chat.start_time <= chat.end_time <= after
    assert attributes(chat) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "server.address": "127.0.0.1",
        "server.port": fake_openai.port,
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 50,
        "gen_ai.response.id": "chatcmpl-fake-1",
        "gen_ai.response.model": "gpt-4o-mini-2026-01-01",
        "gen_ai.usage.input_tokens": 11,
        "gen_ai.usage.output_tokens": 7,
        "gen_ai.usage.cache_read.input_tokens": 3,
        "gen_ai.usage.reasoning.output_tokens": 2,
        "gen_ai.response.finish_reasons": ["stop"],
    }


@pytest.mark.usefixtures("litellm_only")
async def test_no_instrumentor_on_gives_no_span_from_the_openai_sdk(
    llm: Driver, fake_openai: FakeOpenAIServer, span_exporter: Any
) -> None:
    await llm.completion(model="gpt-4o-mini", messages=USER, **_openai(fake_openai))

    span = only_span(span_exporter)
    assert span.instrumentation_scope.name == LITELLM_SCOPE
    assert span.attributes["gen_ai.provider.name"] == "openai"  # inferred from the bare name
    assert span.attributes["gen_ai.request.model"] == "gpt-4o-mini"


@pytest.mark.usefixtures("both")
async def test_embeddings_with_the_openai_instrumentor(
    llm: Driver, fake_openai: FakeOpenAIServer, span_exporter: Any
) -> None:
    await llm.embedding(model="openai/text-embedding-3-small", input=["x"], **_openai(fake_openai))

    span = only_span(span_exporter)
    assert span.instrumentation_scope.name == OPENAI_SCOPE
    assert span.name == "embeddings text-embedding-3-small"


@pytest.mark.usefixtures("litellm_only")
async def test_embeddings_by_litellm(llm: Driver, fake_openai: FakeOpenAIServer, span_exporter: Any) -> None:
    await llm.embedding(model="openai/text-embedding-3-small", input=["x"], dimensions=8, **_openai(fake_openai))

    span = only_span(span_exporter)
    assert span.instrumentation_scope.name == LITELLM_SCOPE
    assert span.name == "embeddings text-embedding-3-small"
    assert attributes(span) == {
        "gen_ai.operation.name": "embeddings",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "text-embedding-3-small",
        "server.address": "127.0.0.1",
        "server.port": fake_openai.port,
        "gen_ai.embeddings.dimension.count": 8,
        "gen_ai.response.model": "text-embedding-3-small-2026-01-01",
        "gen_ai.usage.input_tokens": 5,
        "gen_ai.usage.output_tokens": 0,
    }


@pytest.mark.usefixtures("both")
async def test_an_error_has_the_openai_span_only(
    llm: Driver, fake_openai: FakeOpenAIServer, span_exporter: Any, litellm_module: Any
) -> None:
    fake_openai.enqueue(FakeResponse.error(429, "Slow down", code="rate_limit_exceeded"))

    with pytest.raises(litellm_module.RateLimitError):
        await llm.completion(model="openai/gpt-4o-mini", messages=USER, **_openai(fake_openai))

    span = only_span(span_exporter)
    assert span.instrumentation_scope.name == OPENAI_SCOPE
    assert span.attributes["error.type"] == "rate_limit_exceeded"


@pytest.mark.usefixtures("litellm_only")
async def test_router_calls_are_traced_once(
    litellm_module: Any, fake_openai: FakeOpenAIServer, span_exporter: Any
) -> None:
    params = {"model": "openai/gpt-4o-mini", "api_base": fake_openai.base_url, "api_key": "sk-test"}
    router = litellm_module.Router(model_list=[{"model_name": "fast", "litellm_params": params}], num_retries=0)

    await router.acompletion(model="fast", messages=USER)

    span = only_span(span_exporter)
    assert span.instrumentation_scope.name == LITELLM_SCOPE
    assert span.name == "chat gpt-4o-mini"


@pytest.mark.usefixtures("both")
async def test_a_budget_charges_the_provider_span_once_and_holds_nothing_in_flight(
    llm: Driver, fake_openai: FakeOpenAIServer
) -> None:
    import wikitrace_otel as wt

    with wt.budget(usd=100.0) as b:
        await llm.completion(model="openai/gpt-4o-mini", messages=USER, **_openai(fake_openai))
        await llm.completion(model="openai/gpt-4o-mini", messages=USER, **_openai(fake_openai))
    assert b.calls == 2
    assert b.in_flight == 0  # the LiteLLM wrapper's own admission was given back
