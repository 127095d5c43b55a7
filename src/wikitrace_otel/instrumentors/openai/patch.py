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
from wikitrace_otel.instrumentors.openai.provider import Endpoint, EndpointCache
from wikitrace_otel.semconv import gen_ai as g

_inside_call: ContextVar[bool] = ContextVar("wikitrace_openai_inside_call", default=False)
_LAZY_RAW = "stream"  # with_streaming_response: the body is read only when the caller asks
_CONSTANTS_LIMIT = 256


class Tracer:
    """Starts invocations for OpenAI calls and finishes them from their results."""

    def __init__(self, telemetry: GenAITelemetry) -> None:
        self.telemetry = telemetry
        self.endpoints = EndpointCache(telemetry.settings.provider_hosts)
        self.include_usage = telemetry.settings.include_usage
        # (operation, api type, endpoint) -> the span's constant first attributes, split around
        # the request model so the attributes keep their order: built once, copied per call.
        self._constants: dict[tuple[Any, ...], tuple[dict[str, Any], dict[str, Any], bool]] = {}

    def start(self, api: Api, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Invocation, bool]:
        """Open the span of one call. Returns the invocation and whether the provider is ``openai``."""
        if args and api.positional:
            kwargs = {**dict(zip(api.positional, args, strict=False)), **kwargs}
        endpoint = self.endpoints.for_client(getattr(instance, "_client", None))
        constants = self._constants.get((api.operation, api.api_type, endpoint))
        if constants is None:
            constants = self._endpoint_constants(api, endpoint)
        head, tail, is_openai = constants
        attrs = head.copy()
        model = kwargs.get("model")
        if isinstance(model, str) and model:
            attrs[g.GEN_AI_REQUEST_MODEL] = model
        attrs.update(tail)
        api.request(kwargs, attrs, is_openai)
        telemetry = self.telemetry
        # No gate installed (no budget ever opened): skip building the prompt reader.
        ticket = None if gate._gate is None else gate.before_request(attrs, _prompt_reader(api, kwargs))
        content = input_content(telemetry, api.content, kwargs) if telemetry.capture_content else None
        return Invocation(telemetry, attrs, content, ticket), is_openai

    def _endpoint_constants(self, api: Api, endpoint: Endpoint) -> tuple[dict[str, Any], dict[str, Any], bool]:
        is_openai = endpoint.provider == g.Provider.OPENAI.value
        full = request_attributes(api.operation, endpoint.provider, None, endpoint.address, endpoint.port)
        head = {key: full.pop(key) for key in (g.GEN_AI_OPERATION_NAME, g.GEN_AI_PROVIDER_NAME)}
        if is_openai and api.api_type:
            full[g.OPENAI_API_TYPE] = api.api_type
        if len(self._constants) >= _CONSTANTS_LIMIT:
            self._constants.clear()
        constants = self._constants[(api.operation, api.api_type, endpoint)] = (head, full, is_openai)
        return constants

    def finish(
        self, api: Api, invocation: Invocation, is_openai: bool, kwargs: dict[str, Any], result: Any, is_async: bool
    ) -> Any:
        """Hand the result over: end the span now, or return a proxy that ends it later."""
        raw = raw_mode(kwargs) if kwargs.get("extra_headers") is not None else None
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
        self, tracer: Tracer, api: Api, is_async: bool, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> None:
        self.tracer, self.api, self.is_async = tracer, api, is_async
        if api.stream_usage and tracer.include_usage:
            kwargs = tracer.prepare(api, kwargs)
        self.invocation, self.is_openai = tracer.start(api, instance, args, kwargs)
        self.kwargs = kwargs
        self._token = None

    def hand_over(self, result: Any) -> Any:
        return self.tracer.finish(self.api, self.invocation, self.is_openai, self.kwargs, result, self.is_async)


def make_wrapper(tracer: Tracer, api: Api, is_async: bool, live: list[bool] | None = None) -> Wrapper:
    """A wrapt wrapper tracing one SDK method of the given API family (``live``: see
    :func:`make_call_wrapper`)."""
    return make_call_wrapper(_Call.starter(tracer, api, is_async), is_async, live)


def _prompt_reader(api: Api, kwargs: dict[str, Any]) -> gate.Prompt:
    """The request's input for a gate's size estimate, read only if the gate asks."""
    content = api.content
    return lambda: content(kwargs) if content is not None else None


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
