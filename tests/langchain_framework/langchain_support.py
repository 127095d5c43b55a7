"""Pieces of a small LangChain app for the tests: a retriever, a tool, a chat model that calls
no SDK, and the support agent that uses them; plus helpers to read the span tree."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import tool
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

OPENAI_SCOPE = "wikitrace_otel.instrumentors.openai"
HANDLER_SCOPE = "wikitrace_otel.integrations.langchain"


class EndCounter(SpanProcessor):
    """Counts ``on_end`` per span id; :meth:`check` asserts each span ended exactly once."""

    def __init__(self) -> None:
        self.ends: Counter[int] = Counter()

    def on_end(self, span: ReadableSpan) -> None:
        assert span.context is not None
        self.ends[span.context.span_id] += 1

    def check(self, exporter: InMemorySpanExporter) -> None:
        spans = exporter.get_finished_spans()
        assert dict(self.ends) == {s.context.span_id: 1 for s in spans if s.context is not None}


HANDBOOK = [
    Document(
        page_content="Paris store: 12 Rue de Rivoli, open 10:00-19:00.", metadata={"source": "stores.md"}, id="d1"
    ),
    Document(page_content="Orders ship within two business days.", metadata={"source": "shipping.md"}, id="d2"),
]


class KeywordRetriever(BaseRetriever):
    """Returns the handbook documents that share a word with the query."""

    documents: list[Document] = HANDBOOK

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        words = {word.strip("?.,").lower() for word in query.split()}
        return [doc for doc in self.documents if words & {w.strip(".,:").lower() for w in doc.page_content.split()}]


@tool
def find_store(city: str) -> str:
    """Find the store in a city."""
    if city == "Nowhere":
        raise ValueError("no store in Nowhere")
    return f"{city}: 12 Rue de Rivoli"


class CannedChatModel(BaseChatModel):
    """A chat model that calls no SDK: it answers from its own text and reports usage the
    way LangChain models do (``usage_metadata``, ``response_metadata``)."""

    answer: str = "Canned answer."
    fail: bool = False

    @property
    def _llm_type(self) -> str:
        return "canned"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_name": "canned-1"}

    def _generate(self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any) -> Any:
        if self.fail:
            raise RuntimeError("canned model is down")
        usage = {
            "input_tokens": 30,
            "output_tokens": 12,
            "total_tokens": 42,
            "input_token_details": {"cache_read": 10, "cache_creation": 5},
            "output_token_details": {"reasoning": 4},
        }
        message = AIMessage(
            content=self.answer,
            usage_metadata=usage,
            response_metadata={"model_name": "canned-1-2026", "finish_reason": "stop", "id": "canned-resp-1"},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def support_chain(model: Any, retriever: BaseRetriever | None = None) -> Runnable[Any, Any]:
    """``prep | support-agent``: the agent retrieves, asks the model (which calls find_store),
    runs the tool and asks the model again."""
    retriever = retriever or KeywordRetriever()

    def answer(question: str) -> str:
        docs = retriever.invoke(question)
        messages: list[BaseMessage] = [HumanMessage(f"{question}\n\n" + "\n".join(d.page_content for d in docs))]
        first = model.bind_tools([find_store]).invoke(messages)
        messages.append(first)
        for call in first.tool_calls:
            messages.append(find_store.invoke(call))
        return str(model.invoke(messages).content)

    async def aanswer(question: str) -> str:
        docs = await retriever.ainvoke(question)
        messages: list[BaseMessage] = [HumanMessage(f"{question}\n\n" + "\n".join(d.page_content for d in docs))]
        first = await model.bind_tools([find_store]).ainvoke(messages)
        messages.append(first)
        for call in first.tool_calls:
            messages.append(await find_store.ainvoke(call))
        return str((await model.ainvoke(messages)).content)

    agent = RunnableLambda(answer, afunc=aanswer, name="support-agent").with_config(
        metadata={"gen_ai.agent.name": "support-agent"}
    )
    prep = RunnableLambda(lambda question: question.strip(), name="prep")
    return (prep | agent).with_config(run_name="support-chain")


def paths(spans: Iterable[ReadableSpan]) -> Counter[str]:
    """Each span as the names from its root down to it, joined with ``/``."""
    spans = list(spans)
    by_id = {span.context.span_id: span for span in spans if span.context is not None}
    out: Counter[str] = Counter()
    for span in spans:
        names = [span.name]
        parent = span.parent
        while parent is not None and parent.span_id in by_id:
            ancestor = by_id[parent.span_id]
            names.append(ancestor.name)
            parent = ancestor.parent
        out["/".join(reversed(names))] += 1
    return out


def support_paths(model_span: str = "chat gpt-4o-mini", root: str = "invoke_workflow support-chain") -> Counter[str]:
    """The tree one run of :func:`support_chain` should give."""
    agent = f"{root}/invoke_agent support-agent"
    return Counter(
        {
            root: 1,
            f"{root}/prep": 1,
            agent: 1,
            f"{agent}/retrieval KeywordRetriever": 1,
            f"{agent}/{model_span}": 2,
            f"{agent}/execute_tool find_store": 1,
        }
    )


def named(spans: Sequence[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    """Spans whose name starts with ``prefix``."""
    return [span for span in spans if span.name.startswith(prefix)]


def scope(span: ReadableSpan) -> str:
    assert span.instrumentation_scope is not None
    return span.instrumentation_scope.name
