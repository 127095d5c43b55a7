"""The wrappers put around ``google-genai`` methods, each written once for sync and async.

Every wrapper:
- passes straight through when called inside another traced call (one span per call);
- asks :mod:`wikitrace_otel._genai.gate` first, which may refuse the call (a spent budget) by
  raising before anything is sent;
- starts the span before the request (sampling attributes included) and makes it current
  while the SDK sends, so HTTP client spans nest under it;
- ends it on the result, or hands it to a stream proxy that ends it later;
- re-raises the SDK's exceptions unchanged, and never lets its own failure reach the caller.

``generate_content_stream`` returns a generator (sync) or, once awaited, an async generator
that sends the request only when first read: the span starts at the call (that is when a
budget refuses it) and the stream proxy makes it current during every read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wikitrace_otel._genai import gate
from wikitrace_otel._genai.errors import internal_errors, report_internal_error
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.instrumentors.google_genai import extractors as ex
from wikitrace_otel.instrumentors.google_genai.apis import Api
from wikitrace_otel.instrumentors.google_genai.calls import in_traced_call
from wikitrace_otel.instrumentors.google_genai.provider import EndpointCache
from wikitrace_otel.instrumentors.google_genai.stream import AsyncGeminiStream, GeminiStream
from wikitrace_otel.semconv import gen_ai as g

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


class Tracer:
    """Starts invocations for ``google-genai`` calls and finishes them from their results."""

    def __init__(self, telemetry: GenAITelemetry) -> None:
        self.telemetry = telemetry
        self.endpoints = EndpointCache(telemetry.settings.provider_hosts)

    def start(self, api: Api, instance: Any, kwargs: dict[str, Any], streaming: bool) -> Invocation:
        """Open the span of one call (after the budget gate let it through)."""
        endpoint = self.endpoints.for_client(getattr(instance, "_api_client", None))
        attrs: dict[str, Any] = {g.GEN_AI_OPERATION_NAME: api.operation, g.GEN_AI_PROVIDER_NAME: endpoint.provider}
        model = kwargs.get("model")
        if isinstance(model, str) and model:
            attrs[g.GEN_AI_REQUEST_MODEL] = model
        if endpoint.address:
            attrs[g.SERVER_ADDRESS] = endpoint.address
            if endpoint.port is not None:
                attrs[g.SERVER_PORT] = endpoint.port
        api.request(kwargs, attrs)
        if streaming:
            attrs[g.GEN_AI_REQUEST_STREAM] = True
        ticket = gate.before_request(attrs, lambda: api.prompt(kwargs))
        content = None
        if api.content is not None and self.telemetry.settings.capture_content.enabled:
            with internal_errors():  # unreadable input content loses the content, not the span
                content = {k: v for k, v in api.content(kwargs).items() if v}
        invocation = Invocation(self.telemetry, attrs, content, ticket)
        invocation.error_classifier = ex.error_type
        return invocation


class _Call:
    """One traced call while the SDK sends it: the span is current, the context is marked as
    inside a traced call, and an exception from the SDK ends the span (and propagates)."""

    __slots__ = ("tracer", "api", "invocation", "_token")

    def __init__(self, tracer: Tracer, api: Api, instance: Any, kwargs: dict[str, Any], streaming: bool) -> None:
        self.tracer, self.api = tracer, api
        self.invocation = tracer.start(api, instance, kwargs, streaming)
        self._token: Any = None

    @classmethod
    def begin(cls, tracer: Tracer, api: Api, instance: Any, kwargs: dict[str, Any], streaming: bool) -> _Call | None:
        """A new call, or None when it must not be traced (nested, or our own failure)."""
        if in_traced_call.get():
            return None
        try:
            return cls(tracer, api, instance, kwargs, streaming)
        except gate.RequestRefused:
            raise  # a budget refused the call: nothing is sent
        except Exception as internal:  # noqa: BLE001 - the SDK call goes ahead untraced
            report_internal_error(internal)
            return None

    def __enter__(self) -> _Call:
        self._token = in_traced_call.set(True)
        self.invocation.attach()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is not None:
            self.invocation.end(exc)
        self.invocation.detach()
        in_traced_call.reset(self._token)
        return False  # the SDK's exception propagates unchanged

    def finish(self, result: Any) -> Any:
        """Read a complete result and end the span; our failure returns the result as is."""
        try:
            self.api.result(self.invocation, result)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)
        self.invocation.end()
        return result

    def stream(self, result: Any, is_async: bool) -> Any:
        """Put the SDK's stream behind a traced proxy that ends the span."""
        try:
            if self.api.accumulator is None:
                raise TypeError(f"{self.api.operation} has no stream accumulator")
            proxy = AsyncGeminiStream if is_async else GeminiStream
            return proxy(result, self.api.accumulator(self.invocation))
        except Exception as internal:  # noqa: BLE001 - the stream works untraced
            report_internal_error(internal)
            self.invocation.end()
            return result


def make_wrapper(tracer: Tracer, api: Api, is_async: bool) -> Wrapper:
    """A wrapt wrapper tracing one method that returns a complete result."""

    def traced(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = _Call.begin(tracer, api, instance, kwargs, streaming=False)
        if call is None:
            return wrapped(*args, **kwargs)
        with call:
            result = wrapped(*args, **kwargs)
        return call.finish(result)

    async def traced_async(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _Call.begin(tracer, api, instance, kwargs, streaming=False)
        if call is None:
            return await wrapped(*args, **kwargs)
        with call:
            result = await wrapped(*args, **kwargs)
        return call.finish(result)

    return traced_async if is_async else traced


def make_stream_wrapper(tracer: Tracer, api: Api, is_async: bool) -> Wrapper:
    """A wrapt wrapper tracing ``generate_content_stream`` (a generator, or a coroutine giving one)."""

    def traced(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = _Call.begin(tracer, api, instance, kwargs, streaming=True)
        if call is None:
            return wrapped(*args, **kwargs)
        with call:
            result = wrapped(*args, **kwargs)
        return call.stream(result, is_async=False)

    async def traced_async(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _Call.begin(tracer, api, instance, kwargs, streaming=True)
        if call is None:
            return await wrapped(*args, **kwargs)
        with call:
            result = await wrapped(*args, **kwargs)
        return call.stream(result, is_async=True)

    return traced_async if is_async else traced
