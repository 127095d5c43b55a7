"""``chat_stream`` (a generator, or an async generator): one span for the whole stream, ended
exactly once however the stream ends."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from cohere_support import MODEL, USER, CohereSdk
from opentelemetry.trace import StatusCode

from otel_helpers import attributes, metric_points, only_span
from sdk_support import EndCounter
from wikitrace_otel.testing.fake_cohere import FakeCohereServer, error, payloads, stream

pytestmark = pytest.mark.usefixtures("instrumented")
TTFC = "gen_ai.response.time_to_first_chunk"


def _answer() -> dict[str, Any]:
    return payloads.chat_response("Streaming hello", usage_body=payloads.usage(11, 6, raw_input=51), response_id="s-1")


async def _close(sdk: CohereSdk, events: Any) -> None:
    """Close a stream mid-way. Cohere 5.x wraps its ``yield`` in a bare ``except: pass``, so
    closing its generator early raises RuntimeError with or without instrumentation."""
    try:
        await sdk.close(events)
    except RuntimeError as exc:
        assert "ignored GeneratorExit" in str(exc)
        await sdk.drain(events.__wrapped__)  # let the SDK's generator finish, or its finalizer raises again


async def test_exhausted_stream(
    sdk: CohereSdk, fake_cohere: FakeCohereServer, span_exporter: Any, ends: EndCounter, metric_reader: Any
) -> None:
    fake_cohere.enqueue(stream(payloads.chat_events(_answer())))
    events = await sdk.drain(sdk.stream(model=MODEL, messages=USER, max_tokens=32))
    assert [e.type for e in events][:2] == ["message-start", "content-start"]
    assert fake_cohere.requests[-1].body["stream"] is True
    ends.check(span_exporter)
    found = attributes(only_span(span_exporter))
    ttfc = found.pop(TTFC)
    assert isinstance(ttfc, float) and ttfc > 0
    assert found == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "cohere",
        "gen_ai.request.model": MODEL,
        "gen_ai.request.max_tokens": 32,
        "gen_ai.request.stream": True,
        "server.address": "127.0.0.1",
        "server.port": fake_cohere.port,
        "gen_ai.response.id": "s-1",
        "gen_ai.response.finish_reasons": ["COMPLETE"],
        "gen_ai.usage.input_tokens": 11,
        "gen_ai.usage.output_tokens": 6,
        "cohere.usage.raw.input_tokens": 51,
        "cohere.usage.raw.output_tokens": 6,
    }
    assert "gen_ai.client.inference.time_to_first_chunk" in metric_points(metric_reader)


async def test_nothing_is_sent_until_the_first_read(
    sdk: CohereSdk, fake_cohere: FakeCohereServer, span_exporter: Any, ends: EndCounter
) -> None:
    events = sdk.stream(model=MODEL, messages=USER)
    assert fake_cohere.requests == []
    await sdk.close(events)
    ends.check(span_exporter)
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["error"]


async def test_break_then_close_ends_the_span(
    sdk: CohereSdk, fake_cohere: FakeCohereServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_cohere.enqueue(stream(payloads.chat_events(_answer())))
    events = sdk.stream(model=MODEL, messages=USER)
    assert len(await sdk.drain(events, limit=2)) == 2
    assert span_exporter.get_finished_spans() == ()
    await _close(sdk, events)
    await _close(sdk, events)  # twice: still one end
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert attributes(span)["gen_ai.response.id"] == "s-1"
    assert attributes(span)["gen_ai.response.finish_reasons"] == ["error"]
    assert span.status.status_code is StatusCode.UNSET


async def test_http_error_surfaces_on_the_first_read(
    sdk: CohereSdk, fake_cohere: FakeCohereServer, span_exporter: Any, ends: EndCounter
) -> None:
    import cohere

    fake_cohere.enqueue(error(400, "bad request"))
    events = sdk.stream(model=MODEL, messages=USER)
    with pytest.raises(cohere.BadRequestError):
        await sdk.drain(events)
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["error.type"] == "400"


async def test_stream_cut_mid_body_records_the_error(
    sdk: CohereSdk, fake_cohere: FakeCohereServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_cohere.enqueue(stream(payloads.chat_events(_answer()), cut_after=3))
    with pytest.raises(Exception) as raised:
        await sdk.drain(sdk.stream(model=MODEL, messages=USER))
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["error.type"].endswith(type(raised.value).__qualname__)
    assert attributes(span)["gen_ai.response.finish_reasons"] == ["error"]


async def test_unread_stream_ends_when_collected(sdk: CohereSdk, span_exporter: Any, ends: EndCounter) -> None:
    events = sdk.stream(model=MODEL, messages=USER)
    del events
    gc.collect()
    ends.check(span_exporter)
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["error"]
