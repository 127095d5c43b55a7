"""Failures: the SDK's exceptions pass through unchanged, the span records them and ends once;
our own failures never reach the caller."""

from __future__ import annotations

from typing import Any

import pytest
from mistral_support import MODEL, USER, MistralSdk, sdk_error_class
from opentelemetry.trace import StatusCode

from otel_helpers import attributes, metric_points, only_span, point_attributes
from sdk_support import EndCounter
from wikitrace_otel.instrumentors.mistral import extractors, stream
from wikitrace_otel.testing.fake_mistral import FakeMistralServer, FakeResponse, error, payloads

pytestmark = pytest.mark.usefixtures("instrumented")


async def test_http_error_passes_through(
    sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any, ends: EndCounter, metric_reader: Any
) -> None:
    fake_mistral.enqueue(error(400, "Bad model", "invalid_request_error"))
    with pytest.raises(sdk_error_class()) as raised:
        await sdk.call("chat.complete", model=MODEL, messages=USER)
    assert raised.value.status_code == 400
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["error.type"] == "invalid_request_error"
    assert span.events[0].name == "exception"
    (duration,) = metric_points(metric_reader)["gen_ai.client.inference.duration"]
    assert point_attributes(duration)["error.type"] == "invalid_request_error"


async def test_error_without_a_json_body_uses_the_status(
    sdk: MistralSdk, fake_mistral: FakeMistralServer, span_exporter: Any
) -> None:
    fake_mistral.enqueue(FakeResponse(status=503, headers={"content-type": "text/plain"}, body=b"unavailable"))
    with pytest.raises(sdk_error_class()):
        await sdk.call("embeddings.create", model="mistral-embed", inputs="x")
    assert attributes(only_span(span_exporter))["error.type"] == "503"


async def test_connection_error_passes_through(sdk: MistralSdk, span_exporter: Any, ends: EndCounter) -> None:
    with pytest.raises(Exception) as raised:
        await sdk.call("chat.complete", model=MODEL, messages=USER, server_url="http://127.0.0.1:9")
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["error.type"].endswith(type(raised.value).__qualname__)
    assert attributes(span)["server.port"] == 9


async def test_our_failure_reading_the_result_never_reaches_the_caller(
    sdk: MistralSdk, span_exporter: Any, ends: EndCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(result: Any, response: Any) -> None:
        raise RuntimeError("extractor bug")

    monkeypatch.delenv("WIKITRACE_RAISE_INTERNAL_ERRORS")
    monkeypatch.setattr(extractors, "response_attributes", broken)
    result = await sdk.call("chat.complete", model=MODEL, messages=USER)
    assert result.choices[0].message.content == payloads.DEFAULT_TEXT
    ends.check(span_exporter)
    assert attributes(only_span(span_exporter))["gen_ai.request.model"] == MODEL


async def test_our_failure_reading_a_stream_never_reaches_the_caller(
    sdk: MistralSdk, span_exporter: Any, ends: EndCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any, chunk: Any) -> None:
        raise RuntimeError("accumulator bug")

    monkeypatch.delenv("WIKITRACE_RAISE_INTERNAL_ERRORS")
    monkeypatch.setattr(stream.ChatAccumulator, "on_chunk", broken)
    events = await sdk.drain(await sdk.call("chat.stream", model=MODEL, messages=USER))
    assert "".join(e.data.choices[0].delta.content or "" for e in events) == payloads.DEFAULT_TEXT
    ends.check(span_exporter)
