"""Streams (``stream=True`` returns LiteLLM's ``CustomStreamWrapper``): one span per call, ended
exactly once, however the stream ends."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from litellm_support import LITELLM_SCOPE, OPENAI_SCOPE, USER, Driver

from otel_helpers import attributes, json_attribute, only_span
from sdk_support import EndCounter
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer


def _stream_wrapper_type() -> type:
    from litellm.litellm_core_utils.streaming_handler import CustomStreamWrapper

    return CustomStreamWrapper


def _stream(fake_openai: FakeOpenAIServer, **kwargs: Any) -> dict[str, Any]:
    return {
        "model": "openai/gpt-4o-mini",
        "messages": USER,
        "stream": True,
        "api_base": fake_openai.base_url,
        "api_key": "sk-test",
        "max_retries": 0,
        **kwargs,
    }


@pytest.mark.usefixtures("litellm_only")
async def test_exhausted_stream(llm: Driver, fake_openai: FakeOpenAIServer, span_exporter: Any, ends: EndCounter):
    stream = await llm.completion(**_stream(fake_openai, stream_options={"include_usage": True}))
    assert isinstance(stream, _stream_wrapper_type())  # the proxy passes isinstance checks

    chunks = await llm.drain(stream)

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from choice 0"
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.instrumentation_scope.name == LITELLM_SCOPE
    found = attributes(span)
    assert found["gen_ai.request.stream"] is True
    assert found["gen_ai.response.finish_reasons"] == ["stop"]
    assert found["gen_ai.usage.input_tokens"] == 11
    assert found["gen_ai.usage.output_tokens"] == 7
    assert found["gen_ai.response.time_to_first_chunk"] > 0


@pytest.mark.usefixtures("litellm_only")
async def test_stream_without_usage_has_no_token_counts(
    llm: Driver, fake_openai: FakeOpenAIServer, span_exporter: Any
) -> None:
    await llm.drain(await llm.completion(**_stream(fake_openai)))

    found = attributes(only_span(span_exporter))
    assert found["gen_ai.response.finish_reasons"] == ["stop"]
    assert "gen_ai.usage.input_tokens" not in found


@pytest.mark.usefixtures("litellm_only")
async def test_stream_dropped_unread_ends_once_on_collection(
    llm: Driver, fake_openai: FakeOpenAIServer, span_exporter: Any, ends: EndCounter
) -> None:
    stream = await llm.completion(**_stream(fake_openai))
    await llm.first(stream)
    assert span_exporter.get_finished_spans() == ()

    del stream
    gc.collect()

    ends.check(span_exporter)
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["error"]


@pytest.mark.usefixtures("litellm_only")
async def test_async_stream_aclose_ends_the_span(
    litellm_module: Any, fake_openai: FakeOpenAIServer, span_exporter: Any, ends: EndCounter
) -> None:
    if not hasattr(_stream_wrapper_type(), "aclose"):
        pytest.skip("this LiteLLM release's streams have no aclose()")
    stream = await litellm_module.acompletion(**_stream(fake_openai))
    await stream.__anext__()

    await stream.aclose()

    ends.check(span_exporter)
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["error"]


async def test_stream_content_capture(
    llm: Driver, fake_openai: FakeOpenAIServer, span_exporter: Any, instrument_litellm: Any
) -> None:
    instrument_litellm(capture_content="SPAN_ONLY")

    await llm.drain(await llm.completion(**_stream(fake_openai)))

    assert json_attribute(only_span(span_exporter), "gen_ai.output.messages") == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello from choice 0"}], "finish_reason": "stop"}
    ]


@pytest.mark.usefixtures("both")
async def test_with_the_openai_instrumentor_the_stream_has_its_span_only(
    llm: Driver, fake_openai: FakeOpenAIServer, span_exporter: Any, ends: EndCounter
) -> None:
    stream = await llm.completion(**_stream(fake_openai))
    assert type(stream) is _stream_wrapper_type()  # handed back untouched

    await llm.drain(stream)

    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.instrumentation_scope.name == OPENAI_SCOPE
    assert span.attributes["gen_ai.response.finish_reasons"] == ("stop",)
