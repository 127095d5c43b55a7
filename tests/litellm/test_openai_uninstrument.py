"""What LiteLLM relies on: it keeps its OpenAI clients and calls
``chat.completions.with_raw_response.create`` on them, so a ``with_raw_response`` object built
while instrumented must stop tracing once the instrumentor is removed."""

from __future__ import annotations

from typing import Any

from wikitrace_otel.testing.fake_openai import FakeOpenAIServer

MESSAGES = [{"role": "user", "content": "Hi"}]


def test_uninstrument_stops_tracing_a_kept_with_raw_response(
    instrument: Any, client: Any, fake_openai: FakeOpenAIServer, span_exporter: Any
) -> None:
    instrumentor = instrument()
    raw = client.chat.completions.with_raw_response  # built (and cached by the SDK) while instrumented
    raw.create(model="gpt-4o", messages=MESSAGES)
    instrumentor.uninstrument()

    raw.create(model="gpt-4o", messages=MESSAGES)

    assert len(span_exporter.get_finished_spans()) == 1
