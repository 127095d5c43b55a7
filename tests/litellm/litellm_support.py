"""Helpers for the LiteLLM tests: one awaitable driver for sync and async LiteLLM functions,
and a span-end counter."""

from __future__ import annotations

import contextvars
import logging
import threading
from collections import Counter
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

USER = [{"role": "user", "content": "Hi"}]
OPENAI_SCOPE = "wikitrace_otel.instrumentors.openai"
LITELLM_SCOPE = "wikitrace_otel.instrumentors.litellm"


class Driver:
    """``litellm.completion`` / ``acompletion`` (and the embeddings pair) behind one interface."""

    def __init__(self, litellm: Any, is_async: bool) -> None:
        self.litellm = litellm
        self.is_async = is_async

    def __repr__(self) -> str:
        return "async" if self.is_async else "sync"

    async def completion(self, **kwargs: Any) -> Any:
        if self.is_async:
            return await self.litellm.acompletion(**kwargs)
        return _in_thread(self.litellm.completion, **kwargs)

    async def embedding(self, **kwargs: Any) -> Any:
        if self.is_async:
            return await self.litellm.aembedding(**kwargs)
        return _in_thread(self.litellm.embedding, **kwargs)

    async def drain(self, stream: Any) -> list[Any]:
        if self.is_async:
            return [chunk async for chunk in stream]
        return list(stream)

    async def first(self, stream: Any) -> Any:
        """Read one chunk, then leave the rest unread."""
        if self.is_async:
            return await stream.__anext__()
        return next(stream)


def _in_thread(function: Any, **kwargs: Any) -> Any:
    """Run a sync LiteLLM function as a sync program would: in a thread with no event loop
    (with one running, LiteLLM queues async logging work that the loop never runs). The thread
    gets a copy of the context, so the caller's current span is the parent; nothing but the
    caller keeps the result (garbage-collection tests rely on that)."""
    outcome: list[tuple[bool, Any]] = []
    context = contextvars.copy_context()

    def run() -> None:
        try:
            outcome.append((True, context.run(function, **kwargs)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            outcome.append((False, exc))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    ok, value = outcome.pop()
    if ok:
        return value
    raise value


class EndCounter(SpanProcessor):
    """Counts ``on_end`` per span id and checks that every exported span ended exactly once."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.ends: Counter[int] = Counter()
        self.caplog = caplog

    def on_end(self, span: ReadableSpan) -> None:
        assert span.context is not None
        self.ends[span.context.span_id] += 1

    def check(self, exporter: InMemorySpanExporter, expected_spans: int = 1) -> None:
        spans = exporter.get_finished_spans()
        assert len(spans) == expected_spans, [s.name for s in spans]
        assert dict(self.ends) == {s.context.span_id: 1 for s in spans if s.context is not None}
        warnings = [r.getMessage() for r in self.caplog.records if r.name.startswith("opentelemetry")]
        assert warnings == []


def install_end_counter(tracer_provider: Any, caplog: pytest.LogCaptureFixture) -> EndCounter:
    caplog.set_level(logging.WARNING, logger="opentelemetry")
    counter = EndCounter(caplog)
    tracer_provider.add_span_processor(counter)
    return counter
