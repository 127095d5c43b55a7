"""``messages.create(stream=True)``: one span for the whole stream, ended exactly once however
the stream ends."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from anthropic_support import MODEL, USER, AnthropicSdk, rich_attributes, rich_message
from opentelemetry.trace import StatusCode

from otel_helpers import attributes, metric_points, only_span
from sdk_support import EndCounter
from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, payloads, stream

pytestmark = pytest.mark.usefixtures("instrumented")
TTFC = "gen_ai.response.time_to_first_chunk"


def _without_ttfc(span: Any) -> dict[str, Any]:
    found = attributes(span)
    ttfc = found.pop(TTFC, None)
    assert isinstance(ttfc, float) and ttfc > 0
    return found


async def _create_stream(sdk: AnthropicSdk, **kwargs: Any) -> Any:
    return await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=USER, stream=True, **kwargs)


async def test_exhausted_stream_reports_merged_usage(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter, metric_reader: Any
) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(rich_message())))
    events = await sdk.drain(await _create_stream(sdk))
    assert [e.type for e in events][:2] == ["message_start", "content_block_start"]
    ends.check(span_exporter)
    found = _without_ttfc(only_span(span_exporter))
    assert found == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "anthropic",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 64,
        "gen_ai.request.stream": True,
        "server.address": "127.0.0.1",
        "server.port": fake_anthropic.port,
        **rich_attributes(),
    }
    assert "gen_ai.client.inference.time_to_first_chunk" in metric_points(metric_reader)


async def test_usage_updated_by_message_delta_wins(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any
) -> None:
    events = payloads.message_events(payloads.message(MODEL, usage_body=payloads.usage(3, 9)))
    events[-2]["usage"] = {"output_tokens": 9, "input_tokens": 30, "cache_read_input_tokens": 4}
    fake_anthropic.enqueue(stream(events))
    await sdk.drain(await _create_stream(sdk))
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.usage.input_tokens"] == 34
    assert found["gen_ai.usage.cache_read.input_tokens"] == 4


async def test_connection_cut_mid_stream_is_an_error(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(rich_message()), cut_after=4))
    received: list[Any] = []
    with pytest.raises(Exception) as raised:
        async for event in _aiter(sdk, await _create_stream(sdk)):
            received.append(event)
    assert len(received) == 4
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    found = attributes(span)
    assert found["gen_ai.response.finish_reasons"] == ["error"]
    assert found["gen_ai.response.id"] == "msg_rich"
    assert found["error.type"] == _qualified(raised.value)


def _qualified(exc: BaseException) -> str:
    module = type(exc).__module__
    parts = [p for p in module.split(".") if not p.startswith("_")]
    return ".".join([*parts, type(exc).__qualname__])


async def _aiter(sdk: AnthropicSdk, source: Any) -> Any:
    if sdk.is_async:
        async for item in source:
            yield item
    else:
        for item in source:
            yield item


async def test_error_event_sets_anthropic_error_type(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    import anthropic

    events = [*payloads.message_events(rich_message())[:3], payloads.error_event("overloaded_error", "Overloaded")]
    fake_anthropic.enqueue(stream(events))
    with pytest.raises(anthropic.APIStatusError) as raised:
        await sdk.drain(await _create_stream(sdk))
    assert "Overloaded" in str(raised.value)
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert attributes(span)["error.type"] == "overloaded_error"
    assert span.events[0].name == "exception"


async def test_break_inside_with_ends_the_span(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(rich_message())))
    raw = await _create_stream(sdk)
    if sdk.is_async:
        async with raw as events:
            await sdk.drain(events, limit=2)
    else:
        with raw as events:
            await sdk.drain(events, limit=2)
    ends.check(span_exporter)
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.response.finish_reasons"] == ["error"]
    assert found["gen_ai.usage.input_tokens"] == 125  # from message_start


async def test_close_ends_the_span(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(rich_message())))
    raw = await _create_stream(sdk)
    await sdk.drain(raw, limit=1)
    await sdk.close(raw)
    await sdk.close(raw)  # twice: still one end
    ends.check(span_exporter)
    assert only_span(span_exporter).status.status_code is StatusCode.UNSET


async def test_unread_stream_ends_when_collected(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(rich_message())))
    raw = await _create_stream(sdk)
    assert span_exporter.get_finished_spans() == ()
    del raw
    gc.collect()
    ends.check(span_exporter)
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["error"]


async def test_stream_object_is_the_sdks(sdk: AnthropicSdk) -> None:
    import anthropic

    raw = await _create_stream(sdk)
    expected = anthropic.AsyncStream if sdk.is_async else anthropic.Stream
    assert raw.__class__ is expected
    # anthropic 0.7x's sync Stream answers isinstance() True only for its exact type (its
    # metaclass overrides the check), so no proxy can pass there; every other release is checked.
    meta = type(expected)
    if meta is type or "__instancecheck__" not in vars(meta):
        assert isinstance(raw, expected)
    assert raw.response.status_code == 200
    await sdk.drain(raw)
