"""Failures: every span ends exactly once with status ERROR and ``error.type``; the user's
exception reaches the caller unchanged; a failed model call is recorded once."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from langchain_core.runnables import RunnableLambda
from langchain_support import (
    HANDLER_SCOPE,
    OPENAI_SCOPE,
    CannedChatModel,
    EndCounter,
    find_store,
    named,
    paths,
    scope,
    support_chain,
)
from opentelemetry.trace import StatusCode

from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.testing.fake_openai import FakeResponse


def test_a_failing_model_call_is_one_error_span(
    handler: Any, chat_model: Any, openai_on: bool, fake_openai: Any, span_exporter: Any, ends: EndCounter
) -> None:
    fake_openai.enqueue(FakeResponse.error(503, "Overloaded", code="server_overloaded"))
    with pytest.raises(openai.InternalServerError):
        support_chain(chat_model).invoke("Paris?", config={"callbacks": [handler]})

    spans = span_exporter.get_finished_spans()
    (chat,) = named(spans, "chat ")
    assert scope(chat) == (OPENAI_SCOPE if openai_on else HANDLER_SCOPE)
    assert chat.status.status_code is StatusCode.ERROR
    assert (chat.attributes or {})[g.ERROR_TYPE] == "server_overloaded"
    for name in ("invoke_agent support-agent", "invoke_workflow support-chain"):
        (span,) = named(spans, name)
        assert span.status.status_code is StatusCode.ERROR
        assert (span.attributes or {})[g.ERROR_TYPE] == "server_overloaded"
    ends.check(span_exporter)


async def test_a_failing_model_call_async(
    handler: Any, chat_model: Any, openai_on: bool, fake_openai: Any, span_exporter: Any, ends: EndCounter
) -> None:
    fake_openai.enqueue(FakeResponse.error(429, "Slow down", code="rate_limit_exceeded"))
    with pytest.raises(openai.RateLimitError):
        await support_chain(chat_model).ainvoke("Paris?", config={"callbacks": [handler]})

    (chat,) = named(span_exporter.get_finished_spans(), "chat ")
    assert (chat.attributes or {})[g.ERROR_TYPE] == "rate_limit_exceeded"
    ends.check(span_exporter)


def test_a_model_without_sdk_failing(handler: Any, span_exporter: Any, ends: EndCounter) -> None:
    with pytest.raises(RuntimeError, match="canned model is down"):
        CannedChatModel(fail=True).invoke("hi", config={"callbacks": [handler]})

    (span,) = span_exporter.get_finished_spans()
    assert span.name == "chat canned-1" and span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})[g.ERROR_TYPE] == "RuntimeError"
    assert [event.name for event in span.events] == ["exception"]
    ends.check(span_exporter)


def test_a_failing_tool(handler: Any, span_exporter: Any, ends: EndCounter) -> None:
    with pytest.raises(ValueError, match="no store in Nowhere"):
        find_store.invoke({"city": "Nowhere"}, config={"callbacks": [handler]})

    (span,) = span_exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})[g.ERROR_TYPE] == "ValueError"
    ends.check(span_exporter)


async def test_a_failing_step_async(handler: Any, span_exporter: Any, ends: EndCounter) -> None:
    async def boom(question: str) -> str:
        raise KeyError(question)

    chain = (RunnableLambda(lambda q: q, name="prep") | RunnableLambda(boom, name="boom")).with_config(run_name="c")
    with pytest.raises(KeyError):
        await chain.ainvoke("q", config={"callbacks": [handler]})

    assert paths(span_exporter.get_finished_spans()) == {
        "invoke_workflow c": 1,
        "invoke_workflow c/prep": 1,
        "invoke_workflow c/boom": 1,
    }
    (failed,) = named(span_exporter.get_finished_spans(), "boom")
    assert (failed.attributes or {})[g.ERROR_TYPE] == "KeyError"
    ends.check(span_exporter)
