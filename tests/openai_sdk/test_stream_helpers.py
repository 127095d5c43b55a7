"""Stream helpers (``chat.completions.stream()``, ``responses.stream()``), Responses streams and
the ``include_usage`` setting.

A helper creates its raw stream inside ``__enter__`` and closes the HTTP response itself; the
span must still end exactly once: one span per helper, ended at the latest when ``with`` is left.
Each scenario runs with the sync and the async client (``sdk`` fixture).
"""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai.types.responses import ResponseCompletedEvent, ResponseCreatedEvent
from opentelemetry.trace import StatusCode
from stream_support import Sdk, spy_on, timed_attributes

from otel_helpers import attributes, only_span
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer, FakeResponse, payloads

MESSAGES = [{"role": "user", "content": "Hi"}]
# Default Responses stream: created, in_progress, item added, part added, 3 text deltas,
# text done, part done, item done, completed.
RESPONSE_EVENTS = 11


def server_attributes(server: FakeOpenAIServer) -> dict[str, Any]:
    return {"gen_ai.provider.name": "openai", "server.address": "127.0.0.1", "server.port": server.port}


def chat_attributes(server: FakeOpenAIServer, reasons: list[str]) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        **server_attributes(server),
        "gen_ai.request.model": "gpt-4o",
        "openai.api.type": "chat_completions",
        "gen_ai.request.stream": True,
        "gen_ai.response.id": "chatcmpl-fake-1",
        "gen_ai.response.model": "gpt-4o-2026-01-01",
        "openai.response.service_tier": "default",
        "openai.response.system_fingerprint": "fp_fake",
        "gen_ai.response.finish_reasons": reasons,
    }


def responses_identity(server: FakeOpenAIServer) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        **server_attributes(server),
        "gen_ai.request.model": "gpt-4o",
        "openai.api.type": "responses",
        "gen_ai.request.stream": True,
        "gen_ai.response.id": "resp_fake_1",
        "gen_ai.response.model": "gpt-4o-2026-01-01",
        "openai.response.service_tier": "default",
    }


def responses_attributes(server: FakeOpenAIServer) -> dict[str, Any]:
    """What the ``response.completed`` event says."""
    return {
        **responses_identity(server),
        "gen_ai.usage.input_tokens": 13,
        "gen_ai.usage.output_tokens": 9,
        "gen_ai.usage.cache_read.input_tokens": 4,
        "gen_ai.usage.cache_write.input_tokens": 0,  # reported as 0 by the response
        "gen_ai.usage.reasoning.output_tokens": 5,
        "gen_ai.response.finish_reasons": ["stop"],
    }


def fetch_attributes(server: FakeOpenAIServer, response_id: str) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "fetch_response",
        **server_attributes(server),
        "openai.api.type": "responses",
        "gen_ai.request.stream": True,
        "gen_ai.response.id": response_id,
        "gen_ai.response.model": "gpt-fake-2026-01-01",
        "openai.response.service_tier": "default",
        "gen_ai.response.status": "completed",
    }


def chat_helper(sdk: Sdk) -> Any:
    return sdk.client.chat.completions.stream(model="gpt-4o", messages=MESSAGES)


def responses_helper(sdk: Sdk) -> Any:
    return sdk.client.responses.stream(model="gpt-4o", input="Hi")


# --- chat.completions.stream() ------------------------------------------------------------------


async def test_chat_helper_iterated(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    async with sdk.entered(chat_helper(sdk)) as stream:
        events = await sdk.drain(stream)
        # Exhaustion ends the span before the block is left.
        assert len(span_exporter.get_finished_spans()) == 1

    assert [e.type for e in events if e.type != "chunk"] == ["content.delta"] * 4 + ["content.done"]
    assert events[-1].content == "Hello from choice 0"
    span = only_span(span_exporter)
    assert span.name == "chat gpt-4o"
    assert timed_attributes(span) == chat_attributes(fake_openai, ["stop"])
    ends.check(span_exporter)


async def test_chat_helper_final_completion(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    async with sdk.entered(chat_helper(sdk)) as stream:
        completion = await sdk.resolve(stream.get_final_completion())

    assert completion.choices[0].message.content == "Hello from choice 0"
    assert completion.id == "chatcmpl-fake-1"
    assert timed_attributes(only_span(span_exporter)) == chat_attributes(fake_openai, ["stop"])
    ends.check(span_exporter)


async def test_chat_helper_until_done(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    async with sdk.entered(chat_helper(sdk)) as stream:
        await sdk.resolve(stream.until_done())
        assert stream.current_completion_snapshot.choices[0].message.content == "Hello from choice 0"
        assert len(span_exporter.get_finished_spans()) == 1

    assert timed_attributes(only_span(span_exporter)) == chat_attributes(fake_openai, ["stop"])
    ends.check(span_exporter)


async def test_chat_helper_break_ends_on_leaving_with(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    async with sdk.entered(chat_helper(sdk)) as stream:
        events = await sdk.drain(stream, limit=2)
        assert span_exporter.get_finished_spans() == ()

    assert [e.type for e in events] == ["chunk", "content.delta"]
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert timed_attributes(span) == chat_attributes(fake_openai, ["error"])
    ends.check(span_exporter)


async def test_chat_helper_close(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    async with sdk.entered(chat_helper(sdk)) as stream:
        await sdk.drain(stream, limit=1)
        await sdk.close(stream)
        # close() ends the span at once, not only when the block is left.
        assert len(span_exporter.get_finished_spans()) == 1

    assert timed_attributes(only_span(span_exporter)) == chat_attributes(fake_openai, ["error"])
    ends.check(span_exporter)


async def test_chat_helper_left_unread(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    async with sdk.entered(chat_helper(sdk)):
        assert span_exporter.get_finished_spans() == ()

    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.UNSET
    # Nothing was read: no response identity, no time to first chunk.
    assert attributes(span) == {
        "gen_ai.operation.name": "chat",
        **server_attributes(fake_openai),
        "gen_ai.request.model": "gpt-4o",
        "openai.api.type": "chat_completions",
        "gen_ai.request.stream": True,
        "gen_ai.response.finish_reasons": ["error"],
    }
    ends.check(span_exporter)


async def test_chat_helper_request_fails(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    fake_openai.enqueue(FakeResponse.error(500, "Boom", code="server_error", type_="server_error"))
    with pytest.raises(openai.InternalServerError) as raised:
        async with sdk.entered(chat_helper(sdk)):
            pytest.fail("entered a helper whose request failed")

    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert raised.value.code == "server_error"
    assert attributes(span)["error.type"] == "server_error"
    ends.check(span_exporter)


async def test_chat_helper_stream_cut_by_server(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    fake_openai.enqueue(FakeResponse.sse(payloads.chat_completion_chunks({"model": "gpt-4o"}), cut_after=2))
    with pytest.raises(Exception) as raised:
        async with sdk.entered(chat_helper(sdk)) as stream:
            spy = spy_on(stream._raw_stream.__wrapped__)
            await sdk.drain(stream)

    assert spy.raised == [raised.value]  # the SDK's own exception, through the helper unchanged
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["gen_ai.response.finish_reasons"] == ["error"]
    assert attributes(span)["error.type"].endswith(type(raised.value).__qualname__)
    ends.check(span_exporter)


# --- responses.create(stream=True) and responses.stream() -----------------------------------------


async def test_responses_stream_exhausted(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await sdk.call("responses.create", model="gpt-4o", input="Hi", stream=True)
    events = await sdk.drain(stream)

    assert len(events) == RESPONSE_EVENTS
    assert type(events[0]) is ResponseCreatedEvent
    assert type(events[-1]) is ResponseCompletedEvent
    span = only_span(span_exporter)
    assert span.name == "chat gpt-4o"
    assert span.status.status_code is StatusCode.UNSET
    assert timed_attributes(span) == responses_attributes(fake_openai)
    ends.check(span_exporter)


async def test_responses_stream_break(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await sdk.call("responses.create", model="gpt-4o", input="Hi", stream=True)
    assert isinstance(stream, openai.AsyncStream if sdk.is_async else openai.Stream)
    await sdk.break_inside_with(stream, after=3)

    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.UNSET
    # Identity comes from response.created; usage only arrives with response.completed.
    assert timed_attributes(span) == {**responses_identity(fake_openai), "gen_ai.response.finish_reasons": ["error"]}
    ends.check(span_exporter)


async def test_responses_helper_final_response(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    async with sdk.entered(responses_helper(sdk)) as stream:
        response = await sdk.resolve(stream.get_final_response())

    assert response.output_text == "Hello from responses"
    assert timed_attributes(only_span(span_exporter)) == responses_attributes(fake_openai)
    ends.check(span_exporter)


async def test_responses_helper_iterated(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    async with sdk.entered(responses_helper(sdk)) as stream:
        events = await sdk.drain(stream)

    assert [e.type for e in events][-1] == "response.completed"
    assert timed_attributes(only_span(span_exporter)) == responses_attributes(fake_openai)
    ends.check(span_exporter)


async def test_responses_helper_break(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    async with sdk.entered(responses_helper(sdk)) as stream:
        await sdk.drain(stream, limit=4)
        assert span_exporter.get_finished_spans() == ()

    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert timed_attributes(span) == {**responses_identity(fake_openai), "gen_ai.response.finish_reasons": ["error"]}
    ends.check(span_exporter)


async def test_responses_helper_close(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    async with sdk.entered(responses_helper(sdk)) as stream:
        await sdk.drain(stream, limit=1)
        await sdk.close(stream)
        assert len(span_exporter.get_finished_spans()) == 1

    assert timed_attributes(only_span(span_exporter)) == {
        **responses_identity(fake_openai),
        "gen_ai.response.finish_reasons": ["error"],
    }
    ends.check(span_exporter)


async def test_retrieve_stream_is_fetch_response(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    stream = await sdk.call("responses.retrieve", "resp_stored_7", stream=True)
    events = await sdk.drain(stream)

    assert events[-1].response.id == "resp_stored_7"
    assert fake_openai.requests[-1].query["stream"] == "true"
    span = only_span(span_exporter)
    assert span.name == "fetch_response"
    # A fetch performs no inference: no usage, no finish reasons.
    assert timed_attributes(span) == fetch_attributes(fake_openai, "resp_stored_7")
    ends.check(span_exporter)


async def test_responses_helper_resuming_a_response(instrumented, sdk, span_exporter, fake_openai, ends) -> None:
    async with sdk.entered(sdk.client.responses.stream(response_id="resp_stored_8")) as stream:
        response = await sdk.resolve(stream.get_final_response())

    assert response.id == "resp_stored_8"
    assert timed_attributes(only_span(span_exporter)) == fetch_attributes(fake_openai, "resp_stored_8")
    ends.check(span_exporter)


# --- the include_usage setting -----------------------------------------------------------------------

CHAT_USAGE = {
    "gen_ai.usage.input_tokens": 11,
    "gen_ai.usage.output_tokens": 7,
    "gen_ai.usage.cache_read.input_tokens": 3,
    "gen_ai.usage.reasoning.output_tokens": 2,
}


async def open_chat_stream(sdk: Sdk, **kwargs: Any) -> Any:
    return await sdk.call("chat.completions.create", model="gpt-4o", messages=MESSAGES, stream=True, **kwargs)


async def test_include_usage_setting_injects_stream_options(instrument, sdk, span_exporter, fake_openai) -> None:
    instrument(include_usage=True)
    chunks = await sdk.drain(await open_chat_stream(sdk))

    assert fake_openai.requests[-1].body["stream_options"] == {"include_usage": True}
    assert chunks[-1].usage.completion_tokens == 7
    assert timed_attributes(only_span(span_exporter)) == {**chat_attributes(fake_openai, ["stop"]), **CHAT_USAGE}


async def test_include_usage_setting_keeps_caller_stream_options(instrument, sdk, span_exporter, fake_openai) -> None:
    instrument(include_usage=True)
    await sdk.drain(await open_chat_stream(sdk, stream_options={"include_usage": False}))

    assert fake_openai.requests[-1].body["stream_options"] == {"include_usage": False}
    assert timed_attributes(only_span(span_exporter)) == chat_attributes(fake_openai, ["stop"])


async def test_include_usage_setting_leaves_plain_calls_alone(instrument, sdk, span_exporter, fake_openai) -> None:
    instrument(include_usage=True)
    await sdk.call("chat.completions.create", model="gpt-4o", messages=MESSAGES)

    assert "stream_options" not in fake_openai.requests[-1].body
    assert "gen_ai.request.stream" not in attributes(only_span(span_exporter))


async def test_include_usage_setting_reaches_the_chat_helper(instrument, sdk, span_exporter, fake_openai) -> None:
    instrument(include_usage=True)
    async with sdk.entered(chat_helper(sdk)) as stream:
        await sdk.resolve(stream.until_done())

    assert fake_openai.requests[-1].body.get("stream_options") == {"include_usage": True}
    assert timed_attributes(only_span(span_exporter))["gen_ai.usage.input_tokens"] == 11


async def test_include_usage_setting_leaves_responses_alone(instrument, sdk, span_exporter, fake_openai) -> None:
    instrument(include_usage=True)
    await sdk.drain(await sdk.call("responses.create", model="gpt-4o", input="Hi", stream=True))

    assert "stream_options" not in fake_openai.requests[-1].body
    assert timed_attributes(only_span(span_exporter)) == responses_attributes(fake_openai)


async def test_include_usage_setting_does_not_break_retrieve(instrument, sdk, span_exporter, fake_openai) -> None:
    instrument(include_usage=True)
    stream = await sdk.call("responses.retrieve", "resp_stored_9", stream=True)
    await sdk.drain(stream)

    assert timed_attributes(only_span(span_exporter)) == fetch_attributes(fake_openai, "resp_stored_9")
