"""Tracing ``chat`` / ``chat_stream`` on clients the SDK has already copied them onto.

``cohere.Client.__init__`` (and so ``ClientV2`` / ``AsyncClientV2``) stores its own wrappers of
``self.chat`` and ``self.chat_stream`` in the new client's ``__dict__`` (an argument check and
an experimental-feature warning). Each wrapper holds the method bound at that moment, so
wrapping ``V2Client.chat`` later does not reach a client created earlier: the instance
attribute is found before the class's method.

:class:`CopiedMethod` is put on ``V2Client`` / ``AsyncV2Client`` instead of a plain wrapper. It
is a *data* descriptor, and Python looks those up before the instance ``__dict__``: every
``client.chat`` goes through it. It traces the client's own copy when there is one (so the
SDK's checks still run, inside the span), else the class's method. A client created while
instrumented captured a traced method in its copy; that inner layer sees the outer call under
way (:class:`GuardedCall`'s nesting guard) and passes straight through: one span per call.
Uninstrumenting puts the SDK's function back on the class; the copies then win again, exactly
as before instrumenting.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ClassVar

from wrapt import FunctionWrapper

from wikitrace_otel._genai.call import Wrapper, make_call_wrapper
from wikitrace_otel.instrumentors.mistral.apis import Api
from wikitrace_otel.instrumentors.mistral.patch import Tracer
from wikitrace_otel.instrumentors.mistral.patch import _Call as _MistralCall

__all__ = ["CopiedMethod", "GuardedCall", "make_guarded_wrapper"]


class GuardedCall(_MistralCall):
    """The shared Mistral/Cohere traced call plus a nesting guard: a ``chat`` the SDK's copy
    calls from inside a traced ``chat`` adds no second span."""

    __slots__ = ()

    inside: ClassVar[ContextVar[bool] | None] = ContextVar("wikitrace_cohere_call", default=False)


def make_guarded_wrapper(tracer: Tracer, api: Api, is_async: bool, generator: bool, live: list[bool]) -> Wrapper:
    """A wrapt wrapper for ``chat`` (``is_async``: a coroutine method) or ``chat_stream``
    (``generator``: calling it returns the stream at once, so the wrapper itself is sync)."""

    def begin(instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> GuardedCall | None:
        return GuardedCall.begin(tracer, api, instance, kwargs, is_async)

    return make_call_wrapper(begin, is_async and not generator, live=live)


def _for_instance(wrapper: Wrapper, instance: Any) -> Wrapper:
    """``wrapper`` seeing ``instance``: a client's copy is a plain function, so wrapt would
    otherwise pass no instance (and the span would have no server address)."""

    def bound(wrapped: Callable[..., Any], _: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return wrapper(wrapped, instance, args, kwargs)

    return bound


class CopiedMethod:
    """A traced ``chat`` / ``chat_stream`` on ``V2Client`` that also reaches the copies the SDK
    stores on each client; see the module docs.

    Args:
        name: the method's name (also the key of the copies in a client's ``__dict__``).
        original: the SDK's function, as found in the class ``__dict__``.
        wrapper: the tracing wrapt wrapper.
    """

    def __init__(self, name: str, original: Callable[..., Any], wrapper: Wrapper) -> None:
        self._name = name
        self._wrapper = wrapper
        self._function = FunctionWrapper(original, wrapper)
        self.__wrapped__ = original
        self.__doc__ = getattr(original, "__doc__", None)

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self._function.__get__(None, owner)
        copy = getattr(instance, "__dict__", {}).get(self._name)
        if copy is None:
            return self._function.__get__(instance, owner)
        # A wrapt proxy keeps what the copy looks like (an async client's copy stays a
        # coroutine function for inspect / asyncio).
        return FunctionWrapper(copy, _for_instance(self._wrapper, instance))

    def __set__(self, instance: Any, value: Any) -> None:
        # The SDK's ``self.chat = ...`` in Client.__init__ stores its copy where it always did.
        instance.__dict__[self._name] = value

    def __delete__(self, instance: Any) -> None:
        try:
            del instance.__dict__[self._name]
        except KeyError:
            raise AttributeError(self._name) from None
