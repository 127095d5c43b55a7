"""Shared by the stream and raw-response tests: a sync/async driver, a spy, timed attributes.

- :class:`Sdk` puts the sync or async client behind one awaitable interface, so one test body
  (parametrized ``sync`` / ``async``) covers both clients (see ``sdk_support.SdkDriver``).
- :func:`spy_on` records what the SDK's own stream yields and raises, below the proxy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from otel_helpers import attributes
from sdk_support import SdkDriver

TTFC = "gen_ai.response.time_to_first_chunk"


def timed_attributes(span: ReadableSpan) -> dict[str, Any]:
    """The span's attributes without the time to first chunk, which must be a positive float."""
    found = attributes(span)
    ttfc = found.pop(TTFC)
    assert isinstance(ttfc, float)
    assert 0 < ttfc < 5
    return found


class Sdk(SdkDriver):
    """An ``OpenAI`` or ``AsyncOpenAI`` client behind one awaitable interface, with the helpers
    the stream tests add (``resolve``, ``entered``, ``break_inside_with``)."""

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
