"""The per-call context every provider wrapper runs the SDK inside, and the wrapt wrapper
factory that puts it around a sync or async SDK method.

A provider subclasses :class:`TracedCall`: its ``__init__`` opens the span (and may be refused
by the budget gate), :meth:`TracedCall.hand_over` turns the SDK's result into what the caller
gets (ending the span, or handing it to a proxy that ends it later), and ``inside``, when set,
is the provider's own nesting guard: a traced method the SDK calls from inside another adds no
second span. Each provider keeps its own guard, so nesting across providers (LiteLLM calling
the OpenAI SDK) still gives the inner provider's span.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any, ClassVar, TypeVar

from wikitrace_otel._genai import gate
from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel._genai.invocation import Invocation

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]
"""A wrapt wrapper: ``(wrapped, instance, args, kwargs) -> result``."""

Begin = Callable[[Any, tuple[Any, ...], dict[str, Any]], "TracedCall | None"]
"""Starts the traced call of one SDK invocation from ``(instance, args, kwargs)``, or gives
None when the call goes ahead untraced."""

_C = TypeVar("_C", bound="TracedCall")


class TracedCall:
    """One traced call while the SDK runs it: makes the span current, marks the context as
    inside a traced call (when the provider has a guard), ends the span if the SDK raises (the
    exception propagates unchanged), and hands the result over without letting our own failure
    reach the caller."""

    __slots__ = ("invocation", "kwargs", "_token")

    inside: ClassVar[ContextVar[bool] | None] = None
    """The provider's nesting guard: set while a call runs; a call begun under it is untraced."""

    def __init__(self, invocation: Invocation, kwargs: dict[str, Any]) -> None:
        self.invocation = invocation
        self.kwargs = kwargs
        self._token: Token[bool] | None = None

    @classmethod
    def begin(cls: type[_C], *args: Any, **kwargs: Any) -> _C | None:
        """A new call built from the subclass's arguments, or None when it must not be traced
        (nested under a call of the same provider, or our own failure). A budget's refusal
        (:class:`gate.RequestRefused`) propagates: nothing is sent."""
        if cls.inside is not None and cls.inside.get():
            return None
        try:
            return cls(*args, **kwargs)
        except gate.RequestRefused:
            raise
        except Exception as internal:  # noqa: BLE001 - the SDK call goes ahead untraced
            report_internal_error(internal)
            return None

    @classmethod
    def starter(cls, *bound: Any) -> Begin:
        """A :data:`Begin` for :func:`make_call_wrapper`: :meth:`begin` with ``bound`` before the
        wrapper's ``(instance, args, kwargs)``."""
        return functools.partial(cls.begin, *bound)

    def __enter__(self) -> dict[str, Any]:
        """Attach the span; returns the keyword arguments to send."""
        if self.inside is not None:
            self._token = self.inside.set(True)
        self.invocation.attach()
        return self.kwargs

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is not None:
            self.invocation.end(exc)
        self.invocation.detach()
        if self.inside is not None and self._token is not None:
            self.inside.reset(self._token)
        return False  # the SDK's exception propagates unchanged

    def finish(self, result: Any) -> Any:
        """The value handed back to the caller; our failure here ends the span and returns the
        SDK's result as is."""
        try:
            return self.hand_over(result)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)
            self.invocation.end()
            return result

    def hand_over(self, result: Any) -> Any:
        """Provider hook: end the span on ``result`` now, or return a proxy that ends it later."""
        raise NotImplementedError


def make_call_wrapper(begin: Begin, is_async: bool, live: list[bool] | None = None) -> Wrapper:
    """A wrapt wrapper running the wrapped method inside the call ``begin`` starts; the
    method itself runs untraced when ``begin`` gives None.

    Args:
        begin: starts the call from ``(instance, args, kwargs)``.
        is_async: whether the wrapped method is a coroutine function (the wrapper is one too).
        live: the instrumentor's on/off switch (``PatchingInstrumentor._live``): when given, the
            wrapper checks it itself (calls go straight to the SDK once ``live[0]`` is False),
            so the instrumentor adds no switching layer of its own around it.
    """
    switch = live if live is not None else [True]

    def traced(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        call = begin(instance, args, kwargs) if switch[0] else None
        if call is None:
            return wrapped(*args, **kwargs)
        with call as sent:
            result = wrapped(*args, **sent)
        return call.finish(result)

    async def traced_async(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        call = begin(instance, args, kwargs) if switch[0] else None
        if call is None:
            return await wrapped(*args, **kwargs)
        with call as sent:
            result = await wrapped(*args, **sent)
        return call.finish(result)

    wrapper = traced_async if is_async else traced
    wrapper.live = live  # type: ignore[attr-defined] - read by PatchingInstrumentor._wrap
    return wrapper
