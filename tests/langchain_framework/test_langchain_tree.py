"""Chain -> agent -> inference / tool / retrieval, with exactly one inference span per model
call: the OpenAI instrumentor's when it is on, the handler's when it is off."""

from __future__ import annotations

from typing import Any

from langchain_support import (
    HANDLER_SCOPE,
    OPENAI_SCOPE,
    CannedChatModel,
    EndCounter,
    named,
    paths,
    scope,
    support_chain,
    support_paths,
)
from opentelemetry.trace import SpanKind

from wikitrace_otel.semconv import gen_ai as g

QUESTION = "  Where is the Paris store?  "


def _check_inference(spans: Any, openai_on: bool) -> None:
    chats = named(spans, "chat ")
    assert len(chats) == 2
    for span in chats:
        assert scope(span) == (OPENAI_SCOPE if openai_on else HANDLER_SCOPE)
        assert span.kind is SpanKind.CLIENT
        attributes = span.attributes or {}
        assert attributes[g.GEN_AI_PROVIDER_NAME] == "openai"
        assert attributes[g.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
        assert attributes[g.GEN_AI_USAGE_INPUT_TOKENS] == 11
        assert attributes[g.GEN_AI_USAGE_OUTPUT_TOKENS] == 7


def test_invoke_gives_one_tree(
    handler: Any, chat_model: Any, openai_on: bool, span_exporter: Any, ends: EndCounter, fake_openai: Any
) -> None:
    answer = support_chain(chat_model).invoke(QUESTION, config={"callbacks": [handler]})

    assert answer == "Hello from choice 0"
    spans = span_exporter.get_finished_spans()
    assert paths(spans) == support_paths()
    _check_inference(spans, openai_on)
    assert len(fake_openai.requests) == 2
    ends.check(span_exporter)


async def test_ainvoke_gives_one_tree(
    handler: Any, chat_model: Any, openai_on: bool, span_exporter: Any, ends: EndCounter
) -> None:
    answer = await support_chain(chat_model).ainvoke(QUESTION, config={"callbacks": [handler]})

    assert answer == "Hello from choice 0"
    spans = span_exporter.get_finished_spans()
    assert paths(spans) == support_paths()
    _check_inference(spans, openai_on)
    ends.check(span_exporter)


def _roots(spans: Any) -> list[Any]:
    return [span for span in spans if span.parent is None]


def _under(spans: Any, root: Any) -> int:
    by_id = {span.context.span_id: span for span in spans}
    count = 0
    for span in spans:
        node = span
        while node.parent is not None:
            node = by_id[node.parent.span_id]
        count += node is root
    return count


def test_batch_runs_on_threads_keep_their_trees_apart(
    handler: Any, chat_model: Any, openai_on: bool, span_exporter: Any, ends: EndCounter
) -> None:
    answers = support_chain(chat_model).batch([QUESTION] * 4, config={"callbacks": [handler], "max_concurrency": 4})

    assert answers == ["Hello from choice 0"] * 4
    spans = span_exporter.get_finished_spans()
    assert paths(spans) == support_paths() + support_paths() + support_paths() + support_paths()
    roots = _roots(spans)
    assert len(roots) == 4 and len({root.context.trace_id for root in roots}) == 4
    assert all(_under(spans, root) == 7 for root in roots)
    ends.check(span_exporter)


async def test_abatch_runs_on_tasks_keep_their_trees_apart(
    handler: Any, chat_model: Any, openai_on: bool, span_exporter: Any, ends: EndCounter
) -> None:
    answers = await support_chain(chat_model).abatch([QUESTION] * 3, config={"callbacks": [handler]})

    assert answers == ["Hello from choice 0"] * 3
    spans = span_exporter.get_finished_spans()
    assert paths(spans) == support_paths() + support_paths() + support_paths()
    assert all(_under(spans, root) == 7 for root in _roots(spans))
    ends.check(span_exporter)


def test_steps_are_named_by_the_conventions(handler: Any, chat_model: Any, span_exporter: Any) -> None:
    support_chain(chat_model).invoke(QUESTION, config={"callbacks": [handler]})

    spans = {span.name: span for span in span_exporter.get_finished_spans()}
    workflow = spans["invoke_workflow support-chain"].attributes or {}
    assert workflow[g.GEN_AI_OPERATION_NAME] == "invoke_workflow"
    assert workflow[g.GEN_AI_WORKFLOW_NAME] == "support-chain"
    agent = spans["invoke_agent support-agent"].attributes or {}
    assert agent[g.GEN_AI_OPERATION_NAME] == "invoke_agent"
    assert agent[g.GEN_AI_AGENT_NAME] == "support-agent"
    tool = spans["execute_tool find_store"].attributes or {}
    assert tool[g.GEN_AI_OPERATION_NAME] == "execute_tool"
    assert tool[g.GEN_AI_TOOL_NAME] == "find_store"
    assert tool[g.GEN_AI_TOOL_DESCRIPTION] == "Find the store in a city."
    assert tool[g.GEN_AI_TOOL_CALL_ID] == "call_fake_1"
    assert g.GEN_AI_TOOL_CALL_ARGUMENTS not in tool  # content capture is off
    retrieval = spans["retrieval KeywordRetriever"].attributes or {}
    assert retrieval[g.GEN_AI_OPERATION_NAME] == "retrieval"
    assert retrieval[g.GEN_AI_DATA_SOURCE_ID] == "KeywordRetriever"
    assert g.GEN_AI_RETRIEVAL_DOCUMENTS not in retrieval


def test_handler_span_covers_the_call_and_records_the_request(
    handler: Any, chat_model: Any, span_exporter: Any
) -> None:
    support_chain(chat_model).invoke(QUESTION, config={"callbacks": [handler]})

    first, second = sorted(named(span_exporter.get_finished_spans(), "chat "), key=lambda s: s.start_time)
    attributes = first.attributes or {}
    assert attributes[g.GEN_AI_OPERATION_NAME] == "chat"
    assert attributes[g.GEN_AI_REQUEST_TEMPERATURE] == 0.2
    assert attributes[g.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2026-01-01"
    assert attributes[g.GEN_AI_RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert attributes[g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 3
    assert attributes[g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 2
    tool = named(span_exporter.get_finished_spans(), "execute_tool")[0]
    # Started when the model run started, ended when it ended: before the tool, which ran after.
    assert first.start_time < first.end_time <= tool.start_time <= tool.end_time <= second.start_time


def test_a_model_without_sdk_gets_the_handlers_span(handler: Any, span_exporter: Any, ends: EndCounter) -> None:

    CannedChatModel().invoke("hi", config={"callbacks": [handler]})

    (span,) = span_exporter.get_finished_spans()
    assert span.name == "chat canned-1"
    assert dict(span.attributes or {}) == {
        g.GEN_AI_OPERATION_NAME: "chat",
        g.GEN_AI_PROVIDER_NAME: "cannedchatmodel",  # LangChain's ls_provider default: the class name
        g.GEN_AI_REQUEST_MODEL: "canned-1",
        g.GEN_AI_RESPONSE_MODEL: "canned-1-2026",
        g.GEN_AI_RESPONSE_ID: "canned-resp-1",
        g.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
        g.GEN_AI_USAGE_INPUT_TOKENS: 30,
        g.GEN_AI_USAGE_OUTPUT_TOKENS: 12,
        g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 10,
        g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: 5,
        g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 4,
    }
    ends.check(span_exporter)


def test_handler_spans_record_inference_metrics(handler: Any, metric_reader: Any) -> None:

    CannedChatModel().invoke("hi", config={"callbacks": [handler]})

    data = metric_reader.get_metrics_data()
    names = {m.name for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
    assert {"gen_ai.client.inference.duration", "gen_ai.client.inference.usage.input_tokens"} <= names


def test_a_streamed_model_call_is_one_span(
    handler: Any, chat_model: Any, openai_on: bool, span_exporter: Any, ends: EndCounter
) -> None:
    text = "".join(str(chunk.content) for chunk in chat_model.stream("hi", config={"callbacks": [handler]}))

    assert text == "Hello from choice 0"
    (span,) = span_exporter.get_finished_spans()
    assert span.name == "chat gpt-4o-mini"
    assert scope(span) == (OPENAI_SCOPE if openai_on else HANDLER_SCOPE)
    ends.check(span_exporter)


async def test_an_async_streamed_model_call_is_one_span(
    handler: Any, chat_model: Any, openai_on: bool, span_exporter: Any, ends: EndCounter
) -> None:
    chunks = [chunk async for chunk in chat_model.astream("hi", config={"callbacks": [handler]})]

    assert "".join(str(chunk.content) for chunk in chunks) == "Hello from choice 0"
    (span,) = span_exporter.get_finished_spans()
    assert scope(span) == (OPENAI_SCOPE if openai_on else HANDLER_SCOPE)
    ends.check(span_exporter)
