"""Quickstart: one line of setup, then use the OpenAI SDK as usual.

Run: ``OPENAI_API_KEY=... python examples/quickstart.py``, then look at ``.wikitrace/``
(OTLP JSON Lines) or read it back::

    from wikitrace_otel.store import read_spans
    for span in read_spans(".wikitrace"):
        print(span.name, span.attributes.get("gen_ai.usage.cost.amount"))

Set ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or pass ``exporter="phoenix"``, ``"honeycomb"``, ...) to
send the same spans to a backend instead.
"""

from __future__ import annotations

import openai

import wikitrace_otel

wikitrace_otel.install("quickstart")


def main() -> None:
    client = openai.OpenAI()
    with wikitrace_otel.session(user="alice@example.com", tags=["quickstart"]):
        reply = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "Say hello in five words."}]
        )
    print(reply.choices[0].message.content)


if __name__ == "__main__":
    main()
