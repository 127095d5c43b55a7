"""Decorators and ``span()``: names, kinds, attributes, nesting, errors, tool call ids, methods, metadata.

Every decorator is run over the four kinds of function (plain, async, generator, async
generator) against a real SDK provider installed as the global one.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import INVALID_SPAN, SpanKind

import decorator_support as support
import wikitrace_otel.decorators as wt
from decorator_support import DECORATED, EXPECTED_RESULT, KINDS, Boom, as_dict, by_name, make, parent_name, run
from wikitrace_otel.semconv import SCHEMA_URL
from wikitrace_otel.version import __version__


@pytest.fixture(autouse=True)
def fresh_state(clean_environment: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from support.fresh_state(monkeypatch)


@pytest.fixture
def spans(fresh_state: None, tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter) -> Any:
    """The exporter behind the test provider, installed as the global one."""
    return support.install_globally(tracer_provider, span_exporter)


# --- every decorator x every kind of function -------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("decorator", list(DECORATED))
async def test_span_of_each_decorator(spans: InMemorySpanExporter, decorator: str, kind: str) -> None:
    deco, name, attributes = DECORATED[decorator]

    result = await run(kind, make(kind, deco), 3)

    assert result == EXPECTED_RESULT[kind]
    (span,) = spans.get_finished_spans()
    assert as_dict(span) == {"name": name, "kind": "INTERNAL", "attributes": attributes, "status": "UNSET"}
    assert span.events == ()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("decorator", list(DECORATED))
async def test_exception_is_recorded_and_reraised(spans: InMemorySpanExporter, decorator: str, kind: str) -> None:
    deco, name, attributes = DECORATED[decorator]
    fn = make(kind, deco, fail=True)

    with pytest.raises(Boom) as raised:
        await run(kind, fn, 3)

    (span,) = spans.get_finished_spans()
    assert as_dict(span) == {
        "name": name,
        "kind": "INTERNAL",
        "attributes": {**attributes, "error.type": f"{Boom.__module__}.Boom"},
        "status": "ERROR",
    }
    assert span.status.description == "Boom: bad"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.message"] == "bad"
    assert raised.value.__traceback__ is not None


def test_scope_of_the_tracer(spans: InMemorySpanExporter) -> None:
    wt.trace(lambda: None)()

    scope = spans.get_finished_spans()[0].instrumentation_scope
    assert (scope.name, scope.version, scope.schema_url) == ("wikitrace_otel.decorators", __version__, SCHEMA_URL)


# --- names and arguments of the decorators ----------------------------------------------


def test_trace_bare_uses_the_qualified_name(spans: InMemorySpanExporter) -> None:
    @wt.trace
    def handle() -> str:
        return "ok"

    assert handle() == "ok"
    assert as_dict(spans.get_finished_spans()[0]) == {
        "name": "test_trace_bare_uses_the_qualified_name.<locals>.handle",
        "kind": "INTERNAL",
        "attributes": {},
        "status": "UNSET",
    }


def test_trace_name_kind_and_forms(spans: InMemorySpanExporter) -> None:
    wt.trace("positional")(lambda: None)()
    wt.trace(name="keyword", kind=SpanKind.SERVER)(lambda: None)()
    wt.trace()(functools.partial(lambda x: x, 1))()

    named = by_name(spans)
    assert named["positional"].kind is SpanKind.INTERNAL
    assert named["keyword"].kind is SpanKind.SERVER
    assert "partial" in named  # no __qualname__: the type's name


def test_tool_defaults_from_the_function(spans: InMemorySpanExporter) -> None:
    @wt.tool
    def get_weather(city: str) -> str:
        """Current weather
        for a city.

        Args:
            city: where.
        """
        return "sunny"

    @wt.tool(description="")
    def no_description() -> None:
        """Not used as a description."""

    @wt.tool()
    def undocumented() -> None:
        pass

    get_weather("Paris")
    no_description()
    undocumented()

    named = by_name(spans)
    assert as_dict(named["execute_tool get_weather"])["attributes"] == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.description": "Current weather for a city.",
    }
    for name in ("no_description", "undocumented"):
        assert "gen_ai.tool.description" not in named[f"execute_tool {name}"].attributes


def test_unnamed_agent_retrieval_and_workflow(spans: InMemorySpanExporter) -> None:
    wt.agent(lambda: None)()
    wt.retrieval()(lambda: None)()
    wt.workflow(lambda: None)()

    named = by_name(spans)
    assert {name: dict(span.attributes) for name, span in named.items()} == {
        "invoke_agent": {"gen_ai.operation.name": "invoke_agent"},
        "retrieval": {"gen_ai.operation.name": "retrieval"},
        "invoke_workflow": {"gen_ai.operation.name": "invoke_workflow"},
    }


@pytest.mark.parametrize(
    ("make_decorator", "error"),
    [
        (lambda: wt.trace(3), TypeError),
        (lambda: wt.trace(""), ValueError),
        (lambda: wt.trace(kind="server"), TypeError),
        (lambda: wt.tool(type=""), ValueError),
        (lambda: wt.tool(description=1), TypeError),
        (lambda: wt.agent(version=2), TypeError),
        (lambda: wt.retrieval(data_source=5), TypeError),
        (lambda: wt.workflow(b"x"), TypeError),
        (lambda: wt.trace()(int), TypeError),  # a class
        (lambda: wt.trace()(property(lambda self: 1)), TypeError),
        (lambda: wt.span(""), ValueError),
        (lambda: wt.span("x", kind=1), TypeError),
        (lambda: wt.tool_call_id(""), ValueError),
        (lambda: wt.tool_call_id(None), ValueError),
    ],
)
def test_bad_arguments_raise_at_decoration(make_decorator: Callable[[], Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        make_decorator()


# --- nesting ----------------------------------------------------------------------------


def test_tool_inside_agent_inside_trace(spans: InMemorySpanExporter) -> None:
    @wt.tool(name="add")
    def add(a: int, b: int) -> int:
        return a + b

    @wt.agent(name="Calculator")
    def calculator(n: int) -> int:
        with wt.span("plan"):
            pass
        return add(n, 1) + add(n, 2)

    @wt.trace(name="request")
    def request() -> int:
        return calculator(1)

    assert request() == 5

    finished = spans.get_finished_spans()
    assert [(s.name, parent_name(s, spans)) for s in finished] == [
        ("plan", "invoke_agent Calculator"),
        ("execute_tool add", "invoke_agent Calculator"),
        ("execute_tool add", "invoke_agent Calculator"),
        ("invoke_agent Calculator", "request"),
        ("request", None),
    ]
    assert len({s.context.trace_id for s in finished}) == 1


async def test_async_nesting_and_concurrent_siblings(spans: InMemorySpanExporter) -> None:
    @wt.tool(name="fetch")
    async def fetch(i: int) -> int:
        await asyncio.sleep(0)
        return i

    @wt.agent(name="Gatherer")
    async def gather() -> list[int]:
        return list(await asyncio.gather(fetch(1), fetch(2), fetch(3)))

    @wt.workflow(name="flow")
    async def flow() -> list[int]:
        return await gather()

    assert await flow() == [1, 2, 3]

    parents = [(s.name, parent_name(s, spans)) for s in spans.get_finished_spans()]
    assert sorted(parents) == sorted(
        [
            ("execute_tool fetch", "invoke_agent Gatherer"),
            ("execute_tool fetch", "invoke_agent Gatherer"),
            ("execute_tool fetch", "invoke_agent Gatherer"),
            ("invoke_agent Gatherer", "invoke_workflow flow"),
            ("invoke_workflow flow", None),
        ]
    )


def test_span_is_current_only_while_the_function_runs(spans: InMemorySpanExporter) -> None:
    seen = []

    @wt.trace(name="inner")
    def inner() -> None:
        seen.append(trace_api.get_current_span())

    inner()

    (span,) = spans.get_finished_spans()
    assert seen[0].get_span_context() == span.context
    assert trace_api.get_current_span() is INVALID_SPAN


# --- span() ---------------------------------------------------------------------------


def test_span_context_manager(spans: InMemorySpanExporter) -> None:
    with wt.span("block", attributes={"k": "v"}, kind=SpanKind.CLIENT) as span:
        assert trace_api.get_current_span() is span
        span.set_attribute("later", 1)

    assert as_dict(spans.get_finished_spans()[0]) == {
        "name": "block",
        "kind": "CLIENT",
        "attributes": {"k": "v", "later": 1},
        "status": "UNSET",
    }
    assert trace_api.get_current_span() is INVALID_SPAN


async def test_span_async_context_manager_records_errors(spans: InMemorySpanExporter) -> None:
    with pytest.raises(Boom):
        async with wt.span("async block") as span:
            assert trace_api.get_current_span() is span
            raise Boom("inside")

    (span,) = spans.get_finished_spans()
    assert as_dict(span) == {
        "name": "async block",
        "kind": "INTERNAL",
        "attributes": {"error.type": f"{Boom.__module__}.Boom"},
        "status": "ERROR",
    }
    assert [e.name for e in span.events] == ["exception"]


def test_span_scope_reuse(spans: InMemorySpanExporter) -> None:
    scope = wt.span("again")
    with scope, pytest.raises(RuntimeError, match="already in use"), scope:
        pass
    with scope:
        pass

    assert [s.name for s in spans.get_finished_spans()] == ["again", "again"]


def test_base_exceptions_are_not_errors(spans: InMemorySpanExporter) -> None:
    # As OpenTelemetry's use_span: only Exception subclasses set status ERROR.
    @wt.trace(name="interrupted")
    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        interrupted()

    assert as_dict(spans.get_finished_spans()[0])["status"] == "UNSET"


async def test_cancelled_coroutine_ends_its_span(spans: InMemorySpanExporter) -> None:
    started = asyncio.Event()

    @wt.tool(name="slow")
    async def slow() -> None:
        started.set()
        await asyncio.sleep(60)

    task = asyncio.ensure_future(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    (span,) = spans.get_finished_spans()
    assert (span.name, span.status.status_code.name) == ("execute_tool slow", "UNSET")


# --- tool call ids --------------------------------------------------------------------


def test_tool_call_id_from_the_context(spans: InMemorySpanExporter) -> None:
    @wt.tool(name="inner")
    def inner() -> None:
        pass

    @wt.tool(name="outer")
    def outer() -> None:
        inner()

    with wt.tool_call_id("call_1"):
        outer()  # takes the id; the nested tool span does not inherit it
        outer()  # the id was used up
    outer()

    ids = [(s.name, s.attributes.get("gen_ai.tool.call.id")) for s in spans.get_finished_spans()]
    assert ids == [
        ("execute_tool inner", None),
        ("execute_tool outer", "call_1"),
        ("execute_tool inner", None),
        ("execute_tool outer", None),
        ("execute_tool inner", None),
        ("execute_tool outer", None),
    ]


def test_tool_call_id_from_a_parameter(spans: InMemorySpanExporter) -> None:
    received = []

    @wt.tool(name="lookup")
    def lookup(query: str, tool_call_id: str | None = None) -> None:
        received.append(tool_call_id)

    lookup("a", tool_call_id="call_kw")
    lookup("b", "call_pos")
    lookup("c")
    with wt.tool_call_id("call_ctx"):
        lookup("d", tool_call_id="call_param")

    ids = [s.attributes.get("gen_ai.tool.call.id") for s in spans.get_finished_spans()]
    assert ids == ["call_kw", "call_pos", None, "call_ctx"]
    assert received == ["call_kw", "call_pos", None, "call_param"]  # passed through untouched


# --- methods and metadata ---------------------------------------------------------------


class Agent:
    """Methods decorated in every order."""

    prefix = "p"

    @wt.trace
    def method(self, x: int) -> str:
        """A method."""
        return f"{self.prefix}{x}"

    @wt.trace
    @classmethod
    def outer_classmethod(cls, x: int) -> str:
        return f"{cls.prefix}{x}"

    @classmethod
    @wt.trace
    def inner_classmethod(cls, x: int) -> str:
        return f"{cls.prefix}{x}"

    @wt.tool
    @staticmethod
    def outer_staticmethod(x: int) -> int:
        return x

    @staticmethod
    @wt.tool
    def inner_staticmethod(x: int) -> int:
        return x

    @wt.agent(name="Async")
    async def async_method(self, x: int) -> int:
        return x


async def test_methods(spans: InMemorySpanExporter) -> None:
    agent = Agent()

    assert agent.method(1) == "p1"
    assert Agent.outer_classmethod(2) == "p2"
    assert agent.inner_classmethod(3) == "p3"
    assert Agent.outer_staticmethod(4) == 4
    assert agent.inner_staticmethod(5) == 5
    assert await agent.async_method(6) == 6

    assert [s.name for s in spans.get_finished_spans()] == [
        "Agent.method",
        "Agent.outer_classmethod",
        "Agent.inner_classmethod",
        "execute_tool outer_staticmethod",
        "execute_tool inner_staticmethod",
        "invoke_agent Async",
    ]
    assert isinstance(Agent.__dict__["outer_classmethod"], classmethod)
    assert isinstance(Agent.__dict__["outer_staticmethod"], staticmethod)


def _plain(a: int, b: str = "x", *rest: int, flag: bool = False, **extra: Any) -> str:
    """Docstring kept."""
    return b


async def _coroutine(a: int) -> int:
    return a


def _generator(a: int) -> Any:
    yield a


async def _async_generator(a: int) -> Any:
    yield a


@pytest.mark.parametrize("decorator", [wt.trace, wt.tool, wt.agent, wt.retrieval, wt.workflow])
def test_metadata_is_preserved(decorator: Callable[[Any], Any]) -> None:
    for fn, check in (
        (_plain, inspect.isfunction),
        (_coroutine, inspect.iscoroutinefunction),
        (_generator, inspect.isgeneratorfunction),
        (_async_generator, inspect.isasyncgenfunction),
    ):
        wrapped = decorator(fn)
        assert check(wrapped), fn
        assert wrapped is not fn
        assert wrapped.__wrapped__ is fn
        assert (wrapped.__name__, wrapped.__qualname__, wrapped.__module__, wrapped.__doc__) == (
            fn.__name__,
            fn.__qualname__,
            fn.__module__,
            fn.__doc__,
        )
        assert inspect.signature(wrapped) == inspect.signature(fn)
    assert not inspect.iscoroutinefunction(decorator(_plain))
    assert list(inspect.signature(Agent().method).parameters) == ["x"]
