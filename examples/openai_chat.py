"""Trace OpenAI calls with wikitrace-otel and print the spans to the console.

Run: ``OPENAI_API_KEY=... python examples/openai_chat.py`` (any OpenAI-compatible server works:
set ``OPENAI_BASE_URL`` too).
"""

from __future__ import annotations

import openai
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from wikitrace_otel.instrumentors.openai import OpenAIInstrumentor


def main() -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    OpenAIInstrumentor().instrument(capture_content="SPAN_ONLY")

    client = openai.OpenAI()
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello in five words."}]
    )
    print(reply.choices[0].message.content)

    with client.chat.completions.stream(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Count to five."}]
    ) as stream:
        for event in stream:
            if event.type == "content.delta":
                print(event.delta, end="", flush=True)
    print()


if __name__ == "__main__":
    main()
