"""``wikitrace-otel demo``: a first run that shows what the distribution records.

A small support agent (a retrieval step with embeddings, a tool call, a streamed answer)
runs through the real OpenAI SDK against a fake OpenAI server on 127.0.0.1, or against the
real API with ``--live`` (needs ``OPENAI_API_KEY``). Its spans go to the local store, are read
back from it, and printed as a tree with per-step latency, tokens and cost.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

QUESTION = "Where can I pick up my order in Paris, and how fast do orders ship?"


def run(store: Path, live: bool = False, out: TextIO = sys.stdout) -> int:
    """Run the demo; returns the process exit status."""
    import openai

    from wikitrace_otel import install
    from wikitrace_otel.demo.agent import EMBEDDING_MODEL, FIND_STORE, HANDBOOK, MODEL, answer
    from wikitrace_otel.demo.script import queue_answers
    from wikitrace_otel.demo.tree import render
    from wikitrace_otel.sessions import session
    from wikitrace_otel.store import read_spans
    from wikitrace_otel.testing.fake_openai import FakeOpenAIServer

    if live and not os.environ.get("OPENAI_API_KEY"):
        out.write("--live needs OPENAI_API_KEY in the environment\n")
        return 2
    server = None if live else FakeOpenAIServer().start()
    if server is not None:
        # The fake server stands in for api.openai.com: price and name it as OpenAI.
        os.environ.setdefault("WIKITRACE_GENAI_PROVIDER_HOSTS", f"127.0.0.1:{server.port}=openai")
        queue_answers(server, MODEL, EMBEDDING_MODEL, len(HANDBOOK) + 1, [FIND_STORE])
    installation = install("wikitrace-demo", store=store, instrument=["openai"])
    try:
        client = openai.OpenAI(base_url=server.base_url, api_key="sk-demo") if server else openai.OpenAI()
        with client, session(user="demo-user", tags=["demo"]) as current:
            out.write(f"question: {QUESTION}\nanswer:   ")
            answer(client, QUESTION, out)
        installation.force_flush()
    finally:
        if server is not None:
            server.stop()
    spans = [s for s in read_spans(store) if s.attributes.get("session.id") == current.id]
    out.write(f"\ntrace stored in {store} ({len(spans)} spans):\n\n")
    render(spans, out)
    trace_id = spans[0].trace_id if spans else "TRACE_ID"
    out.write(
        f"\nQuery the store with `wikitrace-otel show {trace_id} --store {store}` (or traces, stats;\n"
        "install the [query] extra first), read it from Python with wikitrace_otel.store.read_spans(),\n"
        "or replay it into any backend with the OpenTelemetry Collector's otlpjsonfile receiver.\n"
    )
    return 0
