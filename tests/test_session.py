"""``wikitrace_otel.sessions``: nesting, segments, set/clear, isolation across tasks and threads,
generators, the decorator form and argument validation, checked on real SDK spans."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from otel_helpers import attributes
from wikitrace_otel.processors import SessionSpanProcessor
from wikitrace_otel.sessions import (
    Session,
    clear_session,
    context_submit,
    current_session,
    in_current_context,
    session,
    session_reset,
    set_session,
)


@pytest.fixture
def tracer(span_exporter: InMemorySpanExporter) -> Tracer:
    provider = TracerProvider()
    provider.add_span_processor(SessionSpanProcessor())
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    return provider.get_tracer("test")


def spans(exporter: InMemorySpanExporter) -> dict[str, dict[str, Any]]:
    """Finished spans, name -> attributes (names are unique within a test)."""
    found = {span.name: attributes(span) for span in exporter.get_finished_spans()}
    assert len(found) == len(exporter.get_finished_spans())
    return found


def emit(tracer: Tracer, name: str) -> None:
    with tracer.start_as_current_span(name):
        pass


# --- one session ----------------------------------------------------------------------


def test_no_session_no_attributes(tracer, span_exporter) -> None:
    emit(tracer, "outside")

    assert current_session() is None
    assert spans(span_exporter) == {"outside": {}}


def test_session_stamps_every_attribute(tracer, span_exporter) -> None:
    properties = {"plan": "pro", "seats": 3, "ratio": 0.5, "trial": False}
    with session(id="s-1", user="u-1", tags=["beta", "eu"], properties=properties, conversation_id="c-1") as active:
        emit(tracer, "inside")

    assert active == Session(
        id="s-1", user="u-1", tags=("beta", "eu"), properties=properties, conversation_id="c-1", segment=0
    )
    assert spans(span_exporter)["inside"] == {
        "session.id": "s-1",
        "user.id": "u-1",
        "gen_ai.conversation.id": "c-1",
        "wikitrace.session.segment": 0,
        "wikitrace.tags": ["beta", "eu"],
        "wikitrace.property.plan": "pro",
        "wikitrace.property.seats": "3",
        "wikitrace.property.ratio": "0.5",
        "wikitrace.property.trial": "false",
    }
    assert current_session() is None


def test_optional_attributes_only_when_given(tracer, span_exporter) -> None:
    with session(id="s-1"):
        emit(tracer, "bare")

    assert spans(span_exporter)["bare"] == {"session.id": "s-1", "wikitrace.session.segment": 0}


def test_outermost_session_makes_a_fresh_id(tracer, span_exporter) -> None:
    with session() as first:
        emit(tracer, "first")
    with session() as second:
        emit(tracer, "second")

    assert re.fullmatch(r"[0-9a-f]{32}", first.id)
    assert first.id != second.id
    assert spans(span_exporter)["first"]["session.id"] == first.id


async def test_async_with(tracer, span_exporter) -> None:
    async with session(id="s-async", user="u") as active:
        await asyncio.sleep(0)
        emit(tracer, "inside")

    assert active.id == "s-async"
    assert spans(span_exporter)["inside"]["user.id"] == "u"
    assert current_session() is None


def test_session_object_is_reusable_but_not_reentrant() -> None:
    block = session(id="s")
    with block, pytest.raises(RuntimeError, match="already active"):
        block.__enter__()
    with block as again:
        assert again.id == "s"
    assert current_session() is None


# --- nesting --------------------------------------------------------------------------


def test_nested_sessions_merge_and_inner_wins(tracer, span_exporter) -> None:
    with session(id="s", user="u", tags=["a", "b"], properties={"k": "outer", "o": 1}):
        with session(user="v", tags=["b", "c"], properties={"k": "inner"}, conversation_id="c"):
            emit(tracer, "inner")
        emit(tracer, "outer")

    found = spans(span_exporter)
    assert found["inner"] == {
        "session.id": "s",
        "user.id": "v",
        "gen_ai.conversation.id": "c",
        "wikitrace.session.segment": 0,
        "wikitrace.tags": ["a", "b", "c"],
        "wikitrace.property.k": "inner",
        "wikitrace.property.o": "1",
    }
    assert found["outer"] == {
        "session.id": "s",
        "user.id": "u",
        "wikitrace.session.segment": 0,
        "wikitrace.tags": ["a", "b"],
        "wikitrace.property.k": "outer",
        "wikitrace.property.o": "1",
    }


def test_nested_session_with_its_own_id(tracer, span_exporter) -> None:
    with session(id="outer", user="u"):
        session_reset()
        with session(id="inner") as inner:
            emit(tracer, "inner")

    assert (inner.id, inner.user, inner.segment) == ("inner", "u", 0)
    assert spans(span_exporter)["inner"]["session.id"] == "inner"


def test_nested_session_without_id_inherits_not_generates() -> None:
    with session() as outer, session(tags=["x"]) as inner:
        assert inner.id == outer.id


# --- segments -------------------------------------------------------------------------


def test_session_reset_bumps_the_segment(tracer, span_exporter) -> None:
    with session(id="s"):
        emit(tracer, "zero")
        assert session_reset().segment == 1
        emit(tracer, "one")
        session_reset()
        emit(tracer, "two")

    found = spans(span_exporter)
    assert [found[name]["wikitrace.session.segment"] for name in ("zero", "one", "two")] == [0, 1, 2]
    assert {found[name]["session.id"] for name in found} == {"s"}


def test_session_reset_outside_a_session_does_nothing(tracer, span_exporter) -> None:
    assert session_reset() is None
    emit(tracer, "outside")

    assert current_session() is None
    assert spans(span_exporter) == {"outside": {}}


def test_reset_in_a_nested_block_of_the_same_session_outlives_it() -> None:
    with session(id="s"):
        with session(tags=["step"]):
            session_reset()
        assert current_session().segment == 1
        with session(id="other"):
            session_reset()
        assert current_session().segment == 1


async def test_reset_in_a_child_task_stays_in_the_child() -> None:
    async def child() -> int:
        session_reset()
        await asyncio.sleep(0)
        return current_session().segment

    async def sibling() -> int:
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return current_session().segment

    with session(id="s"):
        assert await asyncio.gather(child(), sibling()) == [1, 0]
        assert current_session().segment == 0


# --- set_session / clear_session ------------------------------------------------------


def test_set_and_clear_with_a_token(tracer, span_exporter) -> None:
    with session(id="s", tags=["outer"]):
        token = set_session(user="u", tags=["mw"])
        assert token.session == current_session()
        emit(tracer, "set")
        clear_session(token)
        emit(tracer, "cleared")
        clear_session(token)  # a second clear with the same token does nothing
        assert current_session().tags == ("outer",)

    found = spans(span_exporter)
    assert (found["set"]["user.id"], found["set"]["wikitrace.tags"]) == ("u", ["outer", "mw"])
    assert "user.id" not in found["cleared"]


def test_clear_without_a_token_ends_every_session(tracer, span_exporter) -> None:
    set_session(id="a")
    set_session(tags=["b"])
    clear_session()
    emit(tracer, "after")

    assert current_session() is None
    assert spans(span_exporter) == {"after": {}}


def test_clear_with_a_token_restores_the_carried_reset() -> None:
    outer = set_session(id="s")
    inner = set_session(tags=["x"])
    session_reset()
    clear_session(inner)
    assert current_session().segment == 1
    clear_session(outer)
    assert current_session() is None


# --- asyncio --------------------------------------------------------------------------


async def test_concurrent_tasks_never_share_sessions(tracer, span_exporter) -> None:
    async def request(i: int) -> None:
        async with session(id=f"s{i}", user=f"u{i}", tags=[f"t{i}"]):
            for step in range(3):
                await asyncio.sleep(0)  # interleave with the other tasks
                emit(tracer, f"r{i}-{step}")

    await asyncio.gather(*(request(i) for i in range(50)))

    found = spans(span_exporter)
    assert len(found) == 150
    for name, attrs in found.items():
        i = name[1:].split("-")[0]
        assert (attrs["session.id"], attrs["user.id"], attrs["wikitrace.tags"]) == (f"s{i}", f"u{i}", [f"t{i}"])
    assert current_session() is None


async def test_async_generator_consumed_inside_a_session(tracer, span_exporter) -> None:
    async def chunks() -> AsyncIterator[int]:
        for i in range(2):
            emit(tracer, f"chunk{i}")
            yield i

    async with session(id="s"):
        assert [i async for i in chunks()] == [0, 1]

    assert {attrs["session.id"] for attrs in spans(span_exporter).values()} == {"s"}


async def test_async_generator_opening_its_own_session(tracer, span_exporter) -> None:
    async def chunks() -> AsyncIterator[int]:
        async with session(id="gen"):
            for i in range(3):
                emit(tracer, f"chunk{i}")
                yield i

    async with session(id="consumer"):
        stream = chunks()
        assert await stream.__anext__() == 0
        await stream.aclose()  # closed early: the generator's session ends here
        emit(tracer, "after")

    found = spans(span_exporter)
    assert found["chunk0"]["session.id"] == "gen"
    assert found["after"]["session.id"] == "consumer"
    assert current_session() is None


async def test_abandoned_async_generator_is_finalized_elsewhere(tracer, span_exporter, caplog) -> None:
    # With propagate=True its baggage would stay in this context: the documented limit.
    caplog.set_level(logging.DEBUG, logger="wikitrace_otel")

    async def chunks() -> AsyncIterator[int]:
        async with session(id="gen"):
            yield 1
            yield 2

    async with session(id="consumer"):
        stream = chunks()
        await stream.__anext__()
        assert current_session().id == "gen"  # the documented limit: seen between yields
        del stream  # the event loop closes it in a task of its own, where the session cannot be reset
        for _ in range(3):
            await asyncio.sleep(0)
    emit(tracer, "after")

    assert current_session() is None  # the consumer's block restored its own previous state
    assert spans(span_exporter) == {"after": {}}
    assert "Failed to detach context" not in caplog.text
    assert "left in another context" in caplog.text


def test_token_cleared_in_another_context() -> None:
    token = set_session(id="s")

    def elsewhere() -> Session | None:
        clear_session(token)
        return current_session()

    assert contextvars.copy_context().run(elsewhere) is None
    assert current_session().id == "s"  # the other context could not reach this one
    clear_session()


# --- threads --------------------------------------------------------------------------


def run_in_threads(submit: Any, tracer: Tracer) -> None:
    barrier = threading.Barrier(8, timeout=10)

    def work(i: int) -> None:
        barrier.wait()  # all eight run at once
        with session(tags=[f"w{i}"]) if current_session() else session(id=f"thread{i}"):
            emit(tracer, f"w{i}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [submit(pool, work, i) for i in range(8)]:
            future.result()


def test_plain_submit_does_not_carry_the_session(tracer, span_exporter) -> None:
    with session(id="s"):
        run_in_threads(lambda pool, fn, i: pool.submit(fn, i), tracer)

    found = spans(span_exporter)
    assert {name: attrs["session.id"] for name, attrs in found.items()} == {f"w{i}": f"thread{i}" for i in range(8)}


def test_context_submit_carries_the_session(tracer, span_exporter) -> None:
    with session(id="s", user="u"):
        run_in_threads(context_submit, tracer)
        assert current_session().tags == ()  # the workers' sessions stayed in the workers

    for i in range(8):
        attrs = spans(span_exporter)[f"w{i}"]
        assert (attrs["session.id"], attrs["user.id"], attrs["wikitrace.tags"]) == ("s", "u", [f"w{i}"])


def test_in_current_context_with_map(tracer, span_exporter) -> None:
    def work(i: int) -> int:
        session_reset()
        emit(tracer, f"m{i}")
        return current_session().segment

    with session(id="s"):
        wrapped = in_current_context(work)
    with ThreadPoolExecutor(max_workers=8) as pool:
        # Captured inside the block, run after it: each call gets its own copy of that context.
        assert list(pool.map(wrapped, range(8))) == [1] * 8

    assert wrapped.__name__ == "work"
    assert {attrs["session.id"] for attrs in spans(span_exporter).values()} == {"s"}


async def test_asyncio_to_thread_carries_the_session(tracer, span_exporter) -> None:
    async with session(id="s"):
        await asyncio.to_thread(emit, tracer, "threaded")

    assert spans(span_exporter)["threaded"]["session.id"] == "s"


# --- decorator ------------------------------------------------------------------------


def test_decorator_gives_each_call_its_own_session(tracer, span_exporter) -> None:
    @session(user="batch", tags=["nightly"])
    def job(name: str) -> Session:
        emit(tracer, name)
        return current_session()

    first, second = job("first"), job("second")

    assert job.__name__ == "job"
    assert (first.user, first.tags) == ("batch", ("nightly",))
    assert first.id != second.id
    assert current_session() is None
    with session(id="caller"):
        assert job("nested").id == "caller"  # merged into the caller's session at call time


async def test_decorator_on_a_coroutine_function(tracer, span_exporter) -> None:
    @session(tags=["agent"])
    async def step(i: int) -> str:
        await asyncio.sleep(0)
        emit(tracer, f"step{i}")
        return current_session().id

    ids = await asyncio.gather(*(step(i) for i in range(5)))

    assert len(set(ids)) == 5
    assert current_session() is None
    assert {attrs["wikitrace.tags"][0] for attrs in spans(span_exporter).values()} == {"agent"}


def test_decorator_refuses_generator_functions() -> None:
    def numbers():
        yield 1

    async def chunks():
        yield 1

    for fn in (numbers, chunks):
        with pytest.raises(TypeError, match="generator"):
            session()(fn)


# --- validation and limits ------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"id": ""},
        {"id": "   "},
        {"id": 42},
        {"user": ""},
        {"user": b"u"},
        {"conversation_id": ""},
        {"tags": "one-string"},
        {"tags": [1]},
        {"tags": [""]},
        {"tags": None},
        {"tags": [f"t{i}" for i in range(65)]},
        {"properties": ["k"]},
        {"properties": {1: "v"}},
        {"properties": {"": "v"}},
        {"properties": {"k" * 257: "v"}},
        {"properties": {"k": None}},
        {"properties": {"k": ["v"]}},
        {"properties": {f"k{i}": i for i in range(65)}},
        {"propagate": "yes"},
    ],
    ids=lambda kwargs: next(iter(kwargs)),
)
def test_bad_arguments_raise_value_error(kwargs) -> None:
    with pytest.raises(ValueError):
        session(**kwargs)
    with pytest.raises(ValueError):
        set_session(**kwargs)
    assert current_session() is None


def test_long_values_are_cut_and_merged_lists_capped(tracer, span_exporter) -> None:
    long = "x" * 1000
    outer = session(id=long, tags=[f"a{i}" for i in range(64)], properties={f"a{i}": long for i in range(64)})
    with outer, session(tags=["late"], properties={"late": 1}) as merged:
        emit(tracer, "inside")

    attrs = spans(span_exporter)["inside"]
    assert merged.id == long  # the session keeps what it was given; only attributes are cut
    assert attrs["session.id"] == "x" * 256
    assert attrs["wikitrace.property.a0"] == "x" * 256
    assert (len(merged.tags), "late" in merged.tags) == (64, False)
    assert (len(merged.properties), "late" in merged.properties) == (64, False)
    assert len(attrs) == 64 + 3  # session.id, segment, tags, 64 properties
