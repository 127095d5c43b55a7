"""Responses API: ``responses.create``, ``.parse`` and ``.retrieve``, sync and async, with the
exact spans and metrics they produce."""

from __future__ import annotations

import inspect
from typing import Any

import pydantic
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_helpers import attributes, metric_points, only_span, point_attributes
from wikitrace_otel.semconv import SCHEMA_URL
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer, FakeResponse
from wikitrace_otel.testing.fake_openai.responses_api import response_object

TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]
USAGE_METRICS = (
    "gen_ai.client.inference.usage.input_tokens",
    "gen_ai.client.inference.usage.output_tokens",
    "gen_ai.client.inference.usage.cache_read.input_tokens",
    "gen_ai.client.inference.usage.cache_write.input_tokens",
    "gen_ai.client.inference.usage.reasoning.output_tokens",
    "gen_ai.client.inference.operation.input_tokens",
    "gen_ai.client.inference.operation.output_tokens",
)


class Answer(pydantic.BaseModel):
    answer: str


def server_attributes(server: FakeOpenAIServer) -> dict[str, Any]:
    return {
        "gen_ai.provider.name": "openai",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "openai.api.type": "responses",
    }


def expected_response(server: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    base = {
        "gen_ai.operation.name": "chat",
        **server_attributes(server),
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.id": "resp_fake_1",
        "gen_ai.response.model": "gpt-4o-2026-01-01",
        "openai.response.service_tier": "default",
        "gen_ai.usage.input_tokens": 13,
        "gen_ai.usage.output_tokens": 9,
        "gen_ai.usage.cache_read.input_tokens": 4,
        # The fake reports ``cache_write_tokens: 0``: a reported zero is kept as reported.
        "gen_ai.usage.cache_write.input_tokens": 0,
        "gen_ai.usage.reasoning.output_tokens": 5,
        "gen_ai.response.finish_reasons": ["stop"],
    }
    base.update(extra)
    return base


def expected_fetch(server: FakeOpenAIServer, response_id: str, model: str) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "fetch_response",
        **server_attributes(server),
        "gen_ai.response.id": response_id,
        "gen_ai.response.model": model,
        "openai.response.service_tier": "default",
        "gen_ai.response.status": "completed",
    }


def supports(method: Any, parameter: str) -> bool:
    return parameter in inspect.signature(method).parameters


# --- responses.create -----------------------------------------------------------------


def test_create_span(instrumented, client, span_exporter, fake_openai) -> None:
    result = client.responses.create(model="gpt-4o", input="Hi", temperature=0.3, top_p=0.8)

    assert result.output_text == "Hello from responses"
    span = only_span(span_exporter)
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope.schema_url == SCHEMA_URL
    assert attributes(span) == expected_response(
        fake_openai, **{"gen_ai.request.temperature": 0.3, "gen_ai.request.top_p": 0.8}
    )
    assert fake_openai.requests[-1].path == "/v1/responses"


async def test_async_create_span(instrumented, async_client, span_exporter, fake_openai) -> None:
    result = await async_client.responses.create(model="gpt-4o", input="Hi")

    assert result.output_text == "Hello from responses"
    span = only_span(span_exporter)
    assert span.name == "chat gpt-4o"
    assert attributes(span) == expected_response(fake_openai)


def test_function_call_finish_reason(instrumented, client, span_exporter) -> None:
    result = client.responses.create(model="gpt-4o", input="Weather in Paris?", tools=TOOLS)

    assert result.output[0].type == "function_call"
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["tool_calls"]


@pytest.mark.parametrize(
    ("request_kwargs", "attribute", "value"),
    [
        ({"reasoning": {"effort": "high"}}, "gen_ai.request.reasoning.level", "high"),
        ({"max_output_tokens": 64}, "gen_ai.request.max_tokens", 64),
        ({"previous_response_id": "resp_prev"}, "gen_ai.request.previous_response.id", "resp_prev"),
        ({"service_tier": "flex"}, "openai.request.service_tier", "flex"),
        ({"text": {"format": {"type": "text"}}}, "gen_ai.output.type", "text"),
        ({"text": {"format": {"type": "json_object"}}}, "gen_ai.output.type", "json"),
    ],
    ids=["reasoning", "max_output_tokens", "previous_response_id", "service_tier", "text", "json_object"],
)
def test_request_attribute(instrumented, client, span_exporter, fake_openai, request_kwargs, attribute, value) -> None:
    client.responses.create(model="gpt-4o", input="Hi", **request_kwargs)

    assert attributes(only_span(span_exporter)) == expected_response(fake_openai, **{attribute: value})


def test_json_schema_text_format_is_json_output(instrumented, client, span_exporter) -> None:
    schema = {**Answer.model_json_schema(), "additionalProperties": False}
    result = client.responses.create(
        model="gpt-4o",
        input="What is the answer?",
        text={"format": {"type": "json_schema", "name": "answer", "schema": schema, "strict": True}},
    )

    assert result.output_text == '{"answer": "42"}'
    assert attributes(only_span(span_exporter))["gen_ai.output.type"] == "json"


@pytest.mark.parametrize("conversation", ["conv_1", {"id": "conv_1"}], ids=["str", "object"])
def test_conversation_id(instrumented, client, span_exporter, conversation) -> None:
    from openai.resources.responses import Responses

    if not supports(Responses.create, "conversation"):
        pytest.skip("this SDK has no `conversation` parameter")
    client.responses.create(model="gpt-4o", input="Hi", conversation=conversation)

    assert attributes(only_span(span_exporter))["gen_ai.conversation.id"] == "conv_1"


def test_no_conversation_id_is_synthesized(instrumented, client, span_exporter) -> None:
    client.responses.create(model="gpt-4o", input="Hi", previous_response_id="resp_prev")

    assert "gen_ai.conversation.id" not in attributes(only_span(span_exporter))


def test_create_metrics(instrumented, client, metric_reader, fake_openai) -> None:
    client.responses.create(model="gpt-4o", input="Hi")

    points = metric_points(metric_reader)
    base = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2026-01-01",
        "server.address": "127.0.0.1",
        "server.port": fake_openai.port,
    }
    (duration,) = points["gen_ai.client.inference.duration"]
    assert point_attributes(duration) == base
    assert duration.count == 1
    text = {**base, "gen_ai.token.modality": "text"}
    values = {name: [(p.value, point_attributes(p)) for p in points[name]] for name in USAGE_METRICS[:3]}
    assert values == {
        "gen_ai.client.inference.usage.input_tokens": [(13, text)],
        "gen_ai.client.inference.usage.output_tokens": [(9, text)],
        "gen_ai.client.inference.usage.cache_read.input_tokens": [(4, text)],
    }
    assert points["gen_ai.client.inference.usage.reasoning.output_tokens"][0].value == 5
    # A reported zero adds nothing to a counter.
    assert "gen_ai.client.inference.usage.cache_write.input_tokens" not in points
    assert "gen_ai.client.operation.duration" not in points


def test_incomplete_response_finish_reason(instrumented, client, span_exporter, fake_openai) -> None:
    incomplete = {"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}
    fake_openai.enqueue(FakeResponse.json({**response_object({"model": "gpt-4o"}), **incomplete}))

    result = client.responses.create(model="gpt-4o", input="Hi", max_output_tokens=16)

    assert result.status == "incomplete"
    assert attributes(only_span(span_exporter)) == expected_response(
        fake_openai, **{"gen_ai.request.max_tokens": 16, "gen_ai.response.finish_reasons": ["length"]}
    )


# --- responses.parse ------------------------------------------------------------------


def test_parse_with_text_format(instrumented, client, span_exporter, fake_openai) -> None:
    result = client.responses.parse(model="gpt-4o", input="What is the answer?", text_format=Answer)

    assert result.output_parsed == Answer(answer="42")
    span = only_span(span_exporter)
    assert span.name == "chat gpt-4o"
    assert attributes(span) == expected_response(fake_openai, **{"gen_ai.output.type": "json"})


async def test_async_parse_with_text_format(instrumented, async_client, span_exporter, fake_openai) -> None:
    result = await async_client.responses.parse(model="gpt-4o", input="What is the answer?", text_format=Answer)

    assert result.output_parsed == Answer(answer="42")
    assert attributes(only_span(span_exporter)) == expected_response(fake_openai, **{"gen_ai.output.type": "json"})


# --- responses.retrieve ---------------------------------------------------------------


def test_retrieve_span(instrumented, client, span_exporter, fake_openai) -> None:
    result = client.responses.retrieve("resp_x")

    assert result.id == "resp_x"
    assert fake_openai.requests[-1].method == "GET"
    assert fake_openai.requests[-1].path == "/v1/responses/resp_x"
    span = only_span(span_exporter)
    assert span.name == "fetch_response"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == expected_fetch(fake_openai, "resp_x", "gpt-fake-2026-01-01")


async def test_async_retrieve_span(instrumented, async_client, span_exporter, fake_openai) -> None:
    result = await async_client.responses.retrieve(response_id="resp_x")

    assert result.id == "resp_x"
    span = only_span(span_exporter)
    assert span.name == "fetch_response"
    assert attributes(span) == expected_fetch(fake_openai, "resp_x", "gpt-fake-2026-01-01")


def test_retrieve_of_a_created_response(instrumented, client, span_exporter, fake_openai) -> None:
    created = client.responses.create(model="gpt-4o", input="Hi")
    fetched = client.responses.retrieve(created.id)

    assert fetched.output_text == "Hello from responses"
    chat, fetch = span_exporter.get_finished_spans()
    assert (chat.name, fetch.name) == ("chat gpt-4o", "fetch_response")
    assert attributes(fetch) == expected_fetch(fake_openai, "resp_fake_1", "gpt-4o-2026-01-01")


def test_retrieve_reports_the_stored_status(instrumented, client, span_exporter, fake_openai) -> None:
    fake_openai.enqueue(FakeResponse.json({**response_object({}, response_id="resp_bg"), "status": "in_progress"}))

    assert client.responses.retrieve("resp_bg").status == "in_progress"
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.response.status"] == "in_progress"
    assert "gen_ai.response.finish_reasons" not in found


def test_retrieve_records_no_token_metrics(instrumented, client, metric_reader, fake_openai) -> None:
    client.responses.retrieve("resp_x")

    points = metric_points(metric_reader)
    assert not [name for name in points if name in USAGE_METRICS]
    assert "gen_ai.client.inference.duration" not in points
    (duration,) = points["gen_ai.client.operation.duration"]
    assert point_attributes(duration) == {
        "gen_ai.operation.name": "fetch_response",
        "gen_ai.provider.name": "openai",
        "gen_ai.response.model": "gpt-fake-2026-01-01",
        "server.address": "127.0.0.1",
        "server.port": fake_openai.port,
    }


def test_streamed_retrieve_has_no_usage(instrumented, client, span_exporter, metric_reader, fake_openai) -> None:
    events = list(client.responses.retrieve("resp_x", stream=True))

    assert events[-1].type == "response.completed"
    span = only_span(span_exporter)
    assert span.name == "fetch_response"
    found = attributes(span)
    assert found["gen_ai.response.status"] == "completed"
    assert found["gen_ai.request.stream"] is True
    assert not [key for key in found if key.startswith("gen_ai.usage.")]
    assert "gen_ai.response.finish_reasons" not in found
    assert not [name for name in metric_points(metric_reader) if name in USAGE_METRICS]


def test_retrieve_not_found(instrumented, client, span_exporter, metric_reader, fake_openai) -> None:
    import openai

    fake_openai.enqueue(FakeResponse.error(404, "No response with id 'resp_missing' found.", param="response_id"))

    with pytest.raises(openai.NotFoundError) as raised:
        client.responses.retrieve("resp_missing")

    assert raised.value.status_code == 404
    span = only_span(span_exporter)
    assert span.name == "fetch_response"
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span) == {
        "gen_ai.operation.name": "fetch_response",
        **server_attributes(fake_openai),
        "gen_ai.response.id": "resp_missing",
        "error.type": "404",
    }
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"].endswith("NotFoundError")
    (duration,) = metric_points(metric_reader)["gen_ai.client.operation.duration"]
    assert point_attributes(duration)["error.type"] == "404"
