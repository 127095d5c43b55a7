"""``chat.stream`` / ``chat.stream_async``: one span for the whole stream, ended exactly once
however the stream ends."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from mistral_support import MODEL, USER, MistralSdk
from opentelemetry.trace import StatusCode

from otel_helpers import attributes, metric_points, only_span
from sdk_support import EndCounter
from wikitrace_otel.testing.fake_mistral import FakeMistralServer, payloads, stream

pytestmark = pytest.mark.usefixtures("instrumented")
TTFC = "gen_ai.response.time_to_first_chunk"


def _answer() -> dict[str, Any]:
    return payloads.chat_completion(MODEL, "Streaming hello", usage_body=payloads.usage(11, 6), completion_id="s-1")


async def _release(sdk: MistralSdk, events: Any) -> None:
    """Close the HTTP response under the SDK's stream, bypassing our proxy."""
    response = events.__wrapped__.response
    if sdk.is_async:
        await response.aclose()
    else:
        response.close()


async def _stream(sdk: MistralSdk, **kwargs: Any) -> Any:
    return await sdk.call("chat.stream", model=MODEL, messages=USER, **kwargs)


async def test_exhausted_stream(
    sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any, ends: EndCounter, metric_reader: Any
) -> None:
    fake_mistral.enqueue(stream(payloads.chat_chunks(_answer())))
    events = await sdk.drain(await _stream(sdk, max_tokens=32))
    assert "".join(e.data.choices[0].delta.content or "" for e in events) == "Streaming hello"
    assert fake_mistral.requests[-1].body["stream"] is True
    ends.check(span_exporter)
    found = attributes(only_span(span_exporter))
    ttfc = found.pop(TTFC)
    assert isinstance(ttfc, float) and ttfc > 0
    assert found == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "mistral_ai",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 32,
        "gen_ai.request.stream": True,
        "server.address": "127.0.0.1",
        "server.port": fake_mistral.port,
        "gen_ai.response.id": "s-1",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 11,
        "gen_ai.usage.output_tokens": 6,
    }
    points = metric_points(metric_reader)
    assert "gen_ai.client.inference.time_to_first_chunk" in points
    assert "gen_ai.client.inference.time_per_output_chunk" in points


async def test_break_inside_with_ends_the_span(
    sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_mistral.enqueue(stream(payloads.chat_chunks(_answer())))
    events = await _stream(sdk)
    if sdk.is_async:
        async with events:
            assert len(await sdk.drain(events, limit=2)) == 2
    else:
        with events:
            assert len(await sdk.drain(events, limit=2)) == 2
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert attributes(span)["gen_ai.response.finish_reasons"] == ["error"]  # cut short: no reason came
    assert span.status.status_code is StatusCode.UNSET


async def test_close_ends_the_span(
    sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_mistral.enqueue(stream(payloads.chat_chunks(_answer())))
    events = await _stream(sdk)
    if not hasattr(type(events.__wrapped__), "close"):
        await _release(sdk, events)
        pytest.skip("this SDK release's streams have no close()")
    await sdk.drain(events, limit=1)
    assert span_exporter.get_finished_spans() == ()
    await sdk.close(events)
    await sdk.close(events)  # twice: still one end
    ends.check(span_exporter)
    assert attributes(only_span(span_exporter))["gen_ai.response.id"] == "s-1"


async def test_stream_cut_mid_body_records_the_error(
    sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_mistral.enqueue(stream(payloads.chat_chunks(_answer()), cut_after=2))
    events = await _stream(sdk)
    with pytest.raises(Exception) as raised:
        await sdk.drain(events)
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    found = attributes(span)
    assert found["gen_ai.response.finish_reasons"] == ["error"]
    assert found["error.type"] == f"{type(raised.value).__module__.split('.')[0]}.{type(raised.value).__qualname__}"
    assert span.events[0].name == "exception"


async def test_unread_stream_ends_when_collected(
    sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_mistral.enqueue(stream(payloads.chat_chunks(_answer())))
    events = await _stream(sdk)
    await _release(sdk, events)  # the connection, but not through the proxy
    del events
    gc.collect()
    ends.check(span_exporter)
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["error"]


async def test_several_streamed_choices(sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any) -> None:
    answer = payloads.chat_completion(MODEL, "Hi", choices=2, finish_reason="length")
    fake_mistral.enqueue(stream(payloads.chat_chunks(answer)))
    await sdk.drain(await _stream(sdk, n=2))
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["length", "length"]
