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
from wikitrace_otel._genai.call import Begin, TracedCall, Wrapper, make_call_wrapper
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.request import input_content, request_attributes
from wikitrace_otel._genai.stream import AsyncTracedStream, TracedStream
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.instrumentors.mistral import extractors as ex
from wikitrace_otel.instrumentors.mistral.apis import Api
from wikitrace_otel.instrumentors.mistral.provider import EndpointCache, server_url
from wikitrace_otel.semconv.gen_ai import Provider


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
        attrs = request_attributes(
            api.operation, endpoint.provider, kwargs.get("model"), endpoint.address, endpoint.port
        )
        api.request(kwargs, attrs, api.streaming)
        ticket = gate.before_request(attrs, lambda: api.prompt(kwargs))
        content = input_content(self.telemetry, api.content, kwargs)
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


class _Call(TracedCall):
    """One traced call while the SDK sends it. No nesting guard: no Mistral method calls another
    traced one. Cohere's ``chat`` / ``chat_stream`` can (a client's stored copy calls the traced
    class method), so Cohere adds one (``instrumentors.cohere.patch.GuardedCall``)."""

    __slots__ = ("tracer", "api", "is_async")

    def __init__(self, tracer: Tracer, api: Api, instance: Any, kwargs: dict[str, Any], is_async: bool) -> None:
        self.tracer, self.api, self.is_async = tracer, api, is_async
        super().__init__(tracer.start(api, instance, kwargs), kwargs)

    @classmethod
    def begin(  # type: ignore[override]
        cls, tracer: Tracer, api: Api, instance: Any, kwargs: dict[str, Any], is_async: bool
    ) -> _Call | None:
        """A new call, or None when it goes untraced (uninstrumented, or our own failure)."""
        if not tracer.active:
            return None
        return super().begin(tracer, api, instance, kwargs, is_async)

    def hand_over(self, result: Any) -> Any:
        return self.tracer.finish(self.api, self.invocation, self.kwargs, result, self.is_async)


def _begin(tracer: Tracer, api: Api, is_async: bool) -> Begin:
    def begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call | None:
        return _Call.begin(tracer, api, instance, kwargs, is_async)

    return begin


def make_wrapper(tracer: Tracer, api: Api, is_async: bool) -> Wrapper:
    """A wrapt wrapper tracing one SDK method (``chat.complete``, ``chat.stream_async``...)."""
    return make_call_wrapper(_begin(tracer, api, is_async), is_async)


def make_generator_wrapper(tracer: Tracer, api: Api, is_async: bool) -> Wrapper:
    """A wrapt wrapper for an SDK method that is a generator function, sync or async (Cohere's
    ``chat_stream``): calling it sends nothing yet, so the call returns the traced stream at once
    and the request goes out on the first read, inside the span's time."""
    return make_call_wrapper(_begin(tracer, api, is_async), is_async=False)
