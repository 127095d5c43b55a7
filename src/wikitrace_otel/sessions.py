"""Sessions and users: mark every span of a conversation, request or job with who and which.

Add :class:`~wikitrace_otel.processors.SessionSpanProcessor` to the tracer provider once, then::

    with wikitrace_otel.session(id=chat_id, user=user_id, tags=["beta"], properties={"plan": "pro"}) as s:
        client.chat.completions.create(...)   # this span, and every other one started here

``async with`` works the same; ``@session(user="nightly")`` gives each call of a sync or async
function its own session; :func:`set_session` / :func:`clear_session` serve middleware and
task-queue hooks. Every span, not only LLM calls, gets ``session.id``,
``wikitrace.session.segment`` and, when known, ``user.id``, ``wikitrace.tags``,
``gen_ai.conversation.id`` (never made up) and ``wikitrace.property.<key>`` (as strings).

**Nesting.** An inner session merges into the outer one: ``id``, ``user`` and ``conversation_id``
are inherited unless given, tags are a union (order kept, first 64), properties merge (inner wins,
first 64). Only the outermost session makes an id (``uuid4().hex``) when none is given. Attribute
and baggage values are cut to 256 characters (the SDK keeps 128 attributes per span by default).

**Segments.** :func:`session_reset` ("new chat") adds one to the session's segment for what runs
afterwards in the same execution context. A child asyncio task, or a thread started with the
helpers below, works on a copy of the context: its resets reach neither its parent nor its
siblings. A reset made in a nested block of the same session id outlives the block (the session
was reset, not the block); a nested session with another id counts its own segments from 0.

**Threads.** The session lives in a :class:`contextvars.ContextVar`, so asyncio tasks never see
each other's. Plain ``executor.submit`` and ``loop.run_in_executor`` do *not* carry it into the
worker thread; :func:`context_submit`, :func:`in_current_context` and ``asyncio.to_thread`` do.
A session opened in a generator is seen by its consumer between yields, and the baggage of one
left unfinished stays in the consumer's context (limits of context variables).

**Across services.** ``propagate=True`` also puts ``session.id`` and ``user.id`` in OpenTelemetry
baggage for the block, so the W3C ``baggage`` header carries them downstream. There the processor
stamps them when no local session is active, and a local session given no id continues them.
Baggage goes with *every* request an instrumented client sends, third parties included: propagate
only ids you may share. Services open to untrusted clients should use
``SessionSpanProcessor(read_baggage=False)``, or the clients choose the ids on their spans.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import itertools
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Final, NamedTuple, ParamSpec, TypeVar

from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.util.types import AttributeValue

from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import wikitrace as w

_logger = logging.getLogger(__name__)
_P = ParamSpec("_P")
_R = TypeVar("_R")

PropertyValue = str | int | float | bool
MAX_VALUE_LENGTH: Final = 256
"""Longest attribute or baggage value (longer ones are cut) and property key."""
MAX_ITEMS: Final = 64
"""Most tags, and most properties, of one session."""
_EMPTY: Mapping[str, PropertyValue] = MappingProxyType({})


@dataclass(frozen=True)
class Session:
    """The active session; immutable, so every context that saw it sees the same values.

    Attributes:
        id: session id (``session.id``).
        user: user id (``user.id``), or None.
        tags: tags in the order first given (``wikitrace.tags``).
        properties: custom properties as given (``wikitrace.property.<key>``).
        conversation_id: application conversation id (``gen_ai.conversation.id``), or None.
        segment: resets of this session seen by this context (``wikitrace.session.segment``).
        propagate: whether ``session.id`` / ``user.id`` go into baggage.
        attributes: the span attributes this session stamps, computed once.
    """

    id: str
    user: str | None = None
    tags: tuple[str, ...] = ()
    properties: Mapping[str, PropertyValue] = field(default_factory=lambda: _EMPTY, hash=False)
    conversation_id: str | None = None
    segment: int = 0
    propagate: bool = False
    attributes: Mapping[str, AttributeValue] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Once per state, so the span processor only reads it.
        object.__setattr__(self, "attributes", MappingProxyType(_span_attributes(self)))


@dataclass(eq=False)
class SessionToken:
    """What :func:`set_session` returns, for :func:`clear_session`; ``token.session`` is the session it opened."""

    session: Session
    _var_token: contextvars.Token[Session | None] | None = field(repr=False)
    _baggage_token: object = field(repr=False)


_active: contextvars.ContextVar[Session | None] = contextvars.ContextVar("wikitrace_session", default=None)


def current_session() -> Session | None:
    """The innermost :class:`Session` active in this context (after any reset), or None."""
    return _active.get()


class session:  # noqa: N801 - used like a function: ``with session(...)``
    """Open a session: ``with``, ``async with``, or decorating a sync or async function (one session per call).

    Args:
        id: session id, a non-empty str; None inherits the enclosing (or propagated) session's,
            and the outermost session makes a new ``uuid4().hex``.
        user: user id, a non-empty str; None inherits.
        tags: non-empty strs (at most 64) added to the enclosing session's.
        properties: up to 64 non-empty str keys (at most 256 characters) to str, int, float or
            bool values, merged over the enclosing session's (inner wins).
        conversation_id: application conversation id (``gen_ai.conversation.id``); None inherits.
        propagate: also carry ``session.id`` / ``user.id`` in W3C baggage (nested sessions inherit it).

    Raises:
        ValueError: a bad argument (checked here, before entering).
    """

    __slots__ = ("_args", "_token")

    def __init__(
        self,
        id: str | None = None,
        user: str | None = None,
        tags: Iterable[str] = (),
        properties: Mapping[str, PropertyValue] | None = None,
        conversation_id: str | None = None,
        *,
        propagate: bool = False,
    ) -> None:
        if not isinstance(propagate, bool):
            raise ValueError(f"propagate must be a bool, got {_describe(propagate)}")
        text = _optional_text
        self._args = _Arguments(
            text("id", id), text("user", user), _tags(tags), _properties(properties),
            text("conversation_id", conversation_id), propagate,
        )  # fmt: skip
        self._token: SessionToken | None = None

    def __enter__(self) -> Session:
        if self._token is not None:
            raise RuntimeError("this session() is already active; call session(...) again for another block")
        self._token = _enter(self._args)
        return self._token.session

    def __exit__(self, *exc_info: object) -> None:
        token, self._token = self._token, None
        if token is not None:
            _leave(token)

    async def __aenter__(self) -> Session:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__()

    def __call__(self, fn: Callable[_P, _R]) -> Callable[_P, _R]:
        if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            # Its session would be seen by the consumer between yields (see "Threads").
            raise TypeError("session() cannot decorate a generator function: open it around the consumer instead")
        args = self._args

        async def run_async(*a: Any, **kw: Any) -> Any:
            token = _enter(args)
            try:
                return await fn(*a, **kw)  # type: ignore[misc]
            finally:
                _leave(token)

        def run(*a: _P.args, **kw: _P.kwargs) -> _R:
            token = _enter(args)
            try:
                return fn(*a, **kw)
            finally:
                _leave(token)

        return functools.wraps(fn)(run_async if inspect.iscoroutinefunction(fn) else run)  # type: ignore[return-value]


def set_session(
    id: str | None = None,
    user: str | None = None,
    tags: Iterable[str] = (),
    properties: Mapping[str, PropertyValue] | None = None,
    conversation_id: str | None = None,
    *,
    propagate: bool = False,
) -> SessionToken:
    """Open a session without a ``with`` block, merged like a nested one; arguments as for :class:`session`.

    Returns:
        The token for :func:`clear_session`.
    """
    return _enter(session(id, user, tags, properties, conversation_id, propagate=propagate)._args)


def clear_session(token: SessionToken | None = None) -> None:
    """End a session opened by :func:`set_session`.

    Args:
        token: restore what was active before that :func:`set_session` (again with the same
            token: nothing). None: end every session in this context and drop the session baggage.
    """
    if token is not None:
        _leave(token)
        return
    _active.set(None)
    entries = baggage.get_all()
    if w.SESSION_ID in entries or w.USER_ID in entries:
        # Never detached, like the ContextVar change above: it lasts as long as this context.
        otel_context.attach(baggage.remove_baggage(w.USER_ID, baggage.remove_baggage(w.SESSION_ID)))


def session_reset() -> Session | None:
    """Start a new segment of the current session, in this execution context only (see "Segments").

    Returns:
        The session now active, or None (nothing done) outside a session.
    """
    current = _active.get()
    if current is None:
        return None
    bumped = replace(current, segment=current.segment + 1)
    _active.set(bumped)
    return bumped


def in_current_context(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Wrap ``fn`` to run in the context (session included) captured now: ``pool.map(in_current_context(fn), xs)``.

    Each call runs in its own copy of that context: concurrent calls are safe, and a session
    change inside one call reaches neither the caller nor the other calls.

    Returns:
        A callable with the signature of ``fn``.
    """
    snapshot = contextvars.copy_context()

    @functools.wraps(fn)
    def run_in_snapshot(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        return snapshot.copy().run(fn, *args, **kwargs)

    return run_in_snapshot


def context_submit(executor: Executor, fn: Callable[..., _R], /, *args: Any, **kwargs: Any) -> Future[_R]:
    """``executor.submit(fn, *args, **kwargs)``, with ``fn`` run in a copy of the caller's context.

    A plain ``submit`` runs ``fn`` in the worker thread's own context: no session, no current span.

    Returns:
        The executor's future.
    """
    return executor.submit(contextvars.copy_context().run, fn, *args, **kwargs)


# --- internals -------------------------------------------------------------------------


class _Arguments(NamedTuple):
    id: str | None
    user: str | None
    tags: tuple[str, ...]
    properties: Mapping[str, PropertyValue]
    conversation_id: str | None
    propagate: bool


def _enter(args: _Arguments) -> SessionToken:
    state = _merged(_active.get(), args)
    var_token = _active.set(state)
    baggage_token = otel_context.attach(_with_baggage(state)) if state.propagate else None
    return SessionToken(state, var_token, baggage_token)


def _leave(token: SessionToken) -> None:
    var_token, token._var_token = token._var_token, None
    if var_token is None:
        return
    inner = _active.get()
    try:
        _active.reset(var_token)
    except ValueError:
        # Left in another context than it was entered in (an async generator closed by the event
        # loop, a hook run in another task): restore here; the baggage token would fail too.
        _logger.debug("wikitrace-otel: session left in another context than it was entered in")
        _active.set(None if var_token.old_value is contextvars.Token.MISSING else var_token.old_value)
        return
    if token._baggage_token is not None:
        otel_context.detach(token._baggage_token)
    outer = _active.get()
    if inner is not None and outer is not None and inner.id == outer.id and inner.segment > outer.segment:
        # A reset inside a nested block of the same session outlives the block.
        _active.set(replace(outer, segment=inner.segment))


def _merged(outer: Session | None, args: _Arguments) -> Session:
    if outer is None:  # the outermost session continues a propagated one, if any
        upstream_id, upstream_user = _baggage_ids()
        outer = Session(id=upstream_id or "", user=upstream_user)
    session_id = args.id or outer.id or uuid.uuid4().hex
    properties = {**outer.properties, **args.properties}
    return Session(
        id=session_id,
        user=args.user or outer.user,
        tags=tuple(dict.fromkeys((*outer.tags, *args.tags)))[:MAX_ITEMS],
        properties=MappingProxyType(dict(itertools.islice(properties.items(), MAX_ITEMS))),
        conversation_id=args.conversation_id or outer.conversation_id,
        segment=outer.segment if session_id == outer.id else 0,
        propagate=args.propagate or outer.propagate,
    )


def _span_attributes(state: Session) -> dict[str, AttributeValue]:
    attributes: dict[str, AttributeValue] = {w.SESSION_ID: _cap(state.id)}
    if state.user is not None:
        attributes[w.USER_ID] = _cap(state.user)
    if state.conversation_id is not None:
        attributes[g.GEN_AI_CONVERSATION_ID] = _cap(state.conversation_id)
    attributes[w.WIKITRACE_SESSION_SEGMENT] = state.segment
    if state.tags:
        attributes[w.WIKITRACE_TAGS] = tuple(_cap(tag) for tag in state.tags)
    for key, value in state.properties.items():
        attributes[w.WIKITRACE_PROPERTY_PREFIX + key] = _cap(_text(value))
    return attributes


def _with_baggage(state: Session) -> otel_context.Context:
    ctx = baggage.set_baggage(w.SESSION_ID, _cap(state.id))
    return baggage.set_baggage(w.USER_ID, _cap(state.user), ctx) if state.user is not None else ctx


def _baggage_ids(ctx: otel_context.Context | None = None) -> tuple[str | None, str | None]:
    """``(session.id, user.id)`` from the baggage of ``ctx`` (None: the current context), capped; None when absent."""
    entries = baggage.get_all(ctx)
    if not entries:
        return None, None
    # Baggage comes from other services: anything but a non-blank string is ignored.
    found = [entries.get(w.SESSION_ID), entries.get(w.USER_ID)]
    session_id, user_id = (_cap(v) if isinstance(v, str) and v.strip() else None for v in found)
    return session_id, user_id


def _cap(value: str) -> str:
    return value[:MAX_VALUE_LENGTH]


def _text(value: PropertyValue) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


# --- validation ------------------------------------------------------------------------


def _optional_text(name: str, value: object) -> str | None:
    if value is None or (isinstance(value, str) and value.strip()):
        return value
    raise ValueError(f"{name} must be a non-empty str, got {_describe(value)}")


def _tags(tags: object) -> tuple[str, ...]:
    if isinstance(tags, (str, bytes, Mapping)) or not isinstance(tags, Iterable):
        raise ValueError(f"tags must be a sequence of str, got {_describe(tags)}")
    unique = tuple(dict.fromkeys(_optional_text("each tag", tag) or "" for tag in tags))
    if "" in unique or len(unique) > MAX_ITEMS:
        raise ValueError(f"tags must be at most {MAX_ITEMS} non-empty str")
    return unique


def _properties(properties: object) -> Mapping[str, PropertyValue]:
    if properties is not None and (not isinstance(properties, Mapping) or len(properties) > MAX_ITEMS):
        raise ValueError(f"properties must be a mapping of at most {MAX_ITEMS} items, got {_describe(properties)}")
    for key, value in (properties or _EMPTY).items():
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_VALUE_LENGTH:
            raise ValueError(f"property keys must be non-empty str of at most {MAX_VALUE_LENGTH} characters")
        if not isinstance(value, (str, int, float)):  # bool is an int
            raise ValueError(f"property {key!r} must be str, int, float or bool, got {_describe(value)}")
    return dict(properties or _EMPTY)


def _describe(value: object) -> str:
    # Type names only for non-strings: a bad value may be large or sensitive.
    return repr(value) if isinstance(value, str) and len(value) <= 40 else type(value).__name__
