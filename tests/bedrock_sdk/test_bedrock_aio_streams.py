"""aiobotocore's ``converse_stream`` and ``invoke_model_with_response_stream`` against the fake
Bedrock server: ``async for`` over the event stream, and every way it ends (exhaustion,
``break``, ``close()``, ``aclose()``, an error event, a cut connection, garbage collection)
ends its span exactly once."""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest

pytest.importorskip("aiobotocore", reason="aiobotocore is not installed: async Bedrock clients untested")

from bedrock_support import CLAUDE, NOVA, USER, check_converse_stream_read
from test_bedrock_streams import STREAMED_FAMILIES

from otel_helpers import attributes, json_attribute, only_span
from sdk_support import EndCounter
from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor
from wikitrace_otel.testing.fake_bedrock import FakeBedrockServer, eventstream, payloads, stream

pytestmark = pytest.mark.usefixtures("instrumented")

CLAUDE_BODY = json.dumps(
    {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": [{"role": "user", "content": "Hi"}]}
)


def _http_response(event_stream: Any) -> Any:
    """The aiohttp response under an event stream, closed by the test after dropping the stream."""
    return event_stream.__wrapped__._raw_stream


def _converse_events() -> list[eventstream.Frame]:
    return payloads.converse_events(payloads.converse_answer("Hello there", usage_body=payloads.usage(12, 7)))


async def test_converse_stream_read_to_the_end(
    aio_live: Any, span_exporter: Any, ends: EndCounter, metric_reader: Any
) -> None:
    answer = await aio_live.converse_stream(modelId=NOVA, messages=USER, inferenceConfig={"maxTokens": 50})
    check_converse_stream_read([event async for event in answer["stream"]], span_exporter, metric_reader)
    ends.check(span_exporter)


async def test_the_stream_is_still_aiobotocores(aio_live: Any) -> None:
    from aiobotocore.eventstream import AioEventStream

    event_stream = (await aio_live.converse_stream(modelId=NOVA, messages=USER))["stream"]
    assert isinstance(event_stream, AioEventStream)
    assert repr(event_stream) == repr(event_stream.__wrapped__)
    assert event_stream.get_initial_response is not None  # the stream's own methods pass through
    event_stream.close()


@pytest.mark.parametrize("closer", ["close", "aclose"])
async def test_break_then_close(closer: str, aio_live: Any, span_exporter: Any, ends: EndCounter) -> None:
    event_stream = (await aio_live.converse_stream(modelId=NOVA, messages=USER))["stream"]
    async for _ in event_stream:
        break
    assert span_exporter.get_finished_spans() == ()
    if closer == "close":
        assert event_stream.close() is None  # synchronous, as aiobotocore's own
    else:
        await event_stream.aclose()
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.response.finish_reasons"] == ["error"]  # cut short: no stop reason came
    assert "gen_ai.usage.input_tokens" not in found
    ends.check(span_exporter)


async def test_a_close_that_is_a_coroutine_is_awaited(
    aio_live: Any, span_exporter: Any, ends: EndCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Should a later aiobotocore make close() a coroutine, the span ends once it is awaited.
    from aiobotocore.eventstream import AioEventStream

    closed: list[bool] = []

    async def close(self: Any) -> None:
        self._raw_stream.close()
        closed.append(True)

    monkeypatch.setattr(AioEventStream, "close", close)
    event_stream = (await aio_live.converse_stream(modelId=NOVA, messages=USER))["stream"]
    closing = event_stream.close()
    assert span_exporter.get_finished_spans() == () and closed == []
    await closing
    assert closed == [True]
    only_span(span_exporter)
    ends.check(span_exporter)


async def test_close_unread(aio_live: Any, span_exporter: Any, ends: EndCounter) -> None:
    (await aio_live.converse_stream(modelId=NOVA, messages=USER))["stream"].close()
    assert only_span(span_exporter).status.status_code.name == "UNSET"
    ends.check(span_exporter)


@pytest.mark.parametrize("read", [0, 2])
async def test_garbage_collected(read: int, aio_live: Any, span_exporter: Any, ends: EndCounter) -> None:
    answer = await aio_live.converse_stream(modelId=NOVA, messages=USER)
    http = _http_response(answer["stream"])
    seen = 0
    if read:
        async for _ in answer["stream"]:
            seen += 1
            if seen == read:
                break
    del answer
    gc.collect()
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["error"]
    ends.check(span_exporter)
    http.close()


async def test_error_event_mid_stream(
    fake_bedrock: FakeBedrockServer, aio_live: Any, span_exporter: Any, ends: EndCounter
) -> None:
    from botocore.exceptions import EventStreamError

    frames = [*_converse_events()[:2], eventstream.exception("modelStreamErrorException", "model broke")]
    fake_bedrock.enqueue(stream(frames))
    answer = await aio_live.converse_stream(modelId=NOVA, messages=USER)
    seen = []
    with pytest.raises(EventStreamError) as raised:
        async for event in answer["stream"]:
            seen.append(event)
    assert len(seen) == 2
    span = only_span(span_exporter)
    assert span.status.status_code.name == "ERROR"
    assert attributes(span)["error.type"] == raised.value.response["Error"]["Code"] == "modelStreamErrorException"
    answer["stream"].close()
    ends.check(span_exporter)


async def test_connection_cut_mid_stream(
    fake_bedrock: FakeBedrockServer, aio_live: Any, span_exporter: Any, ends: EndCounter
) -> None:
    fake_bedrock.enqueue(stream(_converse_events(), cut_after=2))
    answer = await aio_live.converse_stream(modelId=NOVA, messages=USER)
    with pytest.raises(Exception) as raised:
        async for _ in answer["stream"]:
            pass
    span = only_span(span_exporter)
    assert span.status.status_code.name == "ERROR"
    assert span.events[0].attributes is not None
    assert span.events[0].attributes["exception.type"].endswith(type(raised.value).__name__)
    answer["stream"].close()
    ends.check(span_exporter)


async def test_streamed_content_is_reassembled(
    instrument_bedrock: Any, fake_bedrock: FakeBedrockServer, aio_live: Any, span_exporter: Any
) -> None:
    BedrockInstrumentor().uninstrument()
    instrument_bedrock(capture_content="SPAN_ONLY")
    tool_use = {"toolUse": {"toolUseId": "t1", "name": "get_weather", "input": {"city": "Paris"}}}
    answer = payloads.converse_answer(stop_reason="tool_use", content=[{"text": "Let me check."}, tool_use])
    fake_bedrock.enqueue(stream(payloads.converse_events(answer)))
    event_stream = (await aio_live.converse_stream(modelId=NOVA, messages=USER))["stream"]
    [_ async for _ in event_stream]
    (output,) = json_attribute(only_span(span_exporter), "gen_ai.output.messages")
    assert output["parts"] == [
        {"type": "text", "content": "Let me check."},
        {"type": "tool_call", "id": "t1", "name": "get_weather", "arguments": {"city": "Paris"}},
    ]
    assert output["finish_reason"] == "tool_use"


async def test_invoke_stream_anthropic(
    fake_bedrock: FakeBedrockServer, aio_live: Any, span_exporter: Any, ends: EndCounter
) -> None:
    message = payloads.anthropic_message(CLAUDE, "Hi there.", input_tokens=10, output_tokens=5, cache_read=40)
    fake_bedrock.enqueue(stream(payloads.anthropic_chunks(message)))
    answer = await aio_live.invoke_model_with_response_stream(modelId=CLAUDE, body=CLAUDE_BODY)
    chunks = [json.loads(e["chunk"]["bytes"]) async for e in answer["body"]]
    assert chunks[0]["type"] == "message_start"
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.request.stream"] is True and found["gen_ai.response.id"] == "msg_bdrk_fake"
    assert found["gen_ai.usage.input_tokens"] == 50 and found["gen_ai.usage.cache_read.input_tokens"] == 40
    assert found["gen_ai.response.finish_reasons"] == ["end_turn"]
    ends.check(span_exporter)


@pytest.mark.parametrize("how", ["close", "gc", "cut"])
async def test_invoke_stream_cut_short(
    how: str, fake_bedrock: FakeBedrockServer, aio_live: Any, span_exporter: Any, ends: EndCounter
) -> None:
    message = payloads.anthropic_message(CLAUDE)
    fake_bedrock.enqueue(stream(payloads.anthropic_chunks(message), cut_after=3 if how == "cut" else None))
    answer = await aio_live.invoke_model_with_response_stream(modelId=CLAUDE, body=CLAUDE_BODY)
    body = answer["body"]
    http = _http_response(body)
    await body.__anext__()
    if how == "close":
        body.close()
    elif how == "gc":
        del answer, body
        gc.collect()
    else:
        with pytest.raises(Exception):  # noqa: B017 - whatever aiohttp raises for a cut body
            async for _ in body:
                pass
    span = only_span(span_exporter)
    assert attributes(span)["gen_ai.response.finish_reasons"] == ["error"]
    assert (span.status.status_code.name == "ERROR") == (how == "cut")
    ends.check(span_exporter)
    http.close()


@pytest.mark.parametrize("family", sorted(STREAMED_FAMILIES))
async def test_invoke_stream_families(
    family: str, instrument_bedrock: Any, fake_bedrock: FakeBedrockServer, aio_live: Any, span_exporter: Any
) -> None:
    BedrockInstrumentor().uninstrument()
    instrument_bedrock(capture_content="SPAN_ONLY")
    model_id, body, chunks, (reason, input_tokens, output_tokens, text) = STREAMED_FAMILIES[family]
    fake_bedrock.enqueue(stream([eventstream.chunk(c) for c in chunks]))
    answer = await aio_live.invoke_model_with_response_stream(modelId=model_id, body=json.dumps(body))
    assert len([e async for e in answer["body"]]) == len(chunks)
    span = only_span(span_exporter)
    found = attributes(span)
    assert found["gen_ai.response.finish_reasons"] == [reason]
    assert (found["gen_ai.usage.input_tokens"], found["gen_ai.usage.output_tokens"]) == (input_tokens, output_tokens)
    (output,) = json_attribute(span, "gen_ai.output.messages")
    assert output["parts"] == [{"type": "text", "content": text}]
