"""``chat.completions.create(stream=True)`` and legacy ``completions.create(stream=True)``.

Each scenario runs with the sync and the async client (``sdk`` fixture). The span must end
exactly once however the stream ends, with what the chunks said, and the proxy handed to the
caller must behave like the SDK's own stream object.
"""

from __future__ import annotations

import gc
from typing import Any

import openai
from openai.types import Completion
from openai.types.chat import ChatCompletionChunk
from opentelemetry.trace import SpanKind, StatusCode
from stream_support import TTFC, Sdk, spy_on, timed_attributes

from otel_helpers import attributes, metric_points, only_span, point_attributes
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer, FakeResponse, payloads

MESSAGES = [{"role": "user", "content": "Hi"}]
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
USAGE = {
    "gen_ai.usage.input_tokens": 11,
    "gen_ai.usage.output_tokens": 7,
    "gen_ai.usage.cache_read.input_tokens": 3,
    "gen_ai.usage.reasoning.output_tokens": 2,
}
# Default stream: role delta, 3 content deltas, the finish-reason chunk.
CHUNKS = 5


def request_attributes(server: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    base = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "openai.api.type": "chat_completions",
        "gen_ai.request.stream": True,
    }
    return {**base, **extra}


def chat_stream_attributes(server: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    base = request_attributes(
        server,
        **{
            "gen_ai.response.id": "chatcmpl-fake-1",
            "gen_ai.response.model": "gpt-4o-2026-01-01",
            "openai.response.service_tier": "default",
            "openai.response.system_fingerprint": "fp_fake",
            "gen_ai.response.finish_reasons": ["stop"],
        },
    )
    return {**base, **extra}


async def open_chat_stream(sdk: Sdk, **kwargs: Any) -> Any:
    return await sdk.call("chat.completions.create", model="gpt-4o", messages=MESSAGES, stream=True, **kwargs)


# --- complete streams -------------------------------------------------------------------


async def test_exhausted_stream(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await open_chat_stream(sdk)
    chunks = await sdk.drain(stream)

    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from choice 0"
    assert len(chunks) == CHUNKS
    span = only_span(span_exporter)
    assert span.name == "chat gpt-4o"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert timed_attributes(span) == chat_stream_attributes(fake_openai)
    assert fake_openai.requests[-1].body["stream"] is True
    assert "stream_options" not in fake_openai.requests[-1].body
    ends.check(span_exporter)


async def test_stream_with_usage_requested_by_caller(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await open_chat_stream(sdk, stream_options={"include_usage": True})
    chunks = await sdk.drain(stream)

    assert chunks[-1].choices == []
    assert chunks[-1].usage.prompt_tokens == 11
    assert timed_attributes(only_span(span_exporter)) == chat_stream_attributes(fake_openai, **USAGE)
    ends.check(span_exporter)


async def test_two_choices(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await open_chat_stream(sdk, n=2)
    chunks = await sdk.drain(stream)

    assert {c.choices[0].index for c in chunks} == {0, 1}
    assert timed_attributes(only_span(span_exporter)) == chat_stream_attributes(
        fake_openai, **{"gen_ai.request.choice.count": 2, "gen_ai.response.finish_reasons": ["stop", "stop"]}
    )
    ends.check(span_exporter)


async def test_tool_call_stream(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await open_chat_stream(sdk, tools=TOOLS)
    chunks = await sdk.drain(stream)

    assert chunks[1].choices[0].delta.tool_calls[0].function.name == "get_weather"
    assert timed_attributes(only_span(span_exporter)) == chat_stream_attributes(
        fake_openai, **{"gen_ai.response.finish_reasons": ["tool_calls"]}
    )
    ends.check(span_exporter)


async def test_stream_metrics(instrumented, sdk, span_exporter, metric_reader, fake_openai) -> None:
    stream = await open_chat_stream(sdk)
    chunks = await sdk.drain(stream)

    points = metric_points(metric_reader)
    expected = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.response.model": "gpt-4o-2026-01-01",
        "server.address": "127.0.0.1",
        "server.port": fake_openai.port,
    }
    (first,) = points["gen_ai.client.inference.time_to_first_chunk"]
    assert point_attributes(first) == expected
    assert first.count == 1
    assert first.sum == attributes(only_span(span_exporter))[TTFC]
    (per_chunk,) = points["gen_ai.client.inference.time_per_output_chunk"]
    assert point_attributes(per_chunk) == expected
    assert per_chunk.count == len(chunks) - 1 == CHUNKS - 1
    assert 0 <= per_chunk.sum < 5
    (duration,) = points["gen_ai.client.inference.duration"]
    assert duration.count == 1
    assert duration.sum >= first.sum


# --- early exits: the span ends once, with "error" finish reasons and no error status --------


def assert_cut_short(span_exporter: Any, server: FakeOpenAIServer, reasons: list[str], read: bool = True) -> None:
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.UNSET
    if read:
        expected = chat_stream_attributes(server, **{"gen_ai.response.finish_reasons": reasons})
        found = timed_attributes(span)
    else:  # nothing was read: no response identity, no time to first chunk
        expected = request_attributes(server, **{"gen_ai.response.finish_reasons": reasons})
        found = attributes(span)
    if len(reasons) > 1:
        expected["gen_ai.request.choice.count"] = len(reasons)
    assert found == expected


async def test_break_inside_with(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await open_chat_stream(sdk)
    chunks = await sdk.break_inside_with(stream, after=2)

    assert len(chunks) == 2
    assert_cut_short(span_exporter, fake_openai, ["error"])
    ends.check(span_exporter)


async def test_break_after_first_of_two_choices_finished(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await open_chat_stream(sdk, n=2)
    # 4 chunks per choice, then choice 0's finish reason: choice 1 never finishes.
    await sdk.break_inside_with(stream, after=9)

    assert_cut_short(span_exporter, fake_openai, ["stop", "error"])
    ends.check(span_exporter)


async def test_close_after_partial_read(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await open_chat_stream(sdk)
    await sdk.drain(stream, limit=1)
    assert span_exporter.get_finished_spans() == ()
    await sdk.close(stream)
    await sdk.close(stream)  # a second close changes nothing

    assert_cut_short(span_exporter, fake_openai, ["error"])
    ends.check(span_exporter)


async def test_close_unread(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await open_chat_stream(sdk)
    await sdk.close(stream)

    assert_cut_short(span_exporter, fake_openai, ["error"], read=False)
    ends.check(span_exporter)


async def test_async_aclose(instrumented, async_client, span_exporter, fake_openai, ends) -> None:
    stream = await open_chat_stream(Sdk(async_client, True))
    await stream.__anext__()
    await stream.aclose()

    assert_cut_short(span_exporter, fake_openai, ["error"])
    ends.check(span_exporter)


async def test_dropped_unread(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await open_chat_stream(sdk)
    assert span_exporter.get_finished_spans() == ()
    del stream
    gc.collect()

    assert_cut_short(span_exporter, fake_openai, ["error"], read=False)
    ends.check(span_exporter)


def test_dropped_half_read(instrumented, client, span_exporter, fake_openai, ends) -> None:
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    next(stream)
    next(stream)
    del stream
    gc.collect()

    assert_cut_short(span_exporter, fake_openai, ["error"])
    ends.check(span_exporter)


def test_exhausted_then_closed_ends_once(instrumented, client, span_exporter, fake_openai, ends) -> None:
    with client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True) as stream:
        assert len(list(stream)) == CHUNKS
        assert len(span_exporter.get_finished_spans()) == 1
        stream.close()

    assert timed_attributes(only_span(span_exporter)) == chat_stream_attributes(fake_openai)
    ends.check(span_exporter)


# --- failures mid-stream ------------------------------------------------------------------


async def read_until_raised(sdk: Sdk, stream: Any) -> BaseException:
    try:
        await sdk.drain(stream)
    except Exception as exc:  # noqa: BLE001 - whatever this SDK version raises is the point
        return exc
    raise AssertionError("the stream did not fail")


async def test_stream_cut_by_server(instrument, sdk, span_exporter, fake_openai, ends) -> None:
    cut = FakeResponse.sse(payloads.chat_completion_chunks({"model": "gpt-4o"}), cut_after=2)
    fake_openai.enqueue(cut)
    baseline = await read_until_raised(sdk, await open_chat_stream(sdk))

    instrument()
    fake_openai.enqueue(cut)
    stream = await open_chat_stream(sdk)
    spy = spy_on(stream.__wrapped__)
    raised = await read_until_raised(sdk, stream)

    assert type(raised) is type(baseline)
    assert spy.raised == [raised]  # the SDK's own exception object, not a copy or a wrapper
    assert len(spy.yielded) == 2
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    expected_type = (
        "openai.APIConnectionError"
        if isinstance(raised, openai.APIConnectionError)
        else f"{type(raised).__module__.split('.')[0]}.{type(raised).__qualname__}"
    )
    assert timed_attributes(span) == chat_stream_attributes(
        fake_openai, **{"gen_ai.response.finish_reasons": ["error"], "error.type": expected_type}
    )
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"].endswith(type(raised).__qualname__)
    ends.check(span_exporter)


async def test_error_event_mid_stream(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    chunks = payloads.chat_completion_chunks({"model": "gpt-4o"})[:2]
    error = {"error": {"message": "The server is overloaded", "type": "server_error", "code": "server_overloaded"}}
    fake_openai.enqueue(FakeResponse.sse([*chunks, error]))
    stream = await open_chat_stream(sdk)
    spy = spy_on(stream.__wrapped__)
    raised = await read_until_raised(sdk, stream)

    assert type(raised) is openai.APIError
    assert spy.raised == [raised]
    assert raised.code == "server_overloaded"
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "APIError: The server is overloaded"
    assert timed_attributes(span) == chat_stream_attributes(
        fake_openai, **{"gen_ai.response.finish_reasons": ["error"], "error.type": "server_overloaded"}
    )
    ends.check(span_exporter)


# --- the proxy behaves like the SDK's stream --------------------------------------------------


async def test_proxy_looks_like_the_sdk_stream(instrumented, sdk, span_exporter, fake_openai) -> None:
    stream = await open_chat_stream(sdk)
    spy = spy_on(stream.__wrapped__)

    assert isinstance(stream, openai.AsyncStream if sdk.is_async else openai.Stream)
    assert type(stream.__wrapped__) is (openai.AsyncStream if sdk.is_async else openai.Stream)
    assert stream.response is stream.__wrapped__.response
    assert stream.response.status_code == 200
    assert stream.response.headers["x-request-id"] == "req_fake_1"
    assert stream._client is sdk.client  # private attributes pass through too
    stream.__wrapped__.custom_marker = "kept"
    assert stream.custom_marker == "kept"
    assert (stream.__aiter__() if sdk.is_async else iter(stream)) is stream
    chunks = await sdk.drain(stream)

    assert len(chunks) == CHUNKS
    assert all(type(chunk) is ChatCompletionChunk for chunk in chunks)
    assert all(mine is theirs for mine, theirs in zip(chunks, spy.yielded, strict=True))


async def test_with_returns_the_proxy(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await open_chat_stream(sdk)
    chunks = await sdk.break_inside_with(stream, after=CHUNKS + 1)  # asserts `as` is the proxy

    assert len(chunks) == CHUNKS
    assert timed_attributes(only_span(span_exporter)) == chat_stream_attributes(fake_openai)
    ends.check(span_exporter)


# --- legacy completions ------------------------------------------------------------------------


def legacy_attributes(server: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    base = {
        "gen_ai.operation.name": "text_completion",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-3.5-turbo-instruct",
        "server.address": "127.0.0.1",
        "server.port": server.port,
        "gen_ai.request.stream": True,
        "gen_ai.response.id": "cmpl-fake-1",
        "gen_ai.response.model": "gpt-3.5-turbo-instruct-2026-01-01",
        "openai.response.system_fingerprint": "fp_fake",
        "gen_ai.response.finish_reasons": ["length"],
    }
    return {**base, **extra}


async def test_legacy_completion_stream(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await sdk.call("completions.create", model="gpt-3.5-turbo-instruct", prompt="Say hi", stream=True)
    chunks = await sdk.drain(stream)

    assert all(type(chunk) is Completion for chunk in chunks)
    assert "".join(c.choices[0].text for c in chunks) == "Hello legacy"
    span = only_span(span_exporter)
    assert span.name == "text_completion gpt-3.5-turbo-instruct"
    assert timed_attributes(span) == legacy_attributes(fake_openai)
    ends.check(span_exporter)


async def test_legacy_two_choices_with_usage(instrumented, sdk, span_exporter, fake_openai) -> None:
    stream = await sdk.call(
        "completions.create",
        model="gpt-3.5-turbo-instruct",
        prompt="Say hi",
        stream=True,
        n=2,
        stream_options={"include_usage": True},
    )
    await sdk.drain(stream)

    assert timed_attributes(only_span(span_exporter)) == legacy_attributes(
        fake_openai,
        **{
            "gen_ai.request.choice.count": 2,
            "gen_ai.response.finish_reasons": ["length", "length"],
            "gen_ai.usage.input_tokens": 4,
            "gen_ai.usage.output_tokens": 6,
        },
    )


async def test_legacy_stream_closed_early(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await sdk.call("completions.create", model="gpt-3.5-turbo-instruct", prompt="Say hi", stream=True)
    await sdk.break_inside_with(stream, after=1)

    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert timed_attributes(span) == legacy_attributes(fake_openai, **{"gen_ai.response.finish_reasons": ["error"]})
    ends.check(span_exporter)
