"""One stream proxy for every provider: the span ends exactly once, however the stream ends.

:class:`TracedStream` and :class:`AsyncTracedStream` wrap the SDK's stream object with wrapt,
so everything the SDK offers (``.response``, ``until_done()``, ``isinstance`` checks, any other
attribute) passes through untouched. They only add:

- iteration that hands each chunk to a provider's :class:`Accumulator`;
- ending the :class:`Invocation` on exhaustion, on an exception mid-stream, on ``close()`` /
  ``aclose()``, on leaving ``with`` / ``async with`` (``break`` included), and when the proxy is
  garbage-collected unread. Ends before exhaustion mark missing finish reasons as ``error``.

Stream helpers that create their raw stream inside ``__enter__`` (``chat.completions.stream()``)
register through :func:`capture_streams`, so leaving the helper's ``with`` ends the span too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from time import perf_counter
from typing import Any

import wrapt

from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel._genai.invocation import Invocation

_captured: ContextVar[list[Any] | None] = ContextVar("wikitrace_captured_streams", default=None)


class Accumulator:
    """Reads chunks of one provider's stream; subclasses override :meth:`on_chunk` and :meth:`finish`."""

    __slots__ = ("invocation",)

    def __init__(self, invocation: Invocation) -> None:
        self.invocation = invocation

    def on_chunk(self, chunk: Any) -> None:
        """Take what the span needs from one chunk. Must be cheap: it runs per chunk."""

    def finish(self, complete: bool) -> None:
        """Move what was gathered into ``invocation.response`` / ``.content``.

        Args:
            complete: False when the stream ended early (close, break, error, collected).
        """


@contextmanager
def capture_streams() -> Iterator[list[Any]]:
    """Collect the traced streams created inside the block (by a stream helper's ``__enter__``)."""
    streams: list[Any] = []
    token = _captured.set(streams)
    try:
        yield streams
    finally:
        _captured.reset(token)


def end_streams(streams: list[Any], exc: BaseException | None = None) -> None:
    """End the spans of streams collected by :func:`capture_streams` (no-op for ended ones)."""
    for stream in streams:
        stream._self_end(exc, complete=False)


class StreamState(wrapt.BaseObjectProxy):  # type: ignore[misc]
    """State and ending logic shared by the sync and async proxies."""

    def __init__(self, wrapped: Any, accumulator: Accumulator) -> None:
        super().__init__(wrapped)
        self._self_accumulator = accumulator
        self._self_invocation = accumulator.invocation
        self._self_iterator: Any = None
        streams = _captured.get()
        if streams is not None:
            streams.append(self)

    def _self_on_chunk(self, chunk: Any) -> None:
        """Note the chunk's arrival time on the invocation, then hand it to the accumulator."""
        invocation = self._self_invocation
        try:
            # Inlined rather than a method of Invocation: this runs per chunk, and a call
            # frame is a fifth of its cost.
            now = perf_counter()
            if invocation.first_chunk is None:
                invocation.first_chunk = now
                invocation.chunk_gaps = []
            else:
                invocation.chunk_gaps.append(now - invocation.last_chunk)
            invocation.last_chunk = now
            self._self_accumulator.on_chunk(chunk)
        except Exception as internal:  # noqa: BLE001 - telemetry must not break the stream
            report_internal_error(internal)

    def _self_end(self, exc: BaseException | None, complete: bool) -> None:
        invocation = self._self_invocation
        if invocation.ended:
            return
        try:
            self._self_accumulator.finish(complete)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)
        invocation.end(exc)

    def __del__(self) -> None:
        # Dropped unread (or half read): end the span rather than leak it.
        try:
            invocation = self._self_invocation
        except AttributeError:  # __init__ never finished
            return
        if not invocation.ended:
            # A finalizer must not raise (modules may be half torn down at interpreter exit).
            with suppress(Exception):
                self._self_end(None, complete=False)

    def __repr__(self) -> str:
        return repr(self.__wrapped__)


class TracedStream(StreamState):
    """Proxy over a synchronous SDK stream."""

    def __iter__(self) -> TracedStream:
        return self

    def __next__(self) -> Any:
        iterator = self._self_iterator
        if iterator is None:
            iterator = self._self_iterator = iter(self.__wrapped__)
        try:
            chunk = next(iterator)
        except StopIteration:
            self._self_end(None, complete=True)
            raise
        except BaseException as exc:
            self._self_end(exc, complete=False)
            raise
        self._self_on_chunk(chunk)
        return chunk

    def __enter__(self) -> TracedStream:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_end(None, complete=False)

    def close(self) -> None:
        """Close the SDK stream and end the span."""
        try:
            self.__wrapped__.close()
        finally:
            self._self_end(None, complete=False)


class AsyncTracedStream(StreamState):
    """Proxy over an asynchronous SDK stream."""

    def __aiter__(self) -> AsyncTracedStream:
        return self

    async def __anext__(self) -> Any:
        iterator = self._self_iterator
        if iterator is None:
            iterator = self._self_iterator = self.__wrapped__.__aiter__()
        try:
            chunk = await iterator.__anext__()
        except StopAsyncIteration:
            self._self_end(None, complete=True)
            raise
        except BaseException as exc:
            self._self_end(exc, complete=False)
            raise
        self._self_on_chunk(chunk)
        return chunk

    async def __aenter__(self) -> AsyncTracedStream:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_end(None, complete=False)

    async def close(self) -> None:
        """Close the SDK stream and end the span."""
        try:
            await self.__wrapped__.close()
        finally:
            self._self_end(None, complete=False)

    async def aclose(self) -> None:
        """Close the SDK stream (``aclose`` spelling) and end the span."""
        try:
            closer = getattr(self.__wrapped__, "aclose", None) or self.__wrapped__.close
            await closer()
        finally:
            self._self_end(None, complete=False)


class StreamManagerProxy(wrapt.BaseObjectProxy):  # type: ignore[misc]
    """Proxy over a stream helper's context manager (``chat.completions.stream()`` and kin).

    The helper creates its raw stream inside ``__enter__``; the traced stream created there is
    collected, and its span ends when the ``with`` block is left, even when the helper closes
    the HTTP response itself rather than the stream.
    """

    def __init__(self, wrapped: Any) -> None:
        super().__init__(wrapped)
        self._self_streams: list[Any] = []

    def __enter__(self) -> Any:
        with capture_streams() as streams:
            helper = self.__wrapped__.__enter__()
        self._self_streams = streams
        return HelperStreamProxy(helper, streams)

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            end_streams(self._self_streams)

    async def __aenter__(self) -> Any:
        with capture_streams() as streams:
            helper = await self.__wrapped__.__aenter__()
        self._self_streams = streams
        return HelperStreamProxy(helper, streams)

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            end_streams(self._self_streams)


class HelperStreamProxy(wrapt.ObjectProxy):  # type: ignore[misc]
    """Proxy over the helper's stream object: its ``close()`` also ends the collected spans."""

    def __init__(self, wrapped: Any, streams: list[Any]) -> None:
        super().__init__(wrapped)
        self._self_streams = streams

    def __next__(self) -> Any:
        return self.__wrapped__.__next__()

    def __aiter__(self) -> Any:
        return self.__wrapped__.__aiter__()

    async def __anext__(self) -> Any:
        return await self.__wrapped__.__anext__()

    def __enter__(self) -> HelperStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            end_streams(self._self_streams)

    async def __aenter__(self) -> HelperStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            end_streams(self._self_streams)

    def close(self) -> Any:
        """Close the helper's stream (awaitable for async helpers) and end the spans."""
        result = self.__wrapped__.close()
        if hasattr(result, "__await__"):
            return self._self_close_async(result)
        end_streams(self._self_streams)
        return result

    async def _self_close_async(self, pending: Any) -> Any:
        try:
            return await pending
        finally:
            end_streams(self._self_streams)
