"""The instrumentor: every run gets the handler without passing callbacks, uninstrument stops
it, and the package registers it where install() and opentelemetry-instrument look."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from langchain_support import (
    OPENAI_SCOPE,
    CannedChatModel,
    EndCounter,
    named,
    paths,
    scope,
    support_chain,
    support_paths,
)

from wikitrace_otel import _install
from wikitrace_otel.instrumentors.langchain import LangChainInstrumentor


def test_every_run_is_traced_without_callbacks(
    instrument_langchain: Any, instrument: Any, chat_model: Any, span_exporter: Any, ends: EndCounter
) -> None:
    instrument()
    instrument_langchain()
    support_chain(chat_model).invoke("Paris?")

    spans = span_exporter.get_finished_spans()
    assert paths(spans) == support_paths()
    assert {scope(span) for span in named(spans, "chat ")} == {OPENAI_SCOPE}
    ends.check(span_exporter)


async def test_async_runs_and_threads_too(instrument_langchain: Any, span_exporter: Any) -> None:
    instrument_langchain()
    await CannedChatModel().ainvoke("hi")
    CannedChatModel().batch(["a", "b"])
    assert [span.name for span in span_exporter.get_finished_spans()] == ["chat canned-1"] * 3


def test_uninstrument_stops_tracing(instrument_langchain: Any, span_exporter: Any) -> None:
    instrumentor = instrument_langchain()
    instrumentor.uninstrument()
    CannedChatModel().invoke("hi")
    assert span_exporter.get_finished_spans() == ()
    instrument_langchain()  # again after uninstrument: traced again, once
    CannedChatModel().invoke("hi")
    assert len(span_exporter.get_finished_spans()) == 1


def test_an_explicit_handler_of_the_same_instance_is_not_doubled(instrument_langchain: Any, span_exporter: Any) -> None:
    from wikitrace_otel.instrumentors import langchain as module

    instrument_langchain()
    CannedChatModel().invoke("hi", config={"callbacks": [module._SLOT.handler]})
    assert len(span_exporter.get_finished_spans()) == 1


def test_registered_for_install_and_opentelemetry_instrument() -> None:
    (entry,) = [e for e in entry_points(group="opentelemetry_instrumentor") if e.name == "langchain"]
    assert entry.value == "wikitrace_otel.instrumentors.langchain:LangChainInstrumentor"
    assert _install.INSTRUMENTORS["langchain"] == (
        "langchain_core",
        "wikitrace_otel.instrumentors.langchain:LangChainInstrumentor",
    )
    assert list(LangChainInstrumentor().instrumentation_dependencies()) == ["langchain-core >= 0.3.72, < 2"]
