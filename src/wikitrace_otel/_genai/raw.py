"""Proxies for "raw" SDK responses (``with_raw_response`` / ``with_streaming_response``).

Such calls return a response wrapper instead of the parsed result; the parsed result (or the
stream) appears only when the caller calls ``parse()``. The proxy hands that result to the
instrumentor (which ends the span, or wraps the stream) and returns what the instrumentor
gives back, the same object on every later ``parse()`` with the same arguments. Leaving the
response unparsed still ends the span: on ``close()`` (which ``with`` calls) or when the
proxy is collected.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import wrapt

from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import StreamState

OnParsed = Callable[[Any], Any]


class RawResponseProxy(wrapt.BaseObjectProxy):  # type: ignore[misc]
    """Proxy over a synchronous raw response (``parse()`` and ``close()`` are sync)."""

    def __init__(self, wrapped: Any, invocation: Invocation, on_parsed: OnParsed) -> None:
        super().__init__(wrapped)
        self._self_invocation = invocation
        self._self_on_parsed = on_parsed
        # id(parsed) -> (parsed, returned); keeping `parsed` alive keeps its id unique.
        self._self_delivered: dict[int, tuple[Any, Any]] = {}

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        """The SDK's ``parse()``, traced."""
        return self._self_deliver(self.__wrapped__.parse(*args, **kwargs))

    def close(self) -> Any:
        """The SDK's ``close()``; ends the span if nothing was parsed."""
        try:
            return self.__wrapped__.close()
        finally:
            self._self_finish()

    def _self_finish(self) -> None:
        # A stream handed out by parse() and closed with its response ends as cut short.
        for _, returned in self._self_delivered.values():
            if isinstance(returned, StreamState):
                returned._self_end(None, complete=False)
        self._self_invocation.end()

    def _self_deliver(self, parsed: Any) -> Any:
        known = self._self_delivered.get(id(parsed))
        if known is not None:
            return known[1]
        try:
            returned = self._self_on_parsed(parsed)
        except Exception as internal:  # noqa: BLE001 - telemetry must not break the call
            report_internal_error(internal)
            self._self_invocation.end()
            returned = parsed
        self._self_delivered[id(parsed)] = (parsed, returned)
        return returned

    def __del__(self) -> None:
        # A stream handed out by parse() outlives this wrapper (`create(...).parse()` in one
        # expression) and ends the span itself; otherwise nothing else will.
        delivered = getattr(self, "_self_delivered", None) or {}
        if any(isinstance(returned, StreamState) for _, returned in delivered.values()):
            return
        invocation = getattr(self, "_self_invocation", None)
        if invocation is not None:
            invocation.end()


class AsyncRawResponseProxy(RawResponseProxy):
    """Proxy over an asynchronous raw response (``parse()`` and ``close()`` are coroutines)."""

    async def parse(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        """The SDK's ``parse()``, traced."""
        return self._self_deliver(await self.__wrapped__.parse(*args, **kwargs))

    async def close(self) -> Any:  # type: ignore[override]
        """The SDK's ``close()``; ends the span if nothing was parsed."""
        try:
            return await self.__wrapped__.close()
        finally:
            self._self_finish()
