"""Arguments and return values on decorator spans: only with content capture, JSON, capped."""

from __future__ import annotations

import dataclasses
import enum
import json
import logging
from collections.abc import Iterator
from typing import Any

import pydantic
import pytest
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

import decorator_support as support
import wikitrace_otel.decorators as wt
from decorator_support import CAPTURE, capture_content
from wikitrace_otel._decorators import arguments, call, settings
from wikitrace_otel._genai.config import GenAISettings

ARGS, RESULT = "gen_ai.tool.call.arguments", "gen_ai.tool.call.result"
FN_ARGS, FN_RESULT = "wikitrace.function.arguments", "wikitrace.function.result"
TRUNCATED = "wikitrace.content.truncated"


@pytest.fixture(autouse=True)
def fresh_state(clean_environment: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from support.fresh_state(monkeypatch)


@pytest.fixture
def spans(fresh_state: None, tracer_provider: TracerProvider, span_exporter: InMemorySpanExporter) -> Any:
    """The exporter behind the test provider, installed as the global one."""
    return support.install_globally(tracer_provider, span_exporter)


def content(spans: InMemorySpanExporter) -> list[dict[str, Any]]:
    """The content attributes of each finished span, JSON parsed."""
    keys = (ARGS, RESULT, FN_ARGS, FN_RESULT)
    found = []
    for span in spans.get_finished_spans():
        attributes = span.attributes or {}
        found.append({k: json.loads(attributes[k]) for k in keys if k in attributes})
        if TRUNCATED in attributes:
            found[-1][TRUNCATED] = attributes[TRUNCATED]
    return found


@wt.tool(name="weather")
def weather(city: str, unit: str = "C", *extra: int, days: int = 1, **options: Any) -> dict[str, Any]:
    return {"city": city, "temperature": 21}


@wt.trace(name="step")
def step(question: str) -> list[str]:
    return [question, "answer"]


# --- on and off -------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "NO_CONTENT", "EVENT_ONLY", "true", "nonsense"])
def test_nothing_recorded_unless_content_goes_on_spans(
    monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter, value: str | None
) -> None:
    if value is not None:
        capture_content(monkeypatch, value)

    weather("Paris")
    step("why?")

    assert content(spans) == [{}, {}]


@pytest.mark.parametrize("value", ["SPAN_ONLY", "span_and_event"])
def test_arguments_and_results_recorded(
    monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter, value: str
) -> None:
    capture_content(monkeypatch, value)

    weather("Paris", "F", 7, 8, days=3, detail=True)
    weather(city="Oslo")
    step("why?")

    assert content(spans) == [
        {
            ARGS: {"city": "Paris", "unit": "F", "extra": [7, 8], "days": 3, "detail": True},
            RESULT: {"city": "Paris", "temperature": 21},
        },
        {ARGS: {"city": "Oslo"}, RESULT: {"city": "Oslo", "temperature": 21}},
        {FN_ARGS: {"question": "why?"}, FN_RESULT: ["why?", "answer"]},
    ]


def test_bad_setting_warns_once(
    monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    capture_content(monkeypatch, "true")
    with caplog.at_level(logging.WARNING):
        step("a")
        step("b")

    assert [r.getMessage() for r in caplog.records if CAPTURE in r.getMessage()] == [
        f"{CAPTURE}='true' is not one of NO_CONTENT, SPAN_ONLY, EVENT_ONLY, SPAN_AND_EVENT; content capture stays off"
    ]


def test_setting_is_cached_until_configure(monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter) -> None:
    step("off")
    monkeypatch.setenv(CAPTURE, "SPAN_ONLY")
    step("still off: the setting was read at the first call")
    settings.configure()
    step("on")
    settings.configure(GenAISettings.resolve(capture_content=False))
    step("off by install()")

    assert content(spans) == [{}, {}, {FN_ARGS: {"question": "on"}, FN_RESULT: ["on", "answer"]}, {}]


# --- what is recorded -----------------------------------------------------------------


class Client:
    """A class whose methods are tools."""

    @wt.tool(name="method")
    def method(self, query: str) -> str:
        return query

    @wt.tool(name="classmethod")
    @classmethod
    def class_method(cls, query: str) -> str:
        return query

    @classmethod
    @wt.tool(name="inner_classmethod")
    def inner_class_method(klass, query: str) -> str:  # noqa: N804 - an unusual receiver name on purpose
        return query


def test_receiver_is_left_out(monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter) -> None:
    capture_content(monkeypatch)

    Client().method("a")
    Client.class_method("b")
    Client.inner_class_method("c")

    assert [c[ARGS] for c in content(spans)] == [
        {"query": "a"},
        {"query": "b"},
        # Under @classmethod the decorator sees a plain function: only `self`/`cls` are known receivers.
        {"klass": str(Client), "query": "c"},
    ]


def test_tool_results_that_are_json_text_are_parsed(
    monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter
) -> None:
    capture_content(monkeypatch)

    @wt.tool(name="t")
    def t(text: str) -> str:
        return text

    t('{"temperature": 57}')
    t("rainy, 57°F")
    step('{"not": "parsed"}')

    assert [c.get(RESULT, c.get(FN_RESULT)) for c in content(spans)] == [
        {"temperature": 57},
        "rainy, 57°F",
        ['{"not": "parsed"}', "answer"],
    ]


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Model(pydantic.BaseModel):
    name: str
    tags: list[str]


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no str")


def test_values_become_json(monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter) -> None:
    capture_content(monkeypatch)
    cycle: list[Any] = []
    cycle.append(cycle)

    @wt.trace(name="values")
    def values(**kwargs: Any) -> None:
        pass

    values(
        raw=b"\x00\x01",
        numbers={3},
        pair=(1, 2.5),
        keys={(1, 2): "tuple key", 3: "int key"},
        nan=float("nan"),
        color=Color.RED,
        point=Point(1, 2),
        model=Model(name="m", tags=["a"]),
        odd=Unprintable(),
        cycle=cycle,
        many=list(range(arguments.MAX_ITEMS + 5)),
    )

    recorded = content(spans)[0][FN_ARGS]
    many = recorded.pop("many")
    assert many == [*range(arguments.MAX_ITEMS), "…[5 more]"]
    assert recorded.pop("cycle")[0][0][0][0][0][0][0].startswith("[[")
    assert recorded == {
        "raw": "AAE=",
        "numbers": [3],
        "pair": [1, 2.5],
        "keys": {"(1, 2)": "tuple key", "3": "int key"},
        "nan": "nan",
        "color": "red",
        "point": {"x": 1, "y": 2},
        "model": {"name": "m", "tags": ["a"]},
        "odd": "<Unprintable>",
    }


def test_content_is_capped(monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter) -> None:
    capture_content(monkeypatch, max_size=256)

    @wt.tool(name="echo")
    def echo(text: str) -> str:
        return text

    echo("x" * 10_000)

    (span,) = spans.get_finished_spans()
    for key in (ARGS, RESULT):
        text = span.attributes[key]
        assert len(text.encode()) <= 256
        json.loads(text)
    assert span.attributes[TRUNCATED] is True


def test_generator_result_is_its_items(monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter) -> None:
    capture_content(monkeypatch)

    @wt.agent(name="Writer")
    def writer(topic: str) -> Iterator[str]:
        yield f"{topic}: one"
        yield Point(1, 2)  # type: ignore[misc]
        yield "three"

    assert len(list(writer("birds"))) == 3
    iterator = writer("cats")
    next(iterator)
    iterator.close()

    assert content(spans) == [
        {FN_ARGS: {"topic": "birds"}, FN_RESULT: ["birds: one", {"x": 1, "y": 2}, "three"]},
        {FN_ARGS: {"topic": "cats"}, FN_RESULT: ["cats: one"]},
    ]


async def test_async_generator_result_is_its_items(
    monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter
) -> None:
    capture_content(monkeypatch)

    @wt.retrieval(data_source="kb")
    async def search(query: str) -> Any:
        yield {"id": "doc_1", "score": 0.9}

    assert [d async for d in search("q")] == [{"id": "doc_1", "score": 0.9}]
    assert content(spans) == [{FN_ARGS: {"query": "q"}, FN_RESULT: [{"id": "doc_1", "score": 0.9}]}]


def test_failed_call_keeps_its_arguments(monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter) -> None:
    capture_content(monkeypatch)

    @wt.tool(name="fails")
    def fails(x: int) -> int:
        raise ValueError(x)

    with pytest.raises(ValueError):
        fails(4)
    with pytest.raises(TypeError):
        fails(1, 2)  # type: ignore[call-arg]

    assert content(spans) == [{ARGS: {"x": 4}}, {}]
    assert [s.attributes["error.type"] for s in spans.get_finished_spans()] == ["ValueError", "TypeError"]


def test_callable_without_signature(monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter) -> None:
    capture_content(monkeypatch)

    assert wt.trace(name="max")(max)(1, 3, key=abs) == 3

    assert content(spans) == [{FN_ARGS: {"args": [1, 3], "kwargs": {"key": "<built-in function abs>"}}, FN_RESULT: 3}]


def test_unsampled_spans_skip_content_work(monkeypatch: pytest.MonkeyPatch, fresh_state: None) -> None:
    capture_content(monkeypatch)
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace_api.set_tracer_provider(provider)

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("content work for a span that does not record")

    monkeypatch.setattr(arguments.Binder, "bind", forbidden)
    monkeypatch.setattr(call, "json_safe", forbidden)

    assert weather("Paris") == {"city": "Paris", "temperature": 21}
    assert exporter.get_finished_spans() == ()


def test_broken_content_never_breaks_the_call(monkeypatch: pytest.MonkeyPatch, spans: InMemorySpanExporter) -> None:
    capture_content(monkeypatch)
    monkeypatch.delenv("WIKITRACE_RAISE_INTERNAL_ERRORS")

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("serializer bug")

    monkeypatch.setattr(call, "capped_json", broken)

    assert weather("Paris") == {"city": "Paris", "temperature": 21}
    (span,) = spans.get_finished_spans()
    assert span.attributes["gen_ai.tool.name"] == "weather"
    assert ARGS not in span.attributes
