"""What is current after a run: exactly what was current before it, sync and async, so later
spans of the application never nest under a step that has ended."""

from __future__ import annotations

import contextvars
import threading
import uuid
from typing import Any

import pytest
from langchain_support import CannedChatModel, KeywordRetriever, named, support_chain
from opentelemetry import context as otel_context
from opentelemetry import trace

from wikitrace_otel._genai import claims


def test_sync_runs_restore_the_context_exactly(handler: Any, chat_model: Any) -> None:
    before = otel_context.get_current()
    support_chain(chat_model).invoke("Paris?", config={"callbacks": [handler]})
    assert otel_context.get_current() is before
    assert claims.current_model_call() is None


async def test_after_an_async_run_the_callers_span_is_current_again(
    handler: Any, chat_model: Any, tracer_provider: Any, span_exporter: Any
) -> None:
    tracer = tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("request") as request:
        await support_chain(chat_model).ainvoke("Paris?", config={"callbacks": [handler]})
        # LangChain ran the end hooks in copies of this context: whatever stayed behind must
        # stand for the request span again.
        assert trace.get_current_span().get_span_context() == request.get_span_context()
        with tracer.start_as_current_span("after"):
            pass
    spans = {span.name: span for span in span_exporter.get_finished_spans()}
    assert spans["after"].parent.span_id == request.get_span_context().span_id
    assert spans["invoke_workflow support-chain"].parent.span_id == request.get_span_context().span_id


async def test_after_an_async_run_with_no_span_nothing_is_current(handler: Any, tracer_provider: Any) -> None:
    await KeywordRetriever().ainvoke("paris", config={"callbacks": [handler]})
    await CannedChatModel().ainvoke("hi", config={"callbacks": [handler]})
    assert not trace.get_current_span().get_span_context().is_valid
    with tracer_provider.get_tracer("app").start_as_current_span("later") as later:
        assert later.parent is None


def test_a_run_started_inside_an_application_span_nests_under_it(
    handler: Any, tracer_provider: Any, span_exporter: Any
) -> None:
    with tracer_provider.get_tracer("app").start_as_current_span("request"):
        CannedChatModel().invoke("hi", config={"callbacks": [handler]})
    spans = {span.name: span for span in span_exporter.get_finished_spans()}
    assert spans["chat canned-1"].parent.span_id == spans["request"].context.span_id


def test_the_users_model_call_scope_is_claimed_by_the_handlers_span(handler: Any, span_exporter: Any) -> None:
    # A framework above LangChain opened its own scope: the handler's span is the provider
    # span from its point of view, so it claims it.
    with claims.model_call("outer") as outer:
        CannedChatModel().invoke("hi", config={"callbacks": [handler]})
    assert outer.traced
    assert len(named(span_exporter.get_finished_spans(), "chat ")) == 1


def _result() -> Any:
    from langchain_core.messages import AIMessage
    from langchain_core.outputs import ChatGeneration, LLMResult

    message = AIMessage(content="ok", usage_metadata={"input_tokens": 3, "output_tokens": 1, "total_tokens": 4})
    return LLMResult(generations=[[ChatGeneration(message=message)]])


@pytest.mark.parametrize("traced", [True, False], ids=["provider-traced", "not-traced"])
def test_an_end_hook_in_another_thread_still_reads_the_runs_claim(
    handler: Any, instrument: Any, client: Any, span_exporter: Any, traced: bool
) -> None:
    from langchain_core.messages import HumanMessage

    instrument()
    run_id = uuid.uuid4()
    serialized = {"id": ["langchain", "chat_models", "openai", "ChatOpenAI"]}
    # The run starts (and calls the SDK) in a context of its own, so that what its start hook
    # leaves behind cannot leak into later tests on this thread.
    started = contextvars.copy_context()
    started.run(
        handler.on_chat_model_start,
        serialized,
        [[HumanMessage("hi")]],
        run_id=run_id,
        invocation_params={"model": "gpt-4o-mini"},
    )
    if traced:
        started.run(client.chat.completions.create, model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    # A fresh thread starts with an empty context: nothing the start hook set is visible or
    # resettable there; the claim is read from the run's own ModelCall.
    worker = threading.Thread(target=handler.on_llm_end, args=(_result(),), kwargs={"run_id": run_id})
    worker.start()
    worker.join()

    spans = span_exporter.get_finished_spans()
    assert len(spans) == 1
    assert spans[0].instrumentation_scope.name == (
        "wikitrace_otel.instrumentors.openai" if traced else "wikitrace_otel.integrations.langchain"
    )
    handler.on_llm_end(_result(), run_id=run_id)  # a second end for the same run does nothing
    assert len(span_exporter.get_finished_spans()) == 1
