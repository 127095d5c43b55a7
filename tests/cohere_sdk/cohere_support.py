"""Helpers of the Cohere SDK tests: a sync/async driver and an end counter."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from operator import attrgetter
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

MODEL = "command-a-fake"
EMBED_MODEL = "embed-v4.0"
RERANK_MODEL = "rerank-v3.5"
USER = [{"role": "user", "content": "Hello"}]
SCOPE = "wikitrace_otel.instrumentors.cohere"


class CohereSdk:
    """A ``ClientV2`` or ``AsyncClientV2`` behind one awaitable interface."""

    def __init__(self, make_client: Callable[[bool], Any], is_async: bool) -> None:
        self._make_client = make_client
        self._client: Any = None
        self.is_async = is_async

    @property
    def client(self) -> Any:
        """The client, created on first use (after the test instrumented the SDK)."""
        if self._client is None:
            self._client = self._make_client(self.is_async)
        return self._client

    def __repr__(self) -> str:
        return "async" if self.is_async else "sync"

    async def call(self, method: str, **kwargs: Any) -> Any:
        """``client.<method>(**kwargs)``, awaited for the async client."""
        result = attrgetter(method)(self.client)(**kwargs)
        return await result if self.is_async else result

    def stream(self, **kwargs: Any) -> Any:
        """``client.chat_stream(**kwargs)``: a generator, or an async generator (never awaited)."""
        return self.client.chat_stream(**kwargs)

    async def drain(self, stream: Any, limit: int | None = None) -> list[Any]:
        """Read ``stream`` to the end, or only ``limit`` items (then stop without closing)."""
        items: list[Any] = []
        if self.is_async:
            async for item in stream:
                items.append(item)
                if limit is not None and len(items) >= limit:
                    break
        else:
            for item in stream:
                items.append(item)
                if limit is not None and len(items) >= limit:
                    break
        return items

    async def close(self, stream: Any) -> None:
        """``close()`` a generator, ``aclose()`` an async one."""
        if self.is_async:
            await stream.aclose()
        else:
            stream.close()


class EndCounter(SpanProcessor):
    """Counts ``on_end`` per span id; :meth:`check` asserts each span ended exactly once."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.WARNING, logger="opentelemetry")
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
