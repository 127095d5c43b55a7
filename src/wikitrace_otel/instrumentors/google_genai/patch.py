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

from typing import Any

from wikitrace_otel._genai import gate
from wikitrace_otel._genai.call import TracedCall, Wrapper, make_call_wrapper
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.request import input_content, request_attributes
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.instrumentors.google_genai import extractors as ex
from wikitrace_otel.instrumentors.google_genai.apis import Api
from wikitrace_otel.instrumentors.google_genai.calls import in_traced_call
from wikitrace_otel.instrumentors.google_genai.provider import EndpointCache
from wikitrace_otel.instrumentors.google_genai.stream import AsyncGeminiStream, GeminiStream
from wikitrace_otel.semconv import gen_ai as g


class Tracer:
    """Starts invocations for ``google-genai`` calls and finishes them from their results."""

    def __init__(self, telemetry: GenAITelemetry) -> None:
        self.telemetry = telemetry
        self.endpoints = EndpointCache(telemetry.settings.provider_hosts)

    def start(self, api: Api, instance: Any, kwargs: dict[str, Any], streaming: bool) -> Invocation:
        """Open the span of one call (after the budget gate let it through)."""
        endpoint = self.endpoints.for_client(getattr(instance, "_api_client", None))
        attrs = request_attributes(
            api.operation, endpoint.provider, kwargs.get("model"), endpoint.address, endpoint.port
        )
        api.request(kwargs, attrs)
        if streaming:
            attrs[g.GEN_AI_REQUEST_STREAM] = True
        ticket = gate.before_request(attrs, lambda: api.prompt(kwargs))
        content = input_content(self.telemetry, api.content, kwargs)
        invocation = Invocation(self.telemetry, attrs, content, ticket)
        invocation.error_classifier = ex.error_type
        return invocation


class _Call(TracedCall):
    """One traced ``google-genai`` call; the context is marked as inside a traced call."""

    __slots__ = ("tracer", "api", "streaming", "is_async")
    inside = in_traced_call

    def __init__(
        self, tracer: Tracer, api: Api, instance: Any, kwargs: dict[str, Any], streaming: bool, is_async: bool
    ) -> None:
        self.tracer, self.api, self.streaming, self.is_async = tracer, api, streaming, is_async
        super().__init__(tracer.start(api, instance, kwargs, streaming), kwargs)

    def hand_over(self, result: Any) -> Any:
        """Put a stream behind a traced proxy that ends the span; read a complete result and end it."""
        if self.streaming:
            if self.api.accumulator is None:
                raise TypeError(f"{self.api.operation} has no stream accumulator")
            proxy = AsyncGeminiStream if self.is_async else GeminiStream
            return proxy(result, self.api.accumulator(self.invocation))
        self.api.result(self.invocation, result)
        self.invocation.end()
        return result


def make_wrapper(tracer: Tracer, api: Api, is_async: bool, streaming: bool = False) -> Wrapper:
    """A wrapt wrapper tracing one method that returns a complete result, or with ``streaming``
    ``generate_content_stream`` (a generator, or a coroutine giving one)."""

    def begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call | None:
        return _Call.begin(tracer, api, instance, kwargs, streaming, is_async)

    return make_call_wrapper(begin, is_async)


def make_stream_wrapper(tracer: Tracer, api: Api, is_async: bool) -> Wrapper:
    """A wrapt wrapper tracing ``generate_content_stream`` (a generator, or a coroutine giving one)."""
    return make_wrapper(tracer, api, is_async, streaming=True)
