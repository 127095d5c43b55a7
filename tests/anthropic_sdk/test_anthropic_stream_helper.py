"""The ``messages.stream()`` helper: every way of reading it, every way of leaving it."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from operator import attrgetter
from typing import Any

import pytest
from anthropic_support import MODEL, USER, AnthropicSdk, rich_attributes, rich_message
from opentelemetry.trace import StatusCode

from otel_helpers import attributes, json_attribute, only_span
from sdk_support import EndCounter
from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, payloads, stream

TEXT_ONLY = payloads.message(MODEL, [payloads.text_block("one two three")], usage_body=payloads.usage(4, 3))


def _manager(sdk: AnthropicSdk, method: str = "messages.stream", **kwargs: Any) -> Any:
    return attrgetter(method)(sdk.client)(model=MODEL, max_tokens=64, messages=USER, **kwargs)


@asynccontextmanager
async def opened(sdk: AnthropicSdk, method: str = "messages.stream", **kwargs: Any) -> AsyncIterator[Any]:
    manager = _manager(sdk, method, **kwargs)
    if sdk.is_async:
        async with manager as helper:
            yield helper
    else:
        with manager as helper:
            yield helper


async def _maybe(sdk: AnthropicSdk, value: Any) -> Any:
    return await value if sdk.is_async else value


async def _texts(sdk: AnthropicSdk, helper: Any) -> list[str]:
    return await sdk.drain(helper.text_stream)


@pytest.mark.usefixtures("instrumented")
async def test_text_stream_then_final_message(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(rich_message())))
    async with opened(sdk) as helper:
        assert "".join(await _texts(sdk, helper)) == "Let me check the weather."
        final = await _maybe(sdk, helper.get_final_message())
        assert final.stop_reason == "tool_use"
    ends.check(span_exporter)
    found = attributes(only_span(span_exporter))
    for key, value in rich_attributes().items():
        assert found[key] == value, key
    assert found["gen_ai.request.stream"] is True


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("reader", ["get_final_message", "get_final_text", "until_done", "events"])
async def test_every_reader_ends_the_span_complete(
    reader: str, sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(TEXT_ONLY)))
    async with opened(sdk) as helper:
        if reader == "events":
            kinds = [e.type for e in await sdk.drain(helper)]
            assert "text" in kinds and kinds[-1] == "message_stop"
        else:
            result = await _maybe(sdk, getattr(helper, reader)())
            assert reader != "get_final_text" or result == "one two three"
        assert len(span_exporter.get_finished_spans()) == 1  # ended on exhaustion, inside the block
    ends.check(span_exporter)
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.response.finish_reasons"] == ["end_turn"]
    assert found["gen_ai.usage.output_tokens"] == 3


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("exit_by", ["break", "close", "exception"])
async def test_early_exits_end_the_span_once(
    exit_by: str, sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(rich_message())))
    with pytest.raises(KeyError) if exit_by == "exception" else nullcontext():
        async with opened(sdk) as helper:
            await sdk.drain(helper, limit=2)
            if exit_by == "close":
                await _maybe(sdk, helper.close())
                assert len(span_exporter.get_finished_spans()) == 1
            elif exit_by == "exception":
                raise KeyError("the application's own error")
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert attributes(span)["gen_ai.response.finish_reasons"] == ["error"]
    assert span.status.status_code is StatusCode.UNSET  # the application's error is not the call's


@pytest.mark.usefixtures("instrumented")
async def test_error_event_in_helper(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    import anthropic

    fake_anthropic.enqueue(stream([*payloads.message_events(TEXT_ONLY)[:2], payloads.error_event()]))
    with pytest.raises(anthropic.APIStatusError):
        async with opened(sdk) as helper:
            await _maybe(sdk, helper.get_final_message())
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["error.type"] == "overloaded_error"


@pytest.mark.usefixtures("instrumented")
async def test_http_error_on_enter(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    import anthropic

    from wikitrace_otel.testing.fake_anthropic import error

    fake_anthropic.enqueue(error(429, "rate_limit_error", "Slow down"))
    with pytest.raises(anthropic.RateLimitError):
        async with opened(sdk):
            pass
    ends.check(span_exporter)
    assert attributes(only_span(span_exporter))["error.type"] == "rate_limit_error"


@pytest.mark.usefixtures("instrumented")
async def test_helper_dropped_unread_ends_when_collected(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(TEXT_ONLY)))
    manager = _manager(sdk)
    helper = await (manager.__aenter__() if sdk.is_async else _maybe(sdk, manager.__enter__()))
    assert span_exporter.get_finished_spans() == ()
    del helper, manager
    gc.collect()
    ends.check(span_exporter)
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["error"]


@pytest.mark.usefixtures("instrumented")
def test_manager_never_entered_sends_nothing(anthropic_client: Any, fake_anthropic: Any, span_exporter: Any) -> None:
    # Sync only: the async SDK's manager holds an un-awaited coroutine, which Python warns about.
    _manager(AnthropicSdk(anthropic_client, is_async=False))
    gc.collect()
    assert fake_anthropic.requests == []
    assert span_exporter.get_finished_spans() == ()


async def test_helper_content_is_reassembled(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, instrument_anthropic: Any
) -> None:
    instrument_anthropic(capture_content="SPAN_ONLY")
    fake_anthropic.enqueue(stream(payloads.message_events(rich_message())))
    async with opened(sdk, "beta.messages.stream", system="Be brief.") as helper:
        await _maybe(sdk, helper.until_done())
    span = only_span(span_exporter)
    assert json_attribute(span, "gen_ai.system_instructions") == [{"type": "text", "content": "Be brief."}]
    assert json_attribute(span, "gen_ai.output.messages") == [
        {
            "role": "assistant",
            "finish_reason": "tool_use",
            "parts": [
                {"type": "reasoning", "content": "Weather needs a tool."},
                {"type": "text", "content": "Let me check the weather."},
                {
                    "type": "tool_call",
                    "id": "toolu_1",
                    "name": "get_weather",
                    "arguments": {"city": "Paris", "unit": "c"},
                },
            ],
        }
    ]


async def test_untraced_helper_is_untouched(sdk: AnthropicSdk, fake_anthropic: Any, span_exporter: Any) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(TEXT_ONLY)))
    async with opened(sdk) as helper:
        assert await _maybe(sdk, helper.get_final_text()) == "one two three"
    assert span_exporter.get_finished_spans() == ()
