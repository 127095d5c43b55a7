"""Content capture: messages and tool definitions on the handler's inference span, tool
arguments and results, retrieval query and documents; nothing of it by default."""

from __future__ import annotations

import json
from typing import Any

from langchain_support import CannedChatModel, KeywordRetriever, find_store, named, support_chain

from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import wikitrace as w


def test_steps_carry_content_when_captured(make_handler: Any, chat_model: Any, span_exporter: Any) -> None:
    handler = make_handler(capture_content="SPAN_ONLY")
    support_chain(chat_model).invoke("Where is the Paris store?", config={"callbacks": [handler]})

    spans = span_exporter.get_finished_spans()
    tool = named(spans, "execute_tool")[0].attributes or {}
    assert json.loads(tool[g.GEN_AI_TOOL_CALL_ARGUMENTS]) == {"city": "Paris"}
    assert json.loads(tool[g.GEN_AI_TOOL_CALL_RESULT]) == "Paris: 12 Rue de Rivoli"
    retrieval = named(spans, "retrieval")[0].attributes or {}
    assert retrieval[g.GEN_AI_RETRIEVAL_QUERY_TEXT] == "Where is the Paris store?"
    assert json.loads(retrieval[g.GEN_AI_RETRIEVAL_DOCUMENTS]) == [
        {"content": "Paris store: 12 Rue de Rivoli, open 10:00-19:00.", "id": "d1", "metadata": {"source": "stores.md"}}
    ]
    first, second = sorted(named(spans, "chat "), key=lambda s: s.start_time)
    first_attributes = first.attributes or {}
    assert json.loads(first_attributes[g.GEN_AI_TOOL_DEFINITIONS]) == [
        {
            "type": "function",
            "name": "find_store",
            "description": "Find the store in a city.",
            "parameters": {"properties": {"city": {"type": "string"}}, "required": ["city"], "type": "object"},
        }
    ]
    assert json.loads(first_attributes[g.GEN_AI_OUTPUT_MESSAGES]) == [
        {
            "role": "assistant",
            "parts": [{"type": "tool_call", "id": "call_fake_1", "name": "find_store", "arguments": {"city": "Paris"}}],
        }
    ]
    history = json.loads((second.attributes or {})[g.GEN_AI_INPUT_MESSAGES])
    assert [m["role"] for m in history] == ["user", "assistant", "tool"]
    assert history[2]["parts"] == [
        {"type": "tool_call_response", "id": "call_fake_1", "response": "Paris: 12 Rue de Rivoli"}
    ]
    assert json.loads((second.attributes or {})[g.GEN_AI_OUTPUT_MESSAGES]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello from choice 0"}]}
    ]


def test_no_content_by_default(handler: Any, chat_model: Any, span_exporter: Any) -> None:
    support_chain(chat_model).invoke("Where is the Paris store?", config={"callbacks": [handler]})

    content_keys = {
        g.GEN_AI_INPUT_MESSAGES,
        g.GEN_AI_OUTPUT_MESSAGES,
        g.GEN_AI_TOOL_DEFINITIONS,
        g.GEN_AI_TOOL_CALL_ARGUMENTS,
        g.GEN_AI_TOOL_CALL_RESULT,
        g.GEN_AI_RETRIEVAL_QUERY_TEXT,
        g.GEN_AI_RETRIEVAL_DOCUMENTS,
    }
    for span in span_exporter.get_finished_spans():
        assert not content_keys & set(span.attributes or {}), span.name


def test_content_events_for_the_handlers_span(make_handler: Any, span_exporter: Any, log_exporter: Any) -> None:
    handler = make_handler(capture_content="EVENT_ONLY")
    CannedChatModel().invoke("hi", config={"callbacks": [handler]})

    (span,) = span_exporter.get_finished_spans()
    assert g.GEN_AI_INPUT_MESSAGES not in (span.attributes or {})
    (record,) = [r.log_record for r in log_exporter.get_finished_logs()]
    assert record.attributes[g.GEN_AI_INPUT_MESSAGES] == (
        {"role": "user", "parts": ({"type": "text", "content": "hi"},)},
    )
    assert record.span_id == span.context.span_id


def test_large_documents_are_capped(make_handler: Any, span_exporter: Any) -> None:
    from langchain_core.documents import Document

    handler = make_handler(capture_content="SPAN_ONLY", max_content_size=1024)
    retriever = KeywordRetriever(documents=[Document(page_content="paris " + "x" * 5000)])
    retriever.invoke("paris", config={"callbacks": [handler]})

    (span,) = span_exporter.get_finished_spans()
    attributes = span.attributes or {}
    assert len(attributes[g.GEN_AI_RETRIEVAL_DOCUMENTS].encode()) <= 1024
    assert json.loads(attributes[g.GEN_AI_RETRIEVAL_DOCUMENTS])[0]["content"].startswith("paris x")
    assert attributes[w.WIKITRACE_CONTENT_TRUNCATED] is True


def test_a_tool_called_with_plain_arguments(make_handler: Any, span_exporter: Any) -> None:
    handler = make_handler(capture_content="SPAN_ONLY")
    assert find_store.invoke({"city": "Lyon"}, config={"callbacks": [handler]}) == "Lyon: 12 Rue de Rivoli"

    (span,) = span_exporter.get_finished_spans()
    assert span.name == "execute_tool find_store" and span.parent is None
    assert g.GEN_AI_TOOL_CALL_ID not in (span.attributes or {})
