"""Clients created before ``instrument()``: the SDK copies ``chat`` / ``chat_stream`` onto each
client at creation, and those copies are traced too: one span per call, none after uninstrument."""

from __future__ import annotations

from typing import Any

import pytest
from cohere_support import MODEL, USER, CohereSdk
from opentelemetry.trace import StatusCode

from otel_helpers import attributes, only_span
from sdk_support import EndCounter
from wikitrace_otel.instrumentors.cohere import CohereInstrumentor
from wikitrace_otel.testing.fake_cohere import FakeCohereServer


async def _chat_and_stream(sdk: CohereSdk) -> None:
    await sdk.call("chat", model=MODEL, messages=USER)
    await sdk.drain(sdk.stream(model=MODEL, messages=USER))


def _names(span_exporter: Any) -> list[str]:
    return [span.name for span in span_exporter.get_finished_spans()]


async def test_a_client_made_before_instrumenting_is_traced(
    sdk: CohereSdk, instrument_cohere: Any, fake_cohere: FakeCohereServer, span_exporter: Any, ends: EndCounter
) -> None:
    copied = dict(sdk.client.__dict__)  # created now, before instrumenting
    assert "chat" in copied  # the SDK's own per-client copy, which this test is about
    instrument_cohere()

    await _chat_and_stream(sdk)

    ends.check(span_exporter, expected_spans=2)
    chat, streamed = span_exporter.get_finished_spans()
    assert chat.name == streamed.name == f"chat {MODEL}"
    assert attributes(chat)["server.port"] == fake_cohere.port
    assert attributes(chat)["gen_ai.response.finish_reasons"] == ["COMPLETE"]
    assert attributes(streamed)["gen_ai.request.stream"] is True
    assert attributes(streamed)["gen_ai.usage.output_tokens"] > 0
    assert {key: sdk.client.__dict__[key] for key in copied} == copied  # the client itself is untouched
    assert len(fake_cohere.requests) == 2


async def test_no_span_after_uninstrument_whenever_the_client_was_made(
    sdk: CohereSdk, make_client: Any, instrument_cohere: Any, span_exporter: Any
) -> None:
    early = sdk.client
    instrument_cohere()
    during = make_client(sdk.is_async)
    CohereInstrumentor().uninstrument()
    late = make_client(sdk.is_async)

    for client in (early, during, late):
        sdk.client = client
        await _chat_and_stream(sdk)

    assert _names(span_exporter) == []


async def test_one_span_per_call_for_every_client_across_reinstrumenting(
    sdk: CohereSdk, make_client: Any, instrument_cohere: Any, span_exporter: Any, ends: EndCounter
) -> None:
    early = sdk.client
    instrument_cohere()
    during = make_client(sdk.is_async)
    CohereInstrumentor().uninstrument()
    instrument_cohere()
    late = make_client(sdk.is_async)

    for client in (early, during, late):
        sdk.client = client
        await _chat_and_stream(sdk)

    ends.check(span_exporter, expected_spans=6)
    assert {span.instrumentation_scope.name for span in span_exporter.get_finished_spans()} == {
        "wikitrace_otel.instrumentors.cohere"
    }


async def test_without_the_experimental_warning_copy(
    fake_cohere: FakeCohereServer, instrument_cohere: Any, span_exporter: Any, ends: EndCounter
) -> None:
    import cohere
    import httpx

    with httpx.Client() as http:
        # With the warning off the SDK copies only ``chat``; ``chat_stream`` is the class's method.
        client = cohere.ClientV2(
            api_key="co-test", base_url=fake_cohere.base_url, httpx_client=http, log_warning_experimental_features=False
        )
        assert "chat_stream" not in client.__dict__
        instrument_cohere()
        client.chat(model=MODEL, messages=USER)
        list(client.chat_stream(model=MODEL, messages=USER))

    ends.check(span_exporter, expected_spans=2)


async def test_the_sdks_own_argument_check_still_raises_unchanged(
    sdk: CohereSdk, instrument_cohere: Any, span_exporter: Any, fake_cohere: FakeCohereServer
) -> None:
    sdk.client  # noqa: B018 - created before instrumenting
    instrument_cohere()

    with pytest.raises(ValueError, match="chat_stream"):
        await sdk.call("chat", model=MODEL, messages=USER, stream=True)

    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["error.type"] == "ValueError"
    assert fake_cohere.requests == []


def test_class_access_and_introspection_still_work(instrument_cohere: Any, make_client: Any) -> None:
    import inspect

    from cohere.v2 import client

    instrument_cohere()
    assert inspect.iscoroutinefunction(client.AsyncV2Client.chat)
    assert inspect.iscoroutinefunction(make_client(True).chat)
    assert inspect.isasyncgenfunction(client.AsyncV2Client.chat_stream)
    assert client.V2Client.chat.__name__ == "chat"
