"""Fixtures for the LangChain / LangGraph tests: the handler and the instrumentor wired to the
in-memory providers of ``tests/conftest.py``, ``ChatOpenAI`` on the fake OpenAI server, the
OpenAI instrumentor on or off, and a span-end counter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("langchain_core")

from langchain_support import EndCounter
from opentelemetry import trace

from sdk_support import instrument_fixture
from wikitrace_otel._genai import claims
from wikitrace_otel.instrumentors.langchain import LangChainInstrumentor
from wikitrace_otel.integrations._current import StepSpan
from wikitrace_otel.integrations.langchain import WikitraceCallbackHandler


@pytest.fixture(autouse=True)
def context_left_clean() -> Iterator[None]:
    """Nothing a test's runs made current may stay current on the test's thread afterwards."""
    yield
    assert not isinstance(trace.get_current_span(), StepSpan), trace.get_current_span()
    assert claims.current_model_call() is None


@pytest.fixture
def ends(tracer_provider: Any) -> EndCounter:
    counter = EndCounter()
    tracer_provider.add_span_processor(counter)
    return counter


@pytest.fixture
def make_handler(tracer_provider: Any, meter_provider: Any, logger_provider: Any) -> Callable[..., Any]:
    def _make(**kwargs: Any) -> WikitraceCallbackHandler:
        return WikitraceCallbackHandler(
            tracer_provider=tracer_provider, meter_provider=meter_provider, logger_provider=logger_provider, **kwargs
        )

    return _make


@pytest.fixture
def handler(make_handler: Callable[..., Any]) -> WikitraceCallbackHandler:
    return make_handler()


instrument_langchain = instrument_fixture("instrument_langchain", LangChainInstrumentor)


@pytest.fixture(params=["openai-instrumented", "openai-not-instrumented"])
def openai_on(request: pytest.FixtureRequest, instrument: Callable[..., Any]) -> bool:
    """Run the test with the OpenAI instrumentor on (its spans are the inference spans) and off
    (the handler's are)."""
    on = request.param == "openai-instrumented"
    if on:
        instrument()
    return on


@pytest.fixture
def chat_model(fake_openai: Any, client: Any, async_client: Any) -> Any:
    """``ChatOpenAI`` on the fake server, with this test's own SDK clients: the default async
    client langchain-openai caches would outlive the test's event loop."""
    langchain_openai = pytest.importorskip("langchain_openai")
    return langchain_openai.ChatOpenAI(
        model="gpt-4o-mini",
        api_key="sk-test",
        base_url=fake_openai.base_url,
        max_retries=0,
        temperature=0.2,
        client=client.chat.completions,
        root_client=client,
        async_client=async_client.chat.completions,
        root_async_client=async_client,
    )
