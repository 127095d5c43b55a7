"""The wrappers: one per kind of function, each a true function of that kind.

The async wrapper is an ``async def``, the generator wrappers are generator functions, so
``inspect.iscoroutinefunction`` / ``isgeneratorfunction`` / ``isasyncgenfunction`` answer as
for the original (frameworks such as FastAPI and pytest decide on these), and
``functools.wraps`` keeps the name, docstring and signature (through ``__wrapped__``).

Generators: the span starts at the first ``next()`` and covers the whole iteration. It is
current only while the generator's own code runs (each step), never while the consumer's code
runs between steps. It ends exactly once: exhausted, ``close()``/``aclose()`` (not an error),
an exception (raised inside, or thrown in with ``throw()``), or the generator collected unfinished (Python closes it).
``send()``/``asend()`` and ``throw()``/``athrow()`` reach the original generator as with
``yield from``. One difference from the bare generator function: arguments that do not fit
the signature raise at the first ``next()``, not at the call.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator
from typing import Any, TypeVar

from wikitrace_otel._decorators.arguments import Binder
from wikitrace_otel._decorators.call import NO_RESULT, Call, begin
from wikitrace_otel._decorators.spec import SpanSpec
from wikitrace_otel._decorators.tracer import source as _source

F = TypeVar("F", bound=Callable[..., Any])
SpecFactory = Callable[[Callable[..., Any]], SpanSpec]


def decorate(target: F, make_spec: SpecFactory) -> F:
    """Wrap a function, method, ``classmethod`` or ``staticmethod`` so each call is a span."""
    if isinstance(target, (classmethod, staticmethod)):
        inner = wrap(target.__func__, make_spec, skip_first=isinstance(target, classmethod))
        return type(target)(inner)  # type: ignore[return-value]
    if isinstance(target, type) or not callable(target):
        raise TypeError(f"cannot trace {target!r}: expected a function or method")
    return wrap(target, make_spec)


def wrap(fn: F, make_spec: SpecFactory, skip_first: bool = False) -> F:
    """The wrapper matching ``fn``'s kind (async generator, coroutine, generator, plain)."""
    spec, binder = make_spec(fn), Binder(fn, skip_first)
    if inspect.isasyncgenfunction(fn):
        wrapper = _async_generator(fn, spec, binder)
    elif inspect.iscoroutinefunction(fn):
        wrapper = _coroutine(fn, spec, binder)
    elif inspect.isgeneratorfunction(fn):
        wrapper = _generator(fn, spec, binder)
    else:
        wrapper = _function(fn, spec, binder)
    return functools.wraps(fn)(wrapper)  # type: ignore[return-value]


def _function(fn: Callable[..., Any], spec: SpanSpec, binder: Binder) -> Callable[..., Any]:
    def traced(*args: Any, **kwargs: Any) -> Any:
        # One attribute read when no provider is installed: the whole cost of an untraced call.
        if _source._TRACER_PROVIDER is None:  # type: ignore[attr-defined]
            return fn(*args, **kwargs)
        call = begin(spec, binder, args, kwargs)
        if call is None:
            return fn(*args, **kwargs)
        token = call.attach()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            call.end(exc)
            raise
        finally:
            call.detach(token)
        call.end(result=result)
        return result

    return traced


def _coroutine(fn: Callable[..., Any], spec: SpanSpec, binder: Binder) -> Callable[..., Any]:
    async def traced(*args: Any, **kwargs: Any) -> Any:
        if _source._TRACER_PROVIDER is None:  # type: ignore[attr-defined]
            return await fn(*args, **kwargs)
        call = begin(spec, binder, args, kwargs)
        if call is None:
            return await fn(*args, **kwargs)
        token = call.attach()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            call.end(exc)
            raise
        finally:
            call.detach(token)
        call.end(result=result)
        return result

    return traced


def _generator(fn: Callable[..., Any], spec: SpanSpec, binder: Binder) -> Callable[..., Any]:
    def traced(*args: Any, **kwargs: Any) -> Any:
        call = None if _source._TRACER_PROVIDER is None else begin(spec, binder, args, kwargs)  # type: ignore[attr-defined]
        if call is None:
            return (yield from fn(*args, **kwargs))
        call.collect_items()
        return (yield from _steps(fn, args, kwargs, call))

    return traced


def _steps(fn: Callable[..., Any], args: Any, kwargs: Any, call: Call) -> Generator[Any, Any, Any]:
    # ``yield from`` by hand, so the span is current during each step and only then.
    gen = _inside(call, fn, args, kwargs)
    sent: Any = None
    thrown: BaseException | None = None
    while True:
        token = call.attach()
        try:
            item = gen.send(sent) if thrown is None else gen.throw(thrown)
        except StopIteration as stop:
            call.end(result=NO_RESULT)
            return stop.value
        except BaseException as exc:
            call.end(exc)
            raise
        finally:
            call.detach(token)
        if call.items is not None:
            call.on_item(item)
        try:
            sent, thrown = (yield item), None
        except GeneratorExit:
            _close(gen, call)
            raise
        except BaseException as exc:  # noqa: BLE001 - thrown in by the consumer: passed on, as yield from does
            sent, thrown = None, exc


def _inside(call: Call, fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    # Creating the generator runs no user code, but a bad argument raises here: end the span.
    try:
        return fn(*args, **kwargs)
    except BaseException as exc:
        call.end(exc)
        raise


def _close(gen: Generator[Any, Any, Any], call: Call) -> None:
    token = call.attach()
    try:
        gen.close()
    except BaseException as exc:
        call.end(exc)
        raise
    finally:
        call.detach(token)
    call.end()


def _async_generator(fn: Callable[..., Any], spec: SpanSpec, binder: Binder) -> Callable[..., Any]:
    async def traced(*args: Any, **kwargs: Any) -> Any:
        call = None if _source._TRACER_PROVIDER is None else begin(spec, binder, args, kwargs)  # type: ignore[attr-defined]
        agen = fn(*args, **kwargs) if call is None else _inside(call, fn, args, kwargs)
        if call is not None:
            call.collect_items()
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            item = await _step(agen, call, sent, thrown)
            if item is _DONE:
                return
            try:
                sent, thrown = (yield item), None
            except GeneratorExit:
                await _aclose(agen, call)
                raise
            except BaseException as exc:  # noqa: BLE001 - thrown in by the consumer: passed on
                sent, thrown = None, exc

    return traced


_DONE = object()


async def _step(agen: AsyncGenerator[Any, Any], call: Call | None, sent: Any, thrown: BaseException | None) -> Any:
    """One step of an async generator: the next item, or ``_DONE`` once it is exhausted."""
    if call is None:
        try:
            return await (agen.asend(sent) if thrown is None else agen.athrow(thrown))
        except StopAsyncIteration:
            return _DONE
    token = call.attach()
    try:
        item = await (agen.asend(sent) if thrown is None else agen.athrow(thrown))
    except StopAsyncIteration:
        call.end()
        return _DONE
    except BaseException as exc:
        call.end(exc)
        raise
    finally:
        call.detach(token)
    if call.items is not None:
        call.on_item(item)
    return item


async def _aclose(agen: AsyncGenerator[Any, Any], call: Call | None) -> None:
    if call is None:
        await agen.aclose()
        return
    token = call.attach()
    try:
        await agen.aclose()
    except BaseException as exc:
        call.end(exc)
        raise
    finally:
        call.detach(token)
    call.end()
