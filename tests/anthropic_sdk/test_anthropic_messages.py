"""Non-streamed ``messages.create`` / ``parse`` / ``count_tokens`` (and ``beta.messages``)."""

from __future__ import annotations

from typing import Any

import pytest
from anthropic_support import MODEL, SCOPE, USER, AnthropicSdk, rich_attributes, rich_message
from opentelemetry.trace import SpanKind, StatusCode

from otel_helpers import attributes, metric_points, only_span
from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, FakeResponse, payloads

pytestmark = pytest.mark.usefixtures("instrumented")


def _base(fake: FakeAnthropicServer, **extra: Any) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": fake.port,
        "gen_ai.request.max_tokens": 64,
        **extra,
    }


async def test_create_sets_request_response_and_usage(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any
) -> None:
    fake_anthropic.enqueue(FakeResponse.json(rich_message()))
    # Newer SDKs dropped the sampling keywords: extra_body is how they are sent there.
    sampling = {"temperature": 0.5, "top_p": 0.9, "top_k": 40}
    message = await sdk.call(
        "messages.create", model=MODEL, max_tokens=64, messages=USER, stop_sequences=["END"], extra_body=sampling
    )
    assert {k: fake_anthropic.requests[-1].body[k] for k in sampling} == sampling
    assert message.id == "msg_rich"
    span = only_span(span_exporter)
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.instrumentation_scope is not None and span.instrumentation_scope.name == SCOPE
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == _base(
        fake_anthropic,
        **{
            "gen_ai.request.temperature": 0.5,
            "gen_ai.request.top_p": 0.9,
            "gen_ai.request.top_k": 40,
            "gen_ai.request.stop_sequences": ["END"],
        },
        **rich_attributes(),
    )


async def test_usage_without_cache_fields_is_plain_input(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any
) -> None:
    fake_anthropic.enqueue(
        FakeResponse.json(payloads.message(MODEL, usage_body={"input_tokens": 7, "output_tokens": 3}))
    )
    await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=USER)
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.usage.input_tokens"] == 7
    assert found["gen_ai.usage.output_tokens"] == 3
    assert "gen_ai.usage.cache_read.input_tokens" not in found
    assert "gen_ai.usage.reasoning.output_tokens" not in found


async def test_effort_and_json_output_are_request_attributes(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any
) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    output_config = {"effort": "high", "format": {"type": "json_schema", "schema": schema}}
    fake_anthropic.enqueue(FakeResponse.json(payloads.message(MODEL)))
    # Through extra_body, which every SDK release accepts; newer ones also take output_config=.
    await sdk.call(
        "messages.create", model=MODEL, max_tokens=64, messages=USER, extra_body={"output_config": output_config}
    )
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.request.reasoning.level"] == "high"
    assert found["gen_ai.output.type"] == "json"
    if "output_config" in sdk.client.messages.create.__wrapped__.__code__.co_varnames:
        span_exporter.clear()
        await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=USER, output_config={"effort": "low"})
        found = attributes(only_span(span_exporter))
        assert found["gen_ai.request.reasoning.level"] == "low"
        assert "gen_ai.output.type" not in found


async def test_parse_is_traced_as_json_chat(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any
) -> None:
    pydantic = pytest.importorskip("pydantic")
    if not hasattr(sdk.client.messages, "parse"):
        pytest.skip("this SDK release has no messages.parse")

    class Answer(pydantic.BaseModel):
        a: str

    fake_anthropic.enqueue(FakeResponse.json(payloads.message(MODEL, [payloads.text_block('{"a": "x"}')])))
    parsed = await sdk.call("messages.parse", model=MODEL, max_tokens=64, messages=USER, output_format=Answer)
    assert parsed.parsed_output == Answer(a="x")
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.output.type"] == "json"
    assert found["gen_ai.response.finish_reasons"] == ["end_turn"]


async def test_beta_messages_create(sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any) -> None:
    fake_anthropic.enqueue(FakeResponse.json(rich_message()))
    await sdk.call("beta.messages.create", model=MODEL, max_tokens=64, messages=USER)
    assert attributes(only_span(span_exporter)) == _base(fake_anthropic, **rich_attributes())


@pytest.mark.parametrize("method", ["messages.count_tokens", "beta.messages.count_tokens"])
async def test_count_tokens_has_its_own_operation_and_no_usage(
    method: str, sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, metric_reader: Any
) -> None:
    counted = await sdk.call(method, model=MODEL, messages=USER)
    span = only_span(span_exporter)
    assert span.name == f"count_tokens {MODEL}"
    assert attributes(span) == {
        "gen_ai.operation.name": "count_tokens",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "server.address": "127.0.0.1",
        "server.port": fake_anthropic.port,
        "anthropic.message.count_tokens.input_tokens": counted.input_tokens,
    }
    points = metric_points(metric_reader)
    assert "gen_ai.client.operation.duration" in points
    assert "gen_ai.client.inference.usage.input_tokens" not in points


async def test_metrics_count_cache_and_reasoning_tokens(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, metric_reader: Any
) -> None:
    fake_anthropic.enqueue(FakeResponse.json(rich_message()))
    await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=USER)
    points = metric_points(metric_reader)
    totals = {
        name: sum(p.value for p in points[name])
        for name in (
            "gen_ai.client.inference.usage.input_tokens",
            "gen_ai.client.inference.usage.cache_read.input_tokens",
            "gen_ai.client.inference.usage.cache_write.input_tokens",
            "gen_ai.client.inference.usage.output_tokens",
            "gen_ai.client.inference.usage.reasoning.output_tokens",
        )
    }
    assert list(totals.values()) == [125, 100, 20, 40, 12]
    (duration,) = points["gen_ai.client.inference.duration"]
    assert duration.count == 1
    assert dict(duration.attributes)["gen_ai.provider.name"] == "anthropic"


async def test_span_nests_under_the_callers_span(sdk: AnthropicSdk, tracer_provider: Any, span_exporter: Any) -> None:
    with tracer_provider.get_tracer("app").start_as_current_span("handler") as parent:
        await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=USER)
    chat = next(s for s in span_exporter.get_finished_spans() if s.name.startswith("chat"))
    assert chat.parent is not None and chat.parent.span_id == parent.get_span_context().span_id
