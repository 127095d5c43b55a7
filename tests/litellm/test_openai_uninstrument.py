"""A gap in the OpenAI instrumentor that LiteLLM runs into: LiteLLM keeps its OpenAI clients and
calls ``chat.completions.with_raw_response.create`` on them."""

from __future__ import annotations

from typing import Any

import pytest

from wikitrace_otel.testing.fake_openai import FakeOpenAIServer

MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.mark.xfail(
    strict=True,
    reason="the OpenAI instrumentor's uninstrument() leaves with_raw_response objects built while "
    "instrumented still tracing: they hold the wrapped create",
)
def test_uninstrument_stops_tracing_a_kept_with_raw_response(
    instrument: Any, client: Any, fake_openai: FakeOpenAIServer, span_exporter: Any
) -> None:
    instrumentor = instrument()
    raw = client.chat.completions.with_raw_response  # built (and cached by the SDK) while instrumented
    raw.create(model="gpt-4o", messages=MESSAGES)
    instrumentor.uninstrument()

    raw.create(model="gpt-4o", messages=MESSAGES)

    assert len(span_exporter.get_finished_spans()) == 1
