"""The wrappers put around Anthropic SDK methods. Each is written once, for sync and async
alike; the per-API differences live in :mod:`.apis`.

Every wrapper:
- passes straight through when called inside another traced call (one span per call);
- asks :mod:`wikitrace_otel._genai.gate` first, which may refuse the call (a spent budget) by
  raising before anything is sent;
- starts the span before the request (sampling attributes included) and makes it current
  while the SDK sends, so HTTP client spans nest under it, and the SDK's own span is off
  (see :mod:`.native`);
- ends it on the result, or hands it to a stream / raw-response proxy that ends it later;
- re-raises the SDK's exceptions unchanged, and never lets its own failure reach the caller.

The ``.stream()`` helper sends its request only when its ``with`` block is entered: its
wrapper returns :class:`StreamManagerProxy`, which traces that ``__enter__`` and then puts the
helper's underlying raw event stream behind a :class:`TracedStream`, so every way of reading
the helper (events, ``text_stream``, ``get_final_message()``, ``until_done()``) and every way
of leaving it (exhaustion, ``break``, ``close()``, an error, garbage collection) ends the span.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import wrapt

from wikitrace_otel._genai import gate
from wikitrace_otel._genai.call import TracedCall, Wrapper, make_call_wrapper
from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.raw import AsyncRawResponseProxy, RawResponseProxy
from wikitrace_otel._genai.request import input_content, raw_mode, request_attributes, without_raw
from wikitrace_otel._genai.stream import AsyncTracedStream, StreamState, TracedStream
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.instrumentors.anthropic import extractors as ex
from wikitrace_otel.instrumentors.anthropic.apis import Api
from wikitrace_otel.instrumentors.anthropic.native import in_traced_call
from wikitrace_otel.instrumentors.anthropic.provider import EndpointCache


class Tracer:
    """Starts invocations for Anthropic calls and finishes them from their results."""

    def __init__(self, telemetry: GenAITelemetry) -> None:
        self.telemetry = telemetry
        self.endpoints = EndpointCache(telemetry.settings.provider_hosts)

    def start(self, api: Api, instance: Any, kwargs: dict[str, Any]) -> Invocation:
        """Open the span of one call (after the budget gate let it through)."""
        endpoint = self.endpoints.for_client(getattr(instance, "_client", None))
        sent = _sent_body(kwargs)
        attrs = request_attributes(api.operation, endpoint.provider, sent.get("model"), endpoint.address, endpoint.port)
        api.request(sent, attrs)
        ticket = gate.before_request(attrs, lambda: api.content(kwargs) if api.content is not None else None)
        content = input_content(self.telemetry, api.content, kwargs)
        invocation = Invocation(self.telemetry, attrs, content, ticket)
        invocation.error_classifier = ex.error_type
        return invocation

    def finish(self, api: Api, invocation: Invocation, kwargs: dict[str, Any], result: Any, is_async: bool) -> Any:
        """Hand the result over: end the span now, or return a proxy that ends it later."""
        raw = raw_mode(kwargs)
        if raw is not None:
            return self._raw(api, invocation, kwargs, result, raw, is_async)
        if kwargs.get("stream") is True and api.accumulator is not None:
            proxy = AsyncTracedStream if is_async else TracedStream
            return proxy(result, api.accumulator(invocation))
        api.result(invocation, result)
        invocation.end()
        return result

    def _raw(
        self, api: Api, invocation: Invocation, kwargs: dict[str, Any], result: Any, raw: str, is_async: bool
    ) -> Any:
        def on_parsed(parsed: Any) -> Any:
            return self.finish(api, invocation, without_raw(kwargs), parsed, is_async)

        is_async_parse = inspect.iscoroutinefunction(getattr(result, "parse", None))
        proxy_type = AsyncRawResponseProxy if is_async_parse else RawResponseProxy
        proxy = proxy_type(result, invocation, on_parsed)
        if raw != "stream" and proxy_type is RawResponseProxy:
            # with_raw_response: the body is read already; parse now (the SDK caches it) and end.
            proxy.parse()
        return proxy


def _sent_body(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The parameters as sent: ``extra_body`` is merged over the keyword arguments by the SDK
    (newer SDKs take sampling parameters such as ``top_k`` only that way)."""
    extra = kwargs.get("extra_body")
    return {**kwargs, **extra} if isinstance(extra, dict) and extra else kwargs


class _Call(TracedCall):
    """One traced Anthropic call; the context is marked so the SDK's own span stays off."""

    __slots__ = ("tracer", "api", "is_async")
    inside = in_traced_call

    def __init__(self, tracer: Tracer, api: Api, instance: Any, kwargs: dict[str, Any], is_async: bool) -> None:
        self.tracer, self.api, self.is_async = tracer, api, is_async
        super().__init__(tracer.start(api, instance, kwargs), kwargs)

    def hand_over(self, result: Any) -> Any:
        return self.tracer.finish(self.api, self.invocation, self.kwargs, result, self.is_async)

    def trace_helper(self, helper: Any) -> Any:
        """Put the ``.stream()`` helper's raw event stream behind a traced proxy."""
        try:
            raw = helper._raw_stream
            proxy = AsyncTracedStream if self.is_async else TracedStream
            accumulator = self.api.accumulator(self.invocation) if self.api.accumulator is not None else None
            if accumulator is None:
                raise TypeError(f"{self.api.operation} has no stream accumulator")
            helper._raw_stream = proxy(raw, accumulator)
            return helper._raw_stream
        except Exception as internal:  # noqa: BLE001 - the helper works untraced; the span ends at exit
            report_internal_error(internal)
            return None


def make_wrapper(tracer: Tracer, api: Api, is_async: bool) -> Wrapper:
    """A wrapt wrapper tracing one SDK method (``create``, ``parse``, ``count_tokens``)."""

    def begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call | None:
        return _Call.begin(tracer, api, instance, kwargs, is_async)

    return make_call_wrapper(begin, is_async)


def make_stream_helper_wrapper(tracer: Tracer, api: Api, is_async: bool) -> Wrapper:
    """A wrapt wrapper for ``.stream()``: the manager it returns traces entering its ``with``."""

    def traced(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        manager = wrapped(*args, **kwargs)
        try:
            return StreamManagerProxy(manager, (tracer, api, instance, {**kwargs, "stream": True}), is_async)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)
            return manager

    return traced


class StreamManagerProxy(wrapt.BaseObjectProxy):  # type: ignore[misc]
    """Proxy over a ``MessageStreamManager`` (sync or async): the request it sends on entering
    is traced, and the helper it returns reads its events through a traced stream."""

    def __init__(self, wrapped: Any, start: tuple[Tracer, Api, Any, dict[str, Any]], is_async: bool) -> None:
        super().__init__(wrapped)
        self._self_start = start
        self._self_is_async = is_async
        self._self_call: _Call | None = None
        self._self_stream: StreamState | None = None

    def _self_begin(self) -> _Call | None:
        tracer, api, instance, kwargs = self._self_start
        self._self_call = _Call.begin(tracer, api, instance, kwargs, self._self_is_async)
        return self._self_call

    def _self_end(self) -> None:
        # The helper's close() normally ended the span already, through its raw stream.
        if self._self_stream is not None:
            self._self_stream._self_end(None, complete=False)
        elif self._self_call is not None:
            self._self_call.invocation.end()

    def __enter__(self) -> Any:
        call = self._self_begin()
        if call is None:
            return self.__wrapped__.__enter__()
        with call:
            helper = self.__wrapped__.__enter__()
        self._self_stream = call.trace_helper(helper)
        return helper

    def __exit__(self, *exc_info: Any) -> Any:
        try:
            return self.__wrapped__.__exit__(*exc_info)
        finally:
            self._self_end()

    async def __aenter__(self) -> Any:
        call = self._self_begin()
        if call is None:
            return await self.__wrapped__.__aenter__()
        with call:
            helper = await self.__wrapped__.__aenter__()
        self._self_stream = call.trace_helper(helper)
        return helper

    async def __aexit__(self, *exc_info: Any) -> Any:
        try:
            return await self.__wrapped__.__aexit__(*exc_info)
        finally:
            self._self_end()
