"""One model call, one inference span: framework integrations and provider instrumentors agree
on who traces a call.

A framework (LangChain, LiteLLM, an agent SDK, your own wrapper) that is about to make a model
call opens :func:`model_call`; a provider instrumentor that traces the actual request inside it
claims the call (:func:`claim`, done by every wikitrace-otel instrumentor when it starts an
inference or embeddings span). Afterwards the framework looks at ``call.traced``: True means
the provider span exists, nested under whatever span was current (the framework's step), and
the framework must not emit one of its own; False means no provider instrumentor saw the call,
so the framework's own inference span is the only record of it.

The scope lives in a context variable: asyncio tasks and threads that copy the context (created
inside the block) claim the same call.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager


class ModelCall:
    """A model call made by a framework. ``traced`` turns True once a provider instrumentor
    traced a request made inside it; ``claims`` counts those requests (retries, fan-out)."""

    __slots__ = ("claims", "name")

    def __init__(self, name: str | None = None) -> None:
        self.name = name
        self.claims = 0

    @property
    def traced(self) -> bool:
        return self.claims > 0

    def __repr__(self) -> str:
        return f"ModelCall(name={self.name!r}, claims={self.claims})"


_current: contextvars.ContextVar[ModelCall | None] = contextvars.ContextVar("wikitrace_model_call", default=None)


@contextmanager
def model_call(name: str | None = None) -> Iterator[ModelCall]:
    """Mark a framework's model call; see the module docs.

    ::

        with wikitrace_otel.model_call("my-router") as call:
            answer = router.complete(prompt)        # may call an instrumented provider SDK
        if not call.traced:
            ...                                     # emit your own inference span

    Nested scopes: the innermost one is claimed.
    """
    call = ModelCall(name)
    token = _current.set(call)
    try:
        yield call
    finally:
        _current.reset(token)


def open_model_call(name: str | None = None) -> tuple[ModelCall, contextvars.Token[ModelCall | None]]:
    """:func:`model_call` for callback-style integrations whose start and end are separate
    hooks run in the same context: returns the call and the token for :func:`close_model_call`."""
    call = ModelCall(name)
    return call, _current.set(call)


def close_model_call(token: contextvars.Token[ModelCall | None]) -> None:
    """End a scope opened by :func:`open_model_call` (in the context that opened it)."""
    _current.reset(token)


def claim() -> None:
    """Called by provider instrumentors when they start an inference or embeddings span."""
    call = _current.get()
    if call is not None:
        call.claims += 1


def current_model_call() -> ModelCall | None:
    """The innermost open framework model call, or None."""
    return _current.get()
