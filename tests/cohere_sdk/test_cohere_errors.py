"""Failures: the SDK's exceptions pass through unchanged, the span records them and ends once;
our own failures never reach the caller."""

from __future__ import annotations

from typing import Any

import pytest
from cohere_support import MODEL, RERANK_MODEL, USER, CohereSdk
from opentelemetry.trace import StatusCode

from otel_helpers import attributes, metric_points, only_span, point_attributes
from sdk_support import EndCounter
from wikitrace_otel.instrumentors.cohere import extractors
from wikitrace_otel.testing.fake_cohere import FakeCohereServer, error, payloads

pytestmark = pytest.mark.usefixtures("instrumented")


async def test_http_error_passes_through(
    sdk: CohereSdk, fake_cohere: FakeCohereServer, span_exporter: Any, ends: EndCounter, metric_reader: Any
) -> None:
    import cohere

    fake_cohere.enqueue(error(400, "invalid model"))
    with pytest.raises(cohere.BadRequestError) as raised:
        await sdk.call("chat", model=MODEL, messages=USER)
    assert raised.value.status_code == 400
    ends.check(span_exporter)
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["error.type"] == "400"
    assert span.events[0].name == "exception"
    (duration,) = metric_points(metric_reader)["gen_ai.client.inference.duration"]
    assert point_attributes(duration)["error.type"] == "400"


async def test_rerank_error(sdk: CohereSdk, fake_cohere: FakeCohereServer, span_exporter: Any) -> None:
    import cohere

    fake_cohere.enqueue(error(404, "no such model"))
    with pytest.raises(cohere.NotFoundError):
        await sdk.call("rerank", model=RERANK_MODEL, query="q", documents=["a"])
    assert attributes(only_span(span_exporter))["error.type"] == "404"


async def test_our_failure_reading_the_result_never_reaches_the_caller(
    sdk: CohereSdk, span_exporter: Any, ends: EndCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(usage: Any, response: Any) -> None:
        raise RuntimeError("extractor bug")

    monkeypatch.delenv("WIKITRACE_RAISE_INTERNAL_ERRORS")
    monkeypatch.setattr(extractors, "usage_attributes", broken)
    result = await sdk.call("chat", model=MODEL, messages=USER)
    assert result.message.content[0].text == payloads.DEFAULT_TEXT
    ends.check(span_exporter)
    assert attributes(only_span(span_exporter))["gen_ai.request.model"] == MODEL
