"""The wrappers put around LiteLLM's module functions, written once for sync and async alike.

Every wrapper:
- passes straight through when called inside another traced LiteLLM call (one span per call);
- asks :mod:`wikitrace_otel._genai.gate` first, which may refuse the call (a spent budget) by
  raising before anything is sent;
- opens a :func:`~wikitrace_otel._genai.claims.model_call` around LiteLLM's work. When LiteLLM
  calls a provider SDK that one of our instrumentors traces (``openai/...`` models go through
  the OpenAI SDK), that instrumentor's span is the call's one span, nested under the caller's
  span, and this wrapper emits nothing. Otherwise (LiteLLM's own HTTP code, or the provider's
  instrumentor is off) it emits LiteLLM's inference span afterwards, started at the time the
  call started;
- hands a stream (``CustomStreamWrapper``) back behind a traced proxy that ends the span exactly
  once, however the stream ends;
- re-raises LiteLLM's exceptions unchanged, and never lets its own failure reach the caller.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextvars import ContextVar
from time import perf_counter, time_ns
from typing import Any

from opentelemetry import trace

from wikitrace_otel._genai import claims, gate
from wikitrace_otel._genai.errors import internal_errors, report_internal_error
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.request import input_content, request_attributes
from wikitrace_otel._genai.stream import AsyncTracedStream, TracedStream
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.instrumentors.litellm.apis import Api
from wikitrace_otel.instrumentors.litellm.providers import Router
from wikitrace_otel.semconv import gen_ai as g

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]

_in_litellm_call: ContextVar[bool] = ContextVar("wikitrace_in_litellm_call", default=False)


class _StartAt:
    """A tracer whose spans start at a given time: the span of a call emitted after it ran."""

    __slots__ = ("_tracer", "_start_ns")

    def __init__(self, tracer: trace.Tracer, start_ns: int) -> None:
        self._tracer, self._start_ns = tracer, start_ns

    def start_span(self, name: str, **kwargs: Any) -> trace.Span:
        return self._tracer.start_span(name, start_time=self._start_ns, **kwargs)


class _Call:
    """One LiteLLM call: its request attributes, budget ticket, start time and framework scope."""

    __slots__ = ("tracer", "api", "kwargs", "attrs", "ticket", "start_ns", "started", "scope", "_tokens")

    def __init__(self, tracer: Tracer, api: Api, kwargs: dict[str, Any]) -> None:
        self.tracer, self.api, self.kwargs = tracer, api, kwargs
        self.attrs = tracer.request_attributes(api, kwargs)
        self.ticket = gate.before_request(self.attrs, lambda: api.content(kwargs))
        self.start_ns, self.started = time_ns(), perf_counter()
        self.scope: claims.ModelCall | None = None
        self._tokens: tuple[Any, Any] | None = None

    @classmethod
    def begin(cls, tracer: Tracer, api: Api, kwargs: dict[str, Any]) -> _Call | None:
        """A new call, or None when it must not be traced (nested, or our own failure)."""
        if _in_litellm_call.get():
            return None
        try:
            return cls(tracer, api, kwargs)
        except gate.RequestRefused:
            raise  # a budget refused the call: nothing is sent
        except Exception as internal:  # noqa: BLE001 - the call goes ahead untraced
            report_internal_error(internal)
            return None

    def __enter__(self) -> _Call:
        self.scope, scope_token = claims.open_model_call("litellm")
        self._tokens = (scope_token, _in_litellm_call.set(True))
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        assert self._tokens is not None
        scope_token, nested_token = self._tokens
        _in_litellm_call.reset(nested_token)
        claims.close_model_call(scope_token)
        if exc is not None:
            with internal_errors():
                invocation = self.invocation()
                if invocation is not None:
                    invocation.end(exc)
        return False  # LiteLLM's exception propagates unchanged

    def invocation(self) -> Invocation | None:
        """LiteLLM's own span for this call, started at its start time; None when a provider
        instrumentor of ours traced it already."""
        if self.scope is not None and self.scope.traced:
            gate.cancel(self.ticket)  # the provider instrumentor's own ticket is charged instead
            self.ticket = None
            return None
        telemetry = copy.copy(self.tracer.telemetry)
        telemetry.tracer = _StartAt(self.tracer.telemetry.tracer, self.start_ns)  # type: ignore[assignment]
        read = self.api.content if self.api.operation == g.Operation.CHAT.value else None
        content = input_content(self.tracer.telemetry, read, self.kwargs)
        invocation = Invocation(telemetry, self.attrs, content, self.ticket)
        invocation.started = self.started
        return invocation

    def finish(self, result: Any, is_async: bool) -> Any:
        """The value handed back to the caller; our failure here returns LiteLLM's result as is."""
        try:
            invocation = self.invocation()
            if invocation is None:
                return result
            if self.kwargs.get("stream") is True and self.api.accumulator is not None:
                proxy = AsyncTracedStream if is_async else TracedStream
                return proxy(result, self.api.accumulator(invocation))
            try:
                self.api.result(invocation, result)
            finally:
                invocation.end()
            return result
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)
            return result


class Tracer:
    """Builds the request attributes of LiteLLM calls and emits their spans."""

    def __init__(self, telemetry: GenAITelemetry, router: Router) -> None:
        self.telemetry = telemetry
        self.router = router

    def request_attributes(self, api: Api, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Operation, provider, model, server and request parameters of one call."""
        where = self.router.route(kwargs)
        attrs = request_attributes(api.operation, where.provider, where.model, where.address, where.port)
        api.request(kwargs, attrs)
        return attrs


def make_wrapper(tracer: Tracer, api: Api, is_async: bool) -> Wrapper:
    """A wrapt wrapper tracing one LiteLLM function (``completion``, ``aembedding``...)."""

    def traced(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = _Call.begin(tracer, api, _with_positional(api, args, kwargs))
        if call is None:
            return wrapped(*args, **kwargs)
        with call:
            result = wrapped(*args, **kwargs)
        return call.finish(result, is_async=False)

    async def traced_async(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = _Call.begin(tracer, api, _with_positional(api, args, kwargs))
        if call is None:
            return await wrapped(*args, **kwargs)
        with call:
            result = await wrapped(*args, **kwargs)
        return call.finish(result, is_async=True)

    return traced_async if is_async else traced


def _with_positional(api: Api, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """LiteLLM's functions take ``model`` and ``messages`` / ``input`` positionally too."""
    if not args:
        return kwargs
    return {**dict(zip(api.positional, args, strict=False)), **kwargs}
