"""Embeddings and legacy Completions, sync and async, with the exact spans and metrics."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_helpers import attributes, metric_points, only_span, point_attributes
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer, FakeResponse

EMBEDDING_MODEL = "text-embedding-3-small"
INSTRUCT_MODEL = "gpt-3.5-turbo-instruct"
INPUT_COUNTER = "gen_ai.client.inference.usage.input_tokens"
OUTPUT_COUNTER = "gen_ai.client.inference.usage.output_tokens"


def identity(server: FakeOpenAIServer, operation: str, model: str) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": operation,
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": model,
        "server.address": "127.0.0.1",
        "server.port": server.port,
    }


def expected_embeddings(server: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    return {
        **identity(server, "embeddings", EMBEDDING_MODEL),
        "gen_ai.response.model": f"{EMBEDDING_MODEL}-2026-01-01",
        "gen_ai.usage.input_tokens": 5,
        **extra,
    }


def expected_completion(server: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    return {
        **identity(server, "text_completion", INSTRUCT_MODEL),
        "gen_ai.response.id": "cmpl-fake-1",
        "gen_ai.response.model": f"{INSTRUCT_MODEL}-2026-01-01",
        "openai.response.system_fingerprint": "fp_fake",
        "gen_ai.usage.input_tokens": 4,
        "gen_ai.usage.output_tokens": 6,
        "gen_ai.response.finish_reasons": ["length"],
        **extra,
    }


# --- embeddings -----------------------------------------------------------------------


def test_embeddings_span(instrumented, client, span_exporter, fake_openai) -> None:
    result = client.embeddings.create(model=EMBEDDING_MODEL, input="hello")

    assert len(result.data) == 1
    assert len(result.data[0].embedding) == 8
    span = only_span(span_exporter)
    assert span.name == f"embeddings {EMBEDDING_MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    # encoding_format is not set by the caller (the SDK asks for base64 on its own): no attribute.
    assert attributes(span) == expected_embeddings(fake_openai)


async def test_async_embeddings_span(instrumented, async_client, span_exporter, fake_openai) -> None:
    result = await async_client.embeddings.create(model=EMBEDDING_MODEL, input=["a", "b"])

    assert [d.index for d in result.data] == [0, 1]
    span = only_span(span_exporter)
    assert span.name == f"embeddings {EMBEDDING_MODEL}"
    assert attributes(span) == expected_embeddings(fake_openai)


def test_embeddings_request_attributes(instrumented, client, span_exporter, fake_openai) -> None:
    result = client.embeddings.create(model=EMBEDDING_MODEL, input="hello", dimensions=256, encoding_format="float")

    assert len(result.data[0].embedding) == 256
    assert fake_openai.requests[-1].body["encoding_format"] == "float"
    assert attributes(only_span(span_exporter)) == expected_embeddings(
        fake_openai,
        **{"gen_ai.embeddings.dimension.count": 256, "gen_ai.request.encoding_formats": ["float"]},
    )


async def test_async_embeddings_base64(instrumented, async_client, span_exporter) -> None:
    result = await async_client.embeddings.create(model=EMBEDDING_MODEL, input="hi", encoding_format="base64")

    assert isinstance(result.data[0].embedding, str)  # asked for by the caller: left encoded
    assert attributes(only_span(span_exporter))["gen_ai.request.encoding_formats"] == ["base64"]


def test_embeddings_metrics(instrumented, client, metric_reader, fake_openai) -> None:
    client.embeddings.create(model=EMBEDDING_MODEL, input="hello")

    points = metric_points(metric_reader)
    base = {
        **identity(fake_openai, "embeddings", EMBEDDING_MODEL),
        "gen_ai.response.model": f"{EMBEDDING_MODEL}-2026-01-01",
    }
    (duration,) = points["gen_ai.client.operation.duration"]
    assert point_attributes(duration) == base
    assert duration.count == 1
    assert list(duration.explicit_bounds)[:3] == [0.01, 0.02, 0.04]
    assert "gen_ai.client.inference.duration" not in points
    (input_tokens,) = points["gen_ai.client.inference.usage.input_tokens"]
    assert (input_tokens.value, point_attributes(input_tokens)) == (5, {**base, "gen_ai.token.modality": "text"})
    assert "gen_ai.client.inference.usage.output_tokens" not in points


def test_embeddings_error(instrumented, client, span_exporter, metric_reader, fake_openai) -> None:
    import openai

    fake_openai.enqueue(FakeResponse.error(400, "Bad input", code="invalid_input"))

    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model=EMBEDDING_MODEL, input="")

    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span) == {**identity(fake_openai, "embeddings", EMBEDDING_MODEL), "error.type": "invalid_input"}
    (duration,) = metric_points(metric_reader)["gen_ai.client.operation.duration"]
    assert point_attributes(duration) == {
        **identity(fake_openai, "embeddings", EMBEDDING_MODEL),
        "error.type": "invalid_input",
    }


# --- legacy completions ---------------------------------------------------------------


def test_completion_span(instrumented, client, span_exporter, fake_openai) -> None:
    result = client.completions.create(
        model=INSTRUCT_MODEL, prompt="Say hi", max_tokens=5, temperature=0, stop=["\n", "END"]
    )

    assert result.choices[0].text == "Hello legacy"
    span = only_span(span_exporter)
    assert span.name == f"text_completion {INSTRUCT_MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == expected_completion(
        fake_openai,
        **{
            "gen_ai.request.max_tokens": 5,
            "gen_ai.request.temperature": 0,
            "gen_ai.request.stop_sequences": ["\n", "END"],
        },
    )


async def test_async_completion_span(instrumented, async_client, span_exporter, fake_openai) -> None:
    result = await async_client.completions.create(model=INSTRUCT_MODEL, prompt="Say hi", n=2)

    assert [c.text for c in result.choices] == ["Hello legacy", "Hello legacy"]
    span = only_span(span_exporter)
    assert span.name == f"text_completion {INSTRUCT_MODEL}"
    assert attributes(span) == expected_completion(
        fake_openai,
        **{"gen_ai.request.choice.count": 2, "gen_ai.response.finish_reasons": ["length", "length"]},
    )


def test_completion_metrics(instrumented, client, metric_reader, fake_openai) -> None:
    client.completions.create(model=INSTRUCT_MODEL, prompt="Say hi")

    points = metric_points(metric_reader)
    base = {
        **identity(fake_openai, "text_completion", INSTRUCT_MODEL),
        "gen_ai.response.model": f"{INSTRUCT_MODEL}-2026-01-01",
    }
    (duration,) = points["gen_ai.client.inference.duration"]
    assert point_attributes(duration) == base
    assert "gen_ai.client.operation.duration" not in points
    text = {**base, "gen_ai.token.modality": "text"}
    usage = {name: [(p.value, point_attributes(p)) for p in points[name]] for name in (INPUT_COUNTER, OUTPUT_COUNTER)}
    assert usage == {INPUT_COUNTER: [(4, text)], OUTPUT_COUNTER: [(6, text)]}
    assert points["gen_ai.client.inference.operation.input_tokens"][0].sum == 4
    assert points["gen_ai.client.inference.operation.output_tokens"][0].sum == 6


def test_streamed_completion(instrumented, client, span_exporter, fake_openai) -> None:
    chunks = list(client.completions.create(model=INSTRUCT_MODEL, prompt="Say hi", stream=True))

    assert "".join(c.choices[0].text for c in chunks) == "Hello legacy"
    span = only_span(span_exporter)
    found = attributes(span)
    assert found.pop("gen_ai.response.time_to_first_chunk") > 0
    # No usage: the stream carries none unless stream_options.include_usage is set.
    assert found == {
        **identity(fake_openai, "text_completion", INSTRUCT_MODEL),
        "gen_ai.request.stream": True,
        "gen_ai.response.id": "cmpl-fake-1",
        "gen_ai.response.model": f"{INSTRUCT_MODEL}-2026-01-01",
        "openai.response.system_fingerprint": "fp_fake",
        "gen_ai.response.finish_reasons": ["length"],
    }
