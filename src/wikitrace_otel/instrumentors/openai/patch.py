"""The wrappers put around OpenAI SDK methods. Each wrapper is written once, for sync and
async alike; the per-API differences live in :mod:`.apis`.

Every wrapper:
- passes straight through when called inside another traced call (an SDK method that calls
  another wrapped method yields one span, not two);
- asks :mod:`wikitrace_otel._genai.gate` first, which may refuse the call (a spent budget)
  by raising before anything is sent;
- starts the span before the request (sampling attributes included) and makes it current
  while the SDK sends, so HTTP client spans nest under it;
- ends it on the result, or hands it to a stream / raw-response proxy that ends it later;
- re-raises the SDK's exceptions unchanged, and never lets its own failure reach the caller.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from wikitrace_otel._genai import gate
from wikitrace_otel._genai.call import TracedCall, Wrapper, make_call_wrapper
from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.raw import AsyncRawResponseProxy, RawResponseProxy
from wikitrace_otel._genai.request import input_content, raw_mode, request_attributes, without_raw
from wikitrace_otel._genai.stream import AsyncTracedStream, StreamManagerProxy, TracedStream
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.instrumentors.openai.apis import Api
from wikitrace_otel.instrumentors.openai.extractors import given
from wikitrace_otel.instrumentors.openai.provider import EndpointCache
from wikitrace_otel.semconv import gen_ai as g

_inside_call: ContextVar[bool] = ContextVar("wikitrace_openai_inside_call", default=False)
_LAZY_RAW = "stream"  # with_streaming_response: the body is read only when the caller asks


class Tracer:
    """Starts invocations for OpenAI calls and finishes them from their results."""

    def __init__(self, telemetry: GenAITelemetry) -> None:
        self.telemetry = telemetry
        self.endpoints = EndpointCache(telemetry.settings.provider_hosts)

    def start(self, api: Api, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Invocation, bool]:
        """Open the span of one call. Returns the invocation and whether the provider is ``openai``."""
        if args and api.positional:
            kwargs = {**dict(zip(api.positional, args, strict=False)), **kwargs}
        endpoint = self.endpoints.for_client(getattr(instance, "_client", None))
        is_openai = endpoint.provider == g.Provider.OPENAI.value
        attrs = request_attributes(
            api.operation, endpoint.provider, kwargs.get("model"), endpoint.address, endpoint.port
        )
        if is_openai and api.api_type:
            attrs[g.OPENAI_API_TYPE] = api.api_type
        api.request(kwargs, attrs, is_openai)
        ticket = gate.before_request(attrs, lambda: api.content(kwargs) if api.content is not None else None)
        content = input_content(self.telemetry, api.content, kwargs)
        return Invocation(self.telemetry, attrs, content, ticket), is_openai

    def finish(
        self, api: Api, invocation: Invocation, is_openai: bool, kwargs: dict[str, Any], result: Any, is_async: bool
    ) -> Any:
        """Hand the result over: end the span now, or return a proxy that ends it later."""
        raw = raw_mode(kwargs)
        if raw is not None:
            return self._raw(api, invocation, is_openai, kwargs, result, raw, is_async)
        if kwargs.get("stream") is True and api.accumulator is not None:
            proxy = AsyncTracedStream if is_async else TracedStream
            return proxy(result, api.accumulator(invocation, is_openai, kwargs))
        api.result(invocation, result, is_openai)
        invocation.end()
        return result

    def _raw(
        self,
        api: Api,
        invocation: Invocation,
        is_openai: bool,
        kwargs: dict[str, Any],
        result: Any,
        raw: str,
        is_async: bool,
    ) -> Any:
        def on_parsed(parsed: Any) -> Any:
            return self.finish(api, invocation, is_openai, without_raw(kwargs), parsed, is_async)

        proxy_type = (
            AsyncRawResponseProxy if inspect.iscoroutinefunction(getattr(result, "parse", None)) else RawResponseProxy
        )
        proxy = proxy_type(result, invocation, on_parsed)
        if raw != _LAZY_RAW and proxy_type is RawResponseProxy:
            # with_raw_response: the body has been read (or the stream opened) already, so
            # parse now (the SDK caches the result) and end the span without waiting.
            proxy.parse()
        return proxy

    def prepare(self, api: Api, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments actually sent (usage requested on streams if configured)."""
        if (
            api.stream_usage
            and self.telemetry.settings.include_usage
            and kwargs.get("stream") is True
            and not given(kwargs.get("stream_options"))
        ):
            return {**kwargs, "stream_options": {"include_usage": True}}
        return kwargs


class _Call(TracedCall):
    """One traced OpenAI call; sends the keyword arguments :meth:`Tracer.prepare` gives."""

    __slots__ = ("tracer", "api", "is_openai", "is_async")
    inside = _inside_call

    def __init__(
        self, tracer: Tracer, api: Api, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any], is_async: bool
    ) -> None:
        self.tracer, self.api, self.is_async = tracer, api, is_async
        sent = tracer.prepare(api, kwargs)
        invocation, self.is_openai = tracer.start(api, instance, args, sent)
        super().__init__(invocation, sent)

    def hand_over(self, result: Any) -> Any:
        return self.tracer.finish(self.api, self.invocation, self.is_openai, self.kwargs, result, self.is_async)


def make_wrapper(tracer: Tracer, api: Api, is_async: bool) -> Wrapper:
    """A wrapt wrapper tracing one SDK method of the given API family."""

    def begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call | None:
        return _Call.begin(tracer, api, instance, args, kwargs, is_async)

    return make_call_wrapper(begin, is_async)


def stream_helper_wrapper(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Wrapper of ``.stream()`` helpers: their inner ``create`` call is traced; this makes
    leaving the helper's ``with`` block end that span."""
    manager = wrapped(*args, **kwargs)
    try:
        return StreamManagerProxy(manager)
    except Exception as internal:  # noqa: BLE001
        report_internal_error(internal)
        return manager
