"""The wrapper put around aiobotocore's ``AioBaseClient._make_api_call`` (aioboto3 builds on it).

aiobotocore's clients send every operation through that one coroutine, as botocore's do through
``BaseClient._make_api_call``, so the same :class:`~.patch.Tracer` and extractors serve both;
only two things differ:

- the event stream of ``converse_stream`` / ``invoke_model_with_response_stream`` is an
  ``AioEventStream``, read with ``async for``, whose ``close()`` stays synchronous: it goes
  behind :class:`AioEventStreamProxy`;
- ``invoke_model``'s ``body`` is read with ``await body.read()``: the wrapper awaits it (the
  usage is in it) and puts a body of the same class over the same bytes back in the answer, so
  the caller's ``await body.read()``, ``async for`` or ``async with`` work as before.

The span is current in the calling task while the call is awaited (aiohttp's spans nest under
it; concurrent calls do not mix), and a cancelled call ends it with the ``CancelledError``. Nothing
here imports aiobotocore: the instrumentor wraps its class once the application imports it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator
from contextlib import suppress
from typing import Any, ClassVar

from wikitrace_otel._genai.call import Wrapper
from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel._genai.stream import AsyncTracedStream, StreamState
from wikitrace_otel.instrumentors.bedrock.patch import BedrockCall, Tracer, begin_call


class AioEventStreamProxy(AsyncTracedStream):
    """Proxy over aiobotocore's ``AioEventStream``: ``async for`` like the async proxy, but
    ``close()`` is synchronous, as the stream's own (it only closes the HTTP response)."""

    def close(self) -> Any:  # type: ignore[override] - the wrapped close() is synchronous
        """Close the HTTP response under the stream and end the span (once the close is
        awaited, should a later aiobotocore make it a coroutine)."""
        try:
            closing = self.__wrapped__.close()
        except BaseException:
            self._self_end(None, complete=False)
            raise
        if inspect.isawaitable(closing):
            return self._self_finish_close(closing)
        self._self_end(None, complete=False)
        return closing

    async def _self_finish_close(self, closing: Any) -> Any:
        try:
            return await closing
        finally:
            self._self_end(None, complete=False)

    async def aclose(self) -> None:
        """Awaitable spelling of :meth:`close`, for code that closes every stream the async way."""
        closing = self.close()
        if inspect.isawaitable(closing):
            await closing


class AioBedrockCall(BedrockCall):
    """One traced operation of an aiobotocore client."""

    __slots__ = ()

    stream_proxy: ClassVar[type[StreamState]] = AioEventStreamProxy
    reads_body_in_finish: ClassVar[bool] = False

    async def read_body(self, answer: Any) -> None:
        """Await ``invoke_model``'s body into :attr:`data` and give the caller an identical unread
        body. aiobotocore's errors while reading propagate (the caller's ``with`` ends the span)."""
        body = answer.get("body") if isinstance(answer, dict) else None
        if isinstance(body, (bytes, bytearray)):
            self.data = bytes(body)
            return
        read = getattr(body, "read", None)
        if not inspect.iscoroutinefunction(read):
            return  # not aiobotocore's body: leave it to the caller, untouched
        try:
            data = await read()
        except BaseException:
            await _close_quietly(body)  # the caller never gets this body: release its connection
            raise
        if not isinstance(data, bytes):
            return
        self.data = data
        answer["body"] = buffered_body(body, data)


def make_async_wrapper(tracer: Tracer) -> Wrapper:
    """A wrapt wrapper for ``AioBaseClient._make_api_call(operation_name, api_params)``.

    It cannot be :func:`~wikitrace_otel._genai.call.make_call_wrapper`'s, which hands the
    answer over synchronously: ``invoke_model``'s body must be awaited before."""
    begin = functools.partial(begin_call, AioBedrockCall, tracer)

    async def traced(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = begin(instance, args, kwargs)
        if not isinstance(call, AioBedrockCall):
            return await wrapped(*args, **kwargs)
        with call as sent:
            result = await wrapped(*args, **sent)
            if call.api.reads_body and call.api.stream_key is None:
                await call.read_body(result)
        return call.finish(result)

    return traced


async def _close_quietly(body: Any) -> None:
    """Close a body whose read failed (``close()`` is async for the httpx body)."""
    with suppress(Exception):
        closing = body.close()
        if inspect.isawaitable(closing):
            await closing


def buffered_body(body: Any, data: bytes) -> Any:
    """A body of ``body``'s own class (``AioStreamingBody``, ``AioHttpxStreamingBody``, or the
    3.0 ``StreamingBody`` / ``HttpxStreamingBody`` proxies) over ``data``, already read from ``body``.

    Those classes are built from the raw HTTP response (and the content length, but for 3.0's
    httpx body) and read through the response's ``content`` (aiohttp), ``aiter_raw()`` or
    ``aread()`` (httpx), which :class:`_MemoryResponse` serves from memory. A class built
    differently gets :class:`_MemoryBody` instead (and the failure is reported)."""
    raw = getattr(body, "raw_stream", None) or getattr(body, "__wrapped__", None)
    memory = _MemoryResponse(data, raw)
    try:
        try:
            return type(body)(memory, str(len(data)))
        except TypeError:
            return type(body)(memory)  # aiobotocore 3.0's httpx body takes the response alone
    except Exception as internal:  # noqa: BLE001 - the caller still gets its bytes
        report_internal_error(internal)
        return _MemoryBody(data)


class _MemoryContent:
    """The ``content`` stream of :class:`_MemoryResponse`: aiohttp's ``StreamReader`` reads."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    async def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n is None or n < 0 else self._at + n
        chunk = self._data[self._at : end]
        self._at += len(chunk)
        return chunk

    def at_eof(self) -> bool:
        return self._at >= len(self._data)


class _MemoryResponse:
    """Stands for the HTTP response under an aiobotocore body, its bytes already read; other
    attributes (``status``, ``headers``, ``url``...) are the original response's."""

    def __init__(self, data: bytes, original: Any) -> None:
        self.content = _MemoryContent(data)
        self._original = original
        self.closed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._original, name)

    async def read(self) -> bytes:
        return await self.content.read()

    async def aread(self) -> bytes:
        return await self.content.read()

    def at_eof(self) -> bool:
        return self.content.at_eof()

    async def aiter_raw(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        chunk = await self.content.read(chunk_size or -1)
        while chunk:
            yield chunk
            chunk = await self.content.read(chunk_size or -1)

    def close(self) -> None:
        self.closed = True

    def release(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True

    async def __aenter__(self) -> _MemoryResponse:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.close()


class _MemoryBody:
    """The fallback body: aiobotocore's reading surface over bytes in memory."""

    def __init__(self, data: bytes) -> None:
        self._content = _MemoryContent(data)
        self.content_length = len(data)

    async def read(self, amt: int | None = None) -> bytes:
        return await self._content.read(-1 if amt is None else amt)

    async def iter_chunks(self, chunk_size: int = 1024) -> AsyncIterator[bytes]:
        chunk = await self.read(chunk_size)
        while chunk:
            yield chunk
            chunk = await self.read(chunk_size)

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.iter_chunks()

    async def __aenter__(self) -> _MemoryBody:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: the bytes are in memory."""

    async def aclose(self) -> None:
        """Nothing to release: the bytes are in memory."""
