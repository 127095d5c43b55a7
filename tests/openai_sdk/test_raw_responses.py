"""``with_raw_response`` and ``with_streaming_response`` for every traced method, sync and async.

The SDK returns a response wrapper and parses only when asked. Plain ``with_raw_response`` has
read the body already, so its span ends at once; ``with_streaming_response`` ends it on
``parse()`` (or, unparsed, when its ``with`` block closes the response). ``parse()`` with
``stream=True`` hands out a traced stream. Every span ends exactly once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import openai
import pytest
from opentelemetry.trace import StatusCode
from stream_support import Sdk, timed_attributes

from otel_helpers import attributes, only_span
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer

CHAT_IDENTITY = {
    "gen_ai.response.id": "chatcmpl-fake-1",
    "gen_ai.response.model": "gpt-4o-2026-01-01",
    "openai.response.service_tier": "default",
    "openai.response.system_fingerprint": "fp_fake",
}
RESPONSES_RESULT = {
    "gen_ai.response.id": "resp_fake_1",
    "gen_ai.response.model": "gpt-4o-2026-01-01",
    "openai.response.service_tier": "default",
    "gen_ai.usage.input_tokens": 13,
    "gen_ai.usage.output_tokens": 9,
    "gen_ai.usage.cache_read.input_tokens": 4,
    "gen_ai.usage.cache_write.input_tokens": 0,
    "gen_ai.usage.reasoning.output_tokens": 5,
    "gen_ai.response.finish_reasons": ["stop"],
}
LEGACY_IDENTITY = {
    "gen_ai.response.id": "cmpl-fake-1",
    "gen_ai.response.model": "gpt-3.5-turbo-instruct-2026-01-01",
    "openai.response.system_fingerprint": "fp_fake",
}
FETCH_RESULT = {
    "gen_ai.response.model": "gpt-fake-2026-01-01",
    "openai.response.service_tier": "default",
    "gen_ai.response.status": "completed",
}


@dataclass(frozen=True)
class Case:
    """One traced SDK method and the span it produces (server attributes added by the tests)."""

    resource: str
    method: str
    kwargs: dict[str, Any]
    span_name: str
    result_type: str
    request: dict[str, Any]
    response: dict[str, Any]
    streamed: dict[str, Any] | None  # None: the method cannot stream
    args: tuple[Any, ...] = field(default=())

    def call(self, sdk: Sdk, mode: str, **extra: Any) -> Any:
        """``client.<resource>.<mode>.<method>(...)``: a coroutine or manager, not awaited."""
        target = sdk.client
        for name in (*self.resource.split("."), mode, self.method):
            target = getattr(target, name)
        return target(*self.args, **self.kwargs, **extra)


CASES = {
    "chat": Case(
        resource="chat.completions",
        method="create",
        kwargs={"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]},
        span_name="chat gpt-4o",
        result_type="ChatCompletion",
        request={
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "gpt-4o",
            "openai.api.type": "chat_completions",
        },
        response={
            **CHAT_IDENTITY,
            "gen_ai.usage.input_tokens": 11,
            "gen_ai.usage.output_tokens": 7,
            "gen_ai.usage.cache_read.input_tokens": 3,
            "gen_ai.usage.reasoning.output_tokens": 2,
            "gen_ai.response.finish_reasons": ["stop"],
        },
        streamed={**CHAT_IDENTITY, "gen_ai.response.finish_reasons": ["stop"]},
    ),
    "responses": Case(
        resource="responses",
        method="create",
        kwargs={"model": "gpt-4o", "input": "Hi"},
        span_name="chat gpt-4o",
        result_type="Response",
        request={"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o", "openai.api.type": "responses"},
        response=RESPONSES_RESULT,
        streamed=RESPONSES_RESULT,
    ),
    "embeddings": Case(
        resource="embeddings",
        method="create",
        kwargs={"model": "text-embedding-3-small", "input": "hi"},
        span_name="embeddings text-embedding-3-small",
        result_type="CreateEmbeddingResponse",
        request={"gen_ai.operation.name": "embeddings", "gen_ai.request.model": "text-embedding-3-small"},
        response={"gen_ai.response.model": "text-embedding-3-small-2026-01-01", "gen_ai.usage.input_tokens": 5},
        streamed=None,
    ),
    "legacy": Case(
        resource="completions",
        method="create",
        kwargs={"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi"},
        span_name="text_completion gpt-3.5-turbo-instruct",
        result_type="Completion",
        request={"gen_ai.operation.name": "text_completion", "gen_ai.request.model": "gpt-3.5-turbo-instruct"},
        response={
            **LEGACY_IDENTITY,
            "gen_ai.usage.input_tokens": 4,
            "gen_ai.usage.output_tokens": 6,
            "gen_ai.response.finish_reasons": ["length"],
        },
        streamed={**LEGACY_IDENTITY, "gen_ai.response.finish_reasons": ["length"]},
    ),
    "retrieve": Case(
        resource="responses",
        method="retrieve",
        args=("resp_stored_1",),
        kwargs={},
        span_name="fetch_response",
        result_type="Response",
        request={
            "gen_ai.operation.name": "fetch_response",
            "openai.api.type": "responses",
            "gen_ai.response.id": "resp_stored_1",
        },
        response=FETCH_RESULT,
        streamed=FETCH_RESULT,
    ),
}
STREAMING = [name for name, case in CASES.items() if case.streamed is not None]


def requested(case: Case, server: FakeOpenAIServer, stream: bool = False) -> dict[str, Any]:
    found = {
        **case.request,
        "gen_ai.provider.name": "openai",
        "server.address": "127.0.0.1",
        "server.port": server.port,
    }
    if stream:
        found["gen_ai.request.stream"] = True
    return found


def stream_class(sdk: Sdk) -> type:
    return openai.AsyncStream if sdk.is_async else openai.Stream


# --- with_raw_response -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
async def test_raw_response(instrumented, sdk, span_exporter, fake_openai, ends, name) -> None:
    case = CASES[name]
    raw = await sdk.resolve(case.call(sdk, "with_raw_response"))

    # The body has been read: the span is complete before anything is parsed by the caller.
    span = only_span(span_exporter)
    assert span.name == case.span_name
    assert span.status.status_code is StatusCode.UNSET
    assert attributes(span) == {**requested(case, fake_openai), **case.response}
    parsed = raw.parse()
    assert parsed is raw.parse()
    assert type(parsed).__name__ == case.result_type
    assert raw.headers["x-request-id"] == "req_fake_1"
    assert raw.status_code == 200
    ends.check(span_exporter)


@pytest.mark.parametrize("name", STREAMING)
async def test_raw_response_stream(instrumented, sdk, span_exporter, fake_openai, ends, name) -> None:
    case = CASES[name]
    raw = await sdk.resolve(case.call(sdk, "with_raw_response", stream=True))
    assert raw.headers["content-type"].startswith("text/event-stream")
    stream = raw.parse()
    assert stream is raw.parse()
    assert isinstance(stream, stream_class(sdk))
    assert span_exporter.get_finished_spans() == ()
    items = await sdk.drain(stream)

    assert len(items) > 3
    span = only_span(span_exporter)
    assert span.name == case.span_name
    assert timed_attributes(span) == {**requested(case, fake_openai, stream=True), **case.streamed}
    ends.check(span_exporter)


async def test_raw_response_stream_parsed_in_one_expression(instrumented, sdk, span_exporter, fake_openai) -> None:
    case = CASES["chat"]
    stream = (await sdk.resolve(case.call(sdk, "with_raw_response", stream=True))).parse()
    # The raw response is garbage now; the stream is not read yet, so its span must still be open.
    assert span_exporter.get_finished_spans() == ()
    await sdk.drain(stream)

    assert timed_attributes(only_span(span_exporter)) == {**requested(case, fake_openai, stream=True), **case.streamed}


async def test_raw_response_stream_left_early(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    case = CASES["chat"]
    raw = await sdk.resolve(case.call(sdk, "with_raw_response", stream=True))
    await sdk.break_inside_with(raw.parse(), after=2)

    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert timed_attributes(span) == {
        **requested(case, fake_openai, stream=True),
        **CHAT_IDENTITY,
        "gen_ai.response.finish_reasons": ["error"],
    }
    ends.check(span_exporter)


# --- with_streaming_response ---------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CASES))
async def test_streaming_response_parsed(instrumented, sdk, span_exporter, fake_openai, ends, name) -> None:
    case = CASES[name]
    async with sdk.entered(case.call(sdk, "with_streaming_response")) as response:
        assert span_exporter.get_finished_spans() == ()
        assert response.headers["x-request-id"] == "req_fake_1"
        parsed = await sdk.resolve(response.parse())
        # parse() read the body: the span ends there, not when the block is left.
        assert len(span_exporter.get_finished_spans()) == 1
        assert await sdk.resolve(response.parse()) is parsed

    assert type(parsed).__name__ == case.result_type
    span = only_span(span_exporter)
    assert span.name == case.span_name
    assert attributes(span) == {**requested(case, fake_openai), **case.response}
    ends.check(span_exporter)


@pytest.mark.parametrize("name", STREAMING)
async def test_streaming_response_stream(instrumented, sdk, span_exporter, fake_openai, ends, name) -> None:
    case = CASES[name]
    async with sdk.entered(case.call(sdk, "with_streaming_response", stream=True)) as response:
        stream = await sdk.resolve(response.parse())
        assert isinstance(stream, stream_class(sdk))
        assert await sdk.resolve(response.parse()) is stream
        items = await sdk.drain(stream)

    assert len(items) > 3
    assert timed_attributes(only_span(span_exporter)) == {**requested(case, fake_openai, stream=True), **case.streamed}
    ends.check(span_exporter)


async def test_streaming_response_stream_left_early(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    case = CASES["chat"]
    async with sdk.entered(case.call(sdk, "with_streaming_response", stream=True)) as response:
        await sdk.drain(await sdk.resolve(response.parse()), limit=2)
        assert span_exporter.get_finished_spans() == ()

    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert timed_attributes(span) == {
        **requested(case, fake_openai, stream=True),
        **CHAT_IDENTITY,
        "gen_ai.response.finish_reasons": ["error"],
    }
    ends.check(span_exporter)


# One method per code path (inference, embeddings, fetch): closing unparsed is the same for all.
@pytest.mark.parametrize("name", ["chat", "embeddings", "retrieve"])
async def test_streaming_response_unparsed(instrumented, sdk, span_exporter, fake_openai, ends, name) -> None:
    case = CASES[name]
    async with sdk.entered(case.call(sdk, "with_streaming_response")) as response:
        assert response.status_code == 200
        assert span_exporter.get_finished_spans() == ()

    span = only_span(span_exporter)
    assert span.name == case.span_name
    assert span.status.status_code is StatusCode.UNSET
    # Nothing was read, so nothing about the response is known.
    assert attributes(span) == requested(case, fake_openai)
    ends.check(span_exporter)
