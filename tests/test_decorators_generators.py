"""Decorated generators and async generators: one span over the whole iteration, ended once.

Ends: exhaustion, ``close()``/``aclose()``, an exception (raised inside or thrown in), garbage
collection of an unfinished generator. ``send``/``throw`` and return values pass through as
with ``yield from``, traced or not.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from contextlib import aclosing
from typing import Any

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import INVALID_SPAN

import decorator_support as support
import wikitrace_otel.decorators as wt
from decorator_support import as_dict, parent_name


@pytest.fixture(autouse=True)
def fresh_state(clean_environment: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from support.fresh_state(monkeypatch)


@pytest.fixture
def spans(fresh_state: None, tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter) -> Any:
    """The exporter behind the test provider, installed as the global one."""
    return support.install_globally(tracer_provider, span_exporter)


@pytest.fixture(params=["traced", "untraced"])
def maybe_spans(request: pytest.FixtureRequest) -> InMemorySpanExporter | None:
    """Runs a test with the provider installed and without: behaviour must not differ."""
    return request.getfixturevalue("spans") if request.param == "traced" else None


def finished(spans: InMemorySpanExporter) -> list[str]:
    return [s.name for s in spans.get_finished_spans()]


# --- sync generators --------------------------------------------------------------------


def test_span_covers_the_whole_iteration(spans: InMemorySpanExporter) -> None:
    @wt.trace(name="gen")
    def gen() -> Iterator[int]:
        yield 1
        yield 2

    iterator = gen()
    assert finished(spans) == []  # created, not started: no span yet
    assert next(iterator) == 1
    assert next(iterator) == 2
    assert finished(spans) == []  # not exhausted yet
    with pytest.raises(StopIteration):
        next(iterator)
    assert finished(spans) == ["gen"]
    with pytest.raises(StopIteration):
        next(iterator)
    assert finished(spans) == ["gen"]


def test_span_is_current_only_during_the_generators_own_steps(spans: InMemorySpanExporter) -> None:
    @wt.trace(name="gen")
    def gen() -> Iterator[int]:
        for i in range(2):
            with wt.span(f"inside {i}"):
                pass
            yield i

    with wt.span("consumer"):
        for i in gen():
            assert trace_api.get_current_span().name == "consumer"  # type: ignore[attr-defined]
            with wt.span(f"between {i}"):
                pass

    parents = {s.name: parent_name(s, spans) for s in spans.get_finished_spans()}
    assert parents == {
        "inside 0": "gen",
        "inside 1": "gen",
        "between 0": "consumer",
        "between 1": "consumer",
        "gen": "consumer",
        "consumer": None,
    }


def test_close_ends_the_span_without_error(spans: InMemorySpanExporter) -> None:
    @wt.tool(name="stream")
    def stream() -> Iterator[int]:
        try:
            yield 1
            yield 2
        finally:
            with wt.span("cleanup"):  # runs with the generator's span current
                pass

    iterator = stream()
    assert next(iterator) == 1
    iterator.close()
    iterator.close()

    cleanup, tool_span = spans.get_finished_spans()
    assert as_dict(tool_span)["status"] == "UNSET"
    assert tool_span.events == ()
    assert parent_name(cleanup, spans) == "execute_tool stream"


def test_break_then_garbage_collection_ends_the_span(spans: InMemorySpanExporter) -> None:
    @wt.agent(name="Looper")
    def looper() -> Iterator[int]:
        yield from range(10)

    for item in looper():
        if item == 3:
            break
    gc.collect()

    assert finished(spans) == ["invoke_agent Looper"]


def test_collected_in_a_reference_cycle(spans: InMemorySpanExporter) -> None:
    @wt.trace(name="cyclic")
    def cyclic() -> Iterator[int]:
        yield 1
        yield 2

    holder: dict[str, Any] = {}
    holder["self"] = holder
    holder["gen"] = cyclic()
    next(holder["gen"])
    del holder
    assert finished(spans) == []
    gc.collect()

    assert finished(spans) == ["cyclic"]


def test_unstarted_generator_makes_no_span(spans: InMemorySpanExporter) -> None:
    @wt.trace(name="never")
    def never() -> Iterator[int]:
        yield 1

    never()
    gc.collect()

    assert finished(spans) == []


def test_send_throw_and_return_value(maybe_spans: InMemorySpanExporter | None) -> None:
    @wt.trace(name="echo")
    def echo() -> Any:
        received = []
        value = yield "ready"
        while value != "stop":
            received.append(value)
            try:
                value = yield f"got {value}"
            except KeyError as exc:
                value = yield f"handled {exc.args[0]}"
        return received

    def consumer() -> Any:
        return (yield from echo())

    iterator = consumer()
    assert next(iterator) == "ready"
    assert iterator.send("a") == "got a"
    assert iterator.throw(KeyError("k")) == "handled k"
    assert iterator.send("b") == "got b"
    with pytest.raises(StopIteration) as stopped:
        iterator.send("stop")
    assert stopped.value.value == ["a", "b"]
    if maybe_spans is not None:
        (span,) = maybe_spans.get_finished_spans()
        assert as_dict(span)["status"] == "UNSET"


def test_exception_thrown_in_and_not_handled(maybe_spans: InMemorySpanExporter | None) -> None:
    @wt.trace(name="gen")
    def gen() -> Iterator[int]:
        yield 1

    iterator = gen()
    next(iterator)
    error = ValueError("from the consumer")
    with pytest.raises(ValueError) as raised:
        iterator.throw(error)

    assert raised.value is error
    if maybe_spans is not None:
        (span,) = maybe_spans.get_finished_spans()
        assert as_dict(span)["attributes"] == {"error.type": "ValueError"}
        assert span.status.description == "ValueError: from the consumer"


def test_generator_that_ignores_close(spans: InMemorySpanExporter) -> None:
    @wt.trace(name="stubborn")
    def stubborn() -> Iterator[int]:
        try:
            yield 1
        except GeneratorExit:
            yield 2  # ignores close() once (and lets the collector close it later)

    iterator = stubborn()
    next(iterator)
    with pytest.raises(RuntimeError, match="ignored GeneratorExit"):
        iterator.close()

    (span,) = spans.get_finished_spans()
    assert as_dict(span)["attributes"] == {"error.type": "RuntimeError"}


def test_bad_arguments_raise_at_first_next(maybe_spans: InMemorySpanExporter | None) -> None:
    @wt.trace(name="gen")
    def gen(x: int) -> Iterator[int]:
        yield x

    iterator = gen(1, 2)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        next(iterator)
    if maybe_spans is not None:
        assert as_dict(maybe_spans.get_finished_spans()[0])["attributes"] == {"error.type": "TypeError"}


# --- async generators ---------------------------------------------------------------------


async def test_async_generator_covers_the_whole_iteration(spans: InMemorySpanExporter) -> None:
    @wt.retrieval(data_source="docs")
    async def search() -> Any:
        for i in range(2):
            with wt.span(f"inside {i}"):
                pass
            await asyncio.sleep(0)
            yield i

    with wt.span("consumer"):
        agen = search()
        assert await agen.__anext__() == 0
        assert trace_api.get_current_span().name == "consumer"  # type: ignore[attr-defined]
        assert finished(spans) == ["inside 0"]
        assert [i async for i in agen] == [1]

    parents = {s.name: parent_name(s, spans) for s in spans.get_finished_spans()}
    assert parents == {
        "inside 0": "retrieval docs",
        "inside 1": "retrieval docs",
        "retrieval docs": "consumer",
        "consumer": None,
    }


async def test_async_generator_aclose(spans: InMemorySpanExporter) -> None:
    closed = []

    @wt.trace(name="agen")
    async def agen() -> Any:
        try:
            yield 1
            yield 2
        finally:
            await asyncio.sleep(0)
            closed.append(trace_api.get_current_span().name)  # type: ignore[attr-defined]

    async with aclosing(agen()) as iterator:
        async for _ in iterator:
            break

    assert closed == ["agen"]
    (span,) = spans.get_finished_spans()
    assert as_dict(span)["status"] == "UNSET"


async def test_async_generator_collected_unfinished(spans: InMemorySpanExporter) -> None:
    @wt.trace(name="dropped")
    async def dropped() -> Any:
        yield 1
        yield 2

    iterator = dropped()
    assert await iterator.__anext__() == 1
    del iterator
    gc.collect()
    for _ in range(5):  # the event loop's finalizer schedules aclose() as a task
        await asyncio.sleep(0)

    assert finished(spans) == ["dropped"]


async def test_async_generator_asend_athrow(maybe_spans: InMemorySpanExporter | None) -> None:
    @wt.tool(name="echo")
    async def echo() -> Any:
        value = yield "ready"
        while True:
            try:
                value = yield f"got {value}"
            except KeyError:
                value = yield "handled"

    iterator = echo()
    assert await iterator.asend(None) == "ready"
    assert await iterator.asend("a") == "got a"
    assert await iterator.athrow(KeyError("k")) == "handled"
    assert await iterator.asend("b") == "got b"
    error = ValueError("stop")
    with pytest.raises(ValueError) as raised:
        await iterator.athrow(error)
    assert raised.value is error
    with pytest.raises(StopAsyncIteration):
        await iterator.__anext__()
    if maybe_spans is not None:
        (span,) = maybe_spans.get_finished_spans()
        assert as_dict(span)["attributes"]["error.type"] == "ValueError"


async def test_async_generator_aclose_untraced_reaches_the_original(monkeypatch: pytest.MonkeyPatch) -> None:
    cleaned = []

    @wt.trace(name="untraced")
    async def untraced() -> Any:
        try:
            yield 1
        finally:
            cleaned.append(trace_api.get_current_span())

    iterator = untraced()
    await iterator.__anext__()
    await iterator.aclose()

    assert cleaned == [INVALID_SPAN]
