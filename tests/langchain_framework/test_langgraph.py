"""A LangGraph graph with parallel nodes: each node's model call nests under its own node,
on threads (invoke) and tasks (ainvoke), with one inference span per call."""

from __future__ import annotations

import operator
from collections import Counter
from typing import Annotated, Any

import pytest
from langchain_core.messages import HumanMessage
from langchain_support import HANDLER_SCOPE, OPENAI_SCOPE, EndCounter, KeywordRetriever, find_store, named, paths, scope
from typing_extensions import TypedDict

from wikitrace_otel.semconv import frameworks as f
from wikitrace_otel.semconv import gen_ai as g

langgraph_graph = pytest.importorskip("langgraph.graph")


class State(TypedDict):
    question: str
    notes: Annotated[list[str], operator.add]
    answer: str


def build_graph(model: Any, is_async: bool) -> Any:
    """START -> (lookup_a, lookup_b in parallel) -> agent -> END."""
    retriever = KeywordRetriever()

    def lookup(topic: str) -> Any:
        def node(state: State) -> dict[str, Any]:
            return {"notes": [str(model.invoke(f"{topic}: {state['question']}").content)]}

        async def anode(state: State) -> dict[str, Any]:
            return {"notes": [str((await model.ainvoke(f"{topic}: {state['question']}")).content)]}

        return anode if is_async else node

    def agent(state: State) -> dict[str, Any]:
        docs = retriever.invoke(state["question"])
        messages: list[Any] = [HumanMessage(state["question"] + "\n" + "\n".join(d.page_content for d in docs))]
        first = model.bind_tools([find_store]).invoke(messages)
        messages += [first, *(find_store.invoke(call) for call in first.tool_calls)]
        return {"answer": str(model.invoke(messages).content)}

    async def aagent(state: State) -> dict[str, Any]:
        docs = await retriever.ainvoke(state["question"])
        messages: list[Any] = [HumanMessage(state["question"] + "\n" + "\n".join(d.page_content for d in docs))]
        first = await model.bind_tools([find_store]).ainvoke(messages)
        messages.append(first)
        for call in first.tool_calls:
            messages.append(await find_store.ainvoke(call))
        return {"answer": str((await model.ainvoke(messages)).content)}

    builder = langgraph_graph.StateGraph(State)
    builder.add_node("lookup_a", lookup("stores"))
    builder.add_node("lookup_b", lookup("shipping"))
    builder.add_node("agent", aagent if is_async else agent, metadata={"gen_ai.agent.name": "support-agent"})
    builder.add_edge(langgraph_graph.START, "lookup_a")
    builder.add_edge(langgraph_graph.START, "lookup_b")
    builder.add_edge(["lookup_a", "lookup_b"], "agent")
    builder.add_edge("agent", langgraph_graph.END)
    return builder.compile(name="support-graph")


ROOT = "invoke_workflow support-graph"
AGENT = f"{ROOT}/invoke_agent support-agent"
EXPECTED = Counter(
    {
        ROOT: 1,
        f"{ROOT}/lookup_a": 1,
        f"{ROOT}/lookup_a/chat gpt-4o-mini": 1,
        f"{ROOT}/lookup_b": 1,
        f"{ROOT}/lookup_b/chat gpt-4o-mini": 1,
        AGENT: 1,
        f"{AGENT}/retrieval KeywordRetriever": 1,
        f"{AGENT}/chat gpt-4o-mini": 2,
        f"{AGENT}/execute_tool find_store": 1,
    }
)


def _check(span_exporter: Any, openai_on: bool, ends: EndCounter) -> None:
    spans = span_exporter.get_finished_spans()
    assert paths(spans) == EXPECTED
    chats = named(spans, "chat ")
    assert {scope(span) for span in chats} == {OPENAI_SCOPE if openai_on else HANDLER_SCOPE}
    nodes = {span.name: span.attributes or {} for span in spans}
    assert nodes["lookup_a"][f.LANGGRAPH_NODE] == "lookup_a"
    assert nodes["lookup_a"][f.LANGGRAPH_STEP] == 1
    assert nodes["invoke_agent support-agent"][g.GEN_AI_AGENT_NAME] == "support-agent"
    assert nodes[ROOT][g.GEN_AI_WORKFLOW_NAME] == "support-graph"
    ends.check(span_exporter)


def test_graph_nodes_on_threads(
    handler: Any, chat_model: Any, openai_on: bool, span_exporter: Any, ends: EndCounter
) -> None:
    result = build_graph(chat_model, is_async=False).invoke({"question": "Paris store?"}, {"callbacks": [handler]})

    assert result["answer"] == "Hello from choice 0" and len(result["notes"]) == 2
    _check(span_exporter, openai_on, ends)


async def test_graph_nodes_on_tasks(
    handler: Any, chat_model: Any, openai_on: bool, span_exporter: Any, ends: EndCounter
) -> None:
    graph = build_graph(chat_model, is_async=True)
    result = await graph.ainvoke({"question": "Paris store?"}, {"callbacks": [handler]})

    assert result["answer"] == "Hello from choice 0" and len(result["notes"]) == 2
    _check(span_exporter, openai_on, ends)


async def test_graph_streamed_with_astream(
    handler: Any, chat_model: Any, openai_on: bool, span_exporter: Any, ends: EndCounter
) -> None:
    graph = build_graph(chat_model, is_async=True)
    updates = [update async for update in graph.astream({"question": "Paris store?"}, {"callbacks": [handler]})]

    assert {key for update in updates for key in update} == {"lookup_a", "lookup_b", "agent"}
    _check(span_exporter, openai_on, ends)
