"""The wrappers put around Mistral SDK methods, written once for sync and async alike.

Every wrapper:
- asks :mod:`wikitrace_otel._genai.gate` first, which may refuse the call (a spent budget) by
  raising before anything is sent;
- starts the span before the request (sampling attributes included) and makes it current
  while the SDK sends, so HTTP client spans nest under it;
- ends it on the response, or hands the SDK's event stream to a traced stream proxy that ends
  it however the stream ends;
- re-raises the SDK's exceptions unchanged, and never lets its own failure reach the caller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wikitrace_otel._genai import gate
from wikitrace_otel._genai.errors import internal_errors, report_internal_error
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import AsyncTracedStream, TracedStream
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.instrumentors.mistral import extractors as ex
from wikitrace_otel.instrumentors.mistral.apis import Api
from wikitrace_otel.instrumentors.mistral.provider import EndpointCache, server_url
from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv.gen_ai import Provider

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


class Tracer:
    """Starts invocations for Mistral calls and finishes them from their results.

    Provider-neutral apart from its defaults: the Cohere instrumentor reuses it with its own
    provider name, URL lookup and error classifier.
    """

    def __init__(
        self,
        telemetry: GenAITelemetry,
        provider: str = Provider.MISTRAL_AI.value,
        url_of: Callable[[Any, dict[str, Any]], str] = server_url,
        error_classifier: Callable[[BaseException], str | None] = ex.error_type,
    ) -> None:
        self.telemetry = telemetry
        self.endpoints = EndpointCache(telemetry.settings.provider_hosts, provider)
        self.url_of = url_of
        self.error_classifier = error_classifier
        # Cleared by uninstrument(): an SDK that copied a wrapped method onto a client object
        # (Cohere binds ``chat`` per client) still calls the wrapper, which must then pass through.
        self.active = True

    def start(self, api: Api, instance: Any, kwargs: dict[str, Any]) -> Invocation:
        """Open the span of one call (after the budget gate let it through)."""
        endpoint = self.endpoints.for_url(self.url_of(instance, kwargs))
        attrs: dict[str, Any] = {g.GEN_AI_OPERATION_NAME: api.operation, g.GEN_AI_PROVIDER_NAME: endpoint.provider}
        model = kwargs.get("model")
        if isinstance(model, str) and model:
            attrs[g.GEN_AI_REQUEST_MODEL] = model
        if endpoint.address:
            attrs[g.SERVER_ADDRESS] = endpoint.address
            if endpoint.port is not None:
                attrs[g.SERVER_PORT] = endpoint.port
        api.request(kwargs, attrs, api.streaming)
        ticket = gate.before_request(attrs, lambda: api.prompt(kwargs))
        content = None
        if api.content is not None and self.telemetry.settings.capture_content.enabled:
            with internal_errors():  # unreadable input content loses the content, not the span
                content = {k: v for k, v in api.content(kwargs).items() if v}
        invocation = Invocation(self.telemetry, attrs, content, ticket)
        invocation.error_classifier = self.error_classifier
        return invocation

    def finish(self, api: Api, invocation: Invocation, kwargs: dict[str, Any], result: Any, is_async: bool) -> Any:
        """Hand the result over: end the span now, or return a stream proxy that ends it later."""
        if api.accumulator is not None:
            proxy = AsyncTracedStream if is_async else TracedStream
            return proxy(result, api.accumulator(invocation, kwargs))
        api.result(invocation, result)
        invocation.end()
        return result


class _Call:
    """One traced call while the SDK sends it: the span is current, and an exception from the
    SDK ends the span (and propagates unchanged)."""

    __slots__ = ("tracer", "api", "invocation", "kwargs", "is_async")

    def __init__(self, tracer: Tracer, api: Api, instance: Any, kwargs: dict[str, Any], is_async: bool) -> None:
        self.tracer, self.api, self.kwargs, self.is_async = tracer, api, kwargs, is_async
        self.invocation = tracer.start(api, instance, kwargs)

    @classmethod
    def begin(cls, tracer: Tracer, api: Api, instance: Any, kwargs: dict[str, Any], is_async: bool) -> _Call | None:
        """A new call, or None when it goes untraced (uninstrumented, or our own failure)."""
        if not tracer.active:
            return None
        try:
            return cls(tracer, api, instance, kwargs, is_async)
        except gate.RequestRefused:
            raise  # a budget refused the call: nothing is sent
        except Exception as internal:  # noqa: BLE001 - the SDK call goes ahead untraced
            report_internal_error(internal)
            return None

    def __enter__(self) -> _Call:
        self.invocation.attach()
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is not None:
            self.invocation.end(exc)
        self.invocation.detach()
        return False  # the SDK's exception propagates unchanged

    def finish(self, result: Any) -> Any:
        """The value handed back to the caller; our failure here returns the SDK's result as is."""
        try:
            return self.tracer.finish(self.api, self.invocation, self.kwargs, result, self.is_async)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)
            self.invocation.end()
            return result


def make_wrapper(tracer: Tracer, api: Api, is_async: bool) -> Wrapper:
    """A wrapt wrapper tracing one SDK method (``chat.complete``, ``chat.stream_async``...)."""

    def traced(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = _Call.begin(tracer, api, instance, kwargs, is_async=False)
        if call is None:
            return wrapped(*args, **kwargs)
        with call:
            result = wrapped(*args, **kwargs)
        return call.finish(result)

    async def traced_async(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _Call.begin(tracer, api, instance, kwargs, is_async=True)
        if call is None:
            return await wrapped(*args, **kwargs)
        with call:
            result = await wrapped(*args, **kwargs)
        return call.finish(result)

    return traced_async if is_async else traced


def make_generator_wrapper(tracer: Tracer, api: Api, is_async: bool) -> Wrapper:
    """A wrapt wrapper for an SDK method that is a generator function, sync or async (Cohere's
    ``chat_stream``): calling it sends nothing yet, so the call returns the traced stream at once
    and the request goes out on the first read, inside the span's time."""

    def traced(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = _Call.begin(tracer, api, instance, kwargs, is_async)
        if call is None:
            return wrapped(*args, **kwargs)
        with call:
            result = wrapped(*args, **kwargs)
        return call.finish(result)

    return traced
