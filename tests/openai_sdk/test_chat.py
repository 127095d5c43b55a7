"""Chat Completions: plain calls, sync and async, with the exact span they produce."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_helpers import attributes, metric_points, only_span, point_attributes
from wikitrace_otel.semconv import SCHEMA_URL
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


class Answer(pydantic.BaseModel):
    answer: str


def expected_chat(port: int, **extra: Any) -> dict[str, Any]:
    base = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "127.0.0.1",
        "server.port": port,
        "openai.api.type": "chat_completions",
        "gen_ai.response.id": "chatcmpl-fake-1",
        "gen_ai.response.model": "gpt-4o-2026-01-01",
        "openai.response.service_tier": "default",
        "openai.response.system_fingerprint": "fp_fake",
        "gen_ai.usage.input_tokens": 11,
        "gen_ai.usage.output_tokens": 7,
        "gen_ai.usage.cache_read.input_tokens": 3,
        "gen_ai.usage.reasoning.output_tokens": 2,
        "gen_ai.response.finish_reasons": ["stop"],
    }
    base.update(extra)
    return base


def port_of(server: FakeOpenAIServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1].split("/", 1)[0])


def test_chat_create_span(instrumented, client, span_exporter, fake_openai) -> None:
    result = client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, temperature=0.2, top_p=0.9, max_tokens=50, seed=7, stop="END"
    )

    assert result.choices[0].message.content == "Hello from choice 0"
    span = only_span(span_exporter)
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope.schema_url == SCHEMA_URL
    assert attributes(span) == expected_chat(
        port_of(fake_openai),
        **{
            "gen_ai.request.temperature": 0.2,
            "gen_ai.request.top_p": 0.9,
            "gen_ai.request.max_tokens": 50,
            "gen_ai.request.seed": 7,
            "gen_ai.request.stop_sequences": ["END"],
        },
    )


async def test_async_chat_create_span(instrumented, async_client, span_exporter, fake_openai) -> None:
    result = await async_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, n=2)

    assert [c.message.content for c in result.choices] == ["Hello from choice 0", "Hello from choice 1"]
    span = only_span(span_exporter)
    assert attributes(span) == expected_chat(
        port_of(fake_openai),
        **{"gen_ai.request.choice.count": 2, "gen_ai.response.finish_reasons": ["stop", "stop"]},
    )


def test_tool_call_finish_reason(instrumented, client, span_exporter) -> None:
    result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, tools=TOOLS)

    assert result.choices[0].message.tool_calls[0].function.name == "get_weather"
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["tool_calls"]


def test_structured_output_via_parse(instrumented, client, span_exporter) -> None:
    result = client.chat.completions.parse(model="gpt-4o", messages=MESSAGES, response_format=Answer)

    assert result.choices[0].message.parsed == Answer(answer="42")
    span = only_span(span_exporter)
    assert span.name == "chat gpt-4o"
    assert attributes(span)["gen_ai.output.type"] == "json"
    assert attributes(span)["openai.api.type"] == "chat_completions"


async def test_async_parse(instrumented, async_client, span_exporter) -> None:
    result = await async_client.chat.completions.parse(model="gpt-4o", messages=MESSAGES, response_format=Answer)

    assert result.choices[0].message.parsed == Answer(answer="42")
    assert attributes(only_span(span_exporter))["gen_ai.usage.input_tokens"] == 11


def test_json_schema_response_format_is_json_output(instrumented, client, span_exporter) -> None:
    client.chat.completions.create(
        model="gpt-4o",
        messages=MESSAGES,
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": Answer.model_json_schema()}},
    )
    assert attributes(only_span(span_exporter))["gen_ai.output.type"] == "json"


def test_unset_parameters_produce_no_attributes(instrumented, client, span_exporter) -> None:
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=None, n=1)

    found = attributes(only_span(span_exporter))
    assert "gen_ai.request.temperature" not in found
    assert "gen_ai.request.choice.count" not in found
    assert "gen_ai.request.stream" not in found


def test_metrics_of_a_call(instrumented, client, metric_reader, fake_openai) -> None:
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    points = metric_points(metric_reader)
    expected_base = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2026-01-01",
        "server.address": "127.0.0.1",
        "server.port": port_of(fake_openai),
    }
    (duration,) = points["gen_ai.client.inference.duration"]
    assert point_attributes(duration) == expected_base
    assert duration.count == 1
    assert list(duration.explicit_bounds)[:3] == [0.01, 0.02, 0.04]
    (input_tokens,) = points["gen_ai.client.inference.usage.input_tokens"]
    assert input_tokens.value == 11
    assert point_attributes(input_tokens) == {**expected_base, "gen_ai.token.modality": "text"}
    assert points["gen_ai.client.inference.usage.output_tokens"][0].value == 7
    assert points["gen_ai.client.inference.usage.cache_read.input_tokens"][0].value == 3
    assert points["gen_ai.client.inference.usage.reasoning.output_tokens"][0].value == 2
    assert points["gen_ai.client.inference.operation.input_tokens"][0].sum == 11
    assert points["gen_ai.client.inference.operation.output_tokens"][0].sum == 7
    assert "gen_ai.client.token.usage" not in points
    assert "gen_ai.client.operation.duration" not in points


def test_legacy_names_only_in_legacy_mode(instrument, client, metric_reader, span_exporter) -> None:
    instrument(legacy_semconv=True)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    points = metric_points(metric_reader)
    usage = {point_attributes(p)["gen_ai.token.type"]: p.sum for p in points["gen_ai.client.token.usage"]}
    assert usage == {"input": 11, "output": 7}
    assert points["gen_ai.client.operation.duration"][0].count == 1
    assert attributes(only_span(span_exporter))["gen_ai.system"] == "openai"


@pytest.mark.parametrize("azure_async", [False, True])
async def test_azure_client_provider(instrumented, span_exporter, fake_openai, azure_async) -> None:
    import openai

    cls = openai.AsyncAzureOpenAI if azure_async else openai.AzureOpenAI
    azure = cls(api_key="k", azure_endpoint=fake_openai.azure_endpoint, api_version="2024-10-21", max_retries=0)
    call = azure.chat.completions.create(model="my-deployment", messages=MESSAGES)
    if azure_async:
        await call
        await azure.close()
    else:
        azure.close()

    found = attributes(only_span(span_exporter))
    assert found["gen_ai.provider.name"] == "azure.ai.openai"
    assert found["gen_ai.request.model"] == "my-deployment"
    assert not [key for key in found if key.startswith("openai.")]
