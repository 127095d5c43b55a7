"""Shared by the stream and raw-response tests: an end counter, a sync/async driver, a spy.

- :class:`EndCounter` is a span processor counting ``on_end`` per span id, plus a check that no
  span was ended twice (the SDK logs a warning instead of calling ``on_end`` again).
- :class:`Sdk` puts the sync or async client behind one awaitable interface, so one test body
  (parametrized ``sync`` / ``async``) covers both clients.
- :func:`spy_on` records what the SDK's own stream yields and raises, below the proxy.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from operator import attrgetter
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_helpers import attributes

TTFC = "gen_ai.response.time_to_first_chunk"


class EndCounter(SpanProcessor):
    """Counts ``on_end`` per span id and checks that every exported span ended exactly once."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        self.ends: Counter[int] = Counter()
        self.caplog = caplog

    def on_end(self, span: ReadableSpan) -> None:
        assert span.context is not None
        self.ends[span.context.span_id] += 1

    def check(self, exporter: InMemorySpanExporter, expected_spans: int = 1) -> None:
        """Exactly ``expected_spans`` spans, each ended once, and no "already ended" warning."""
        spans = exporter.get_finished_spans()
        assert len(spans) == expected_spans, [s.name for s in spans]
        assert dict(self.ends) == {s.context.span_id: 1 for s in spans if s.context is not None}
        warnings = [r.getMessage() for r in self.caplog.records if r.name.startswith("opentelemetry")]
        assert warnings == []


def install_end_counter(tracer_provider: TracerProvider, caplog: pytest.LogCaptureFixture) -> EndCounter:
    caplog.set_level(logging.WARNING, logger="opentelemetry")
    counter = EndCounter(caplog)
    tracer_provider.add_span_processor(counter)
    return counter


def timed_attributes(span: ReadableSpan) -> dict[str, Any]:
    """The span's attributes without the time to first chunk, which must be a positive float."""
    found = attributes(span)
    ttfc = found.pop(TTFC)
    assert isinstance(ttfc, float)
    assert 0 < ttfc < 5
    return found


class Sdk:
    """A sync or async client behind one awaitable interface."""

    def __init__(self, client: Any, is_async: bool) -> None:
        self.client = client
        self.is_async = is_async

    def __repr__(self) -> str:
        return "async" if self.is_async else "sync"

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``client.<method>(*args, **kwargs)``, awaited for the async client."""
        result = attrgetter(method)(self.client)(*args, **kwargs)
        return await result if self.is_async else result

    async def drain(self, stream: Any, limit: int | None = None) -> list[Any]:
        """Read ``stream`` to the end, or only ``limit`` items (then stop without closing)."""
        items: list[Any] = []
        if limit == 0:
            return items
        if self.is_async:
            async for item in stream:
                items.append(item)
                if len(items) == limit:
                    break
        else:
            for item in stream:
                items.append(item)
                if len(items) == limit:
                    break
        return items

    async def resolve(self, value: Any) -> Any:
        """``value`` itself, or its result for the async client (where SDK methods return coroutines)."""
        return await value if self.is_async else value

    @asynccontextmanager
    async def entered(self, manager: Any) -> AsyncIterator[Any]:
        """``with manager as entered`` (or ``async with`` for the async client)."""
        if self.is_async:
            async with manager as entered:
                yield entered
        else:
            with manager as entered:
                yield entered

    async def close(self, stream: Any) -> None:
        """``stream.close()``, awaited for the async client."""
        result = stream.close()
        if self.is_async:
            await result

    async def break_inside_with(self, stream: Any, after: int) -> list[Any]:
        """``with stream:`` (or ``async with``) and ``break`` after ``after`` items."""
        if self.is_async:
            async with stream as entered:
                assert entered is stream
                return await self.drain(stream, after)
        with stream as entered:
            assert entered is stream
            return await self.drain(stream, after)


class Spy:
    """What the SDK's own stream yielded and raised (below any proxy)."""

    def __init__(self) -> None:
        self.yielded: list[Any] = []
        self.raised: list[BaseException] = []


def spy_on(sdk_stream: Any) -> Spy:
    """Replace the SDK stream's private item iterator (``Stream._iterator``) by a recording one.

    Must run before iteration starts: ``Stream.__iter__`` reads ``_iterator`` when first called.
    """
    spy = Spy()
    inner = sdk_stream._iterator

    if hasattr(inner, "__anext__"):

        async def arecording() -> Any:
            try:
                async for item in inner:
                    spy.yielded.append(item)
                    yield item
            except BaseException as exc:
                spy.raised.append(exc)
                raise

        sdk_stream._iterator = arecording()
    else:

        def recording() -> Any:
            try:
                for item in inner:
                    spy.yielded.append(item)
                    yield item
            except BaseException as exc:
                spy.raised.append(exc)
                raise

        sdk_stream._iterator = recording()
    return spy
