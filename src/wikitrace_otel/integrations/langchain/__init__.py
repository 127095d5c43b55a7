"""LangChain and LangGraph runs as GenAI spans, without duplicating provider spans.

Usage, for every run of the process (what ``wikitrace_otel.install()`` does when
``langchain-core`` is installed)::

    from wikitrace_otel.instrumentors.langchain import LangChainInstrumentor

    LangChainInstrumentor().instrument()

or for chosen runs only::

    from wikitrace_otel.integrations.langchain import WikitraceCallbackHandler

    handler = WikitraceCallbackHandler(capture_content="SPAN_ONLY")
    graph.invoke(inputs, config={"callbacks": [handler]})

What each run becomes:

- a chain or graph with no parent run: ``invoke_workflow {name}`` (``gen_ai.workflow.name``);
- an agent: ``invoke_agent {name}`` (``gen_ai.agent.name``). A run is an agent when it is a
  legacy ``AgentExecutor``, or when its metadata names one: ``lc_agent_name`` (set by
  LangChain's ``create_agent``) or ``gen_ai.agent.name`` (set it yourself, e.g.
  ``builder.add_node("agent", fn, metadata={"gen_ai.agent.name": "support"})`` or
  ``runnable.with_config(metadata=...)``). Metadata is inherited by every run below, so only
  the outermost run carrying a name is the agent;
- any other chain or graph node: a span named after the run (``langgraph.node`` and
  ``langgraph.step`` on graph nodes). LangGraph's hidden internal runs (channel writers,
  edge routers) get no span; their children are parented to the nearest traced run;
- a tool: ``execute_tool {name}`` (``gen_ai.tool.name``, ``.description``, ``.call.id``;
  arguments and result with content capture on);
- a retriever: ``retrieval {name}`` (``gen_ai.data_source.id``; with content capture on, the
  query in ``gen_ai.retrieval.query.text`` and the documents in ``gen_ai.retrieval.documents``
  as JSON ``[{"id"?, "content", "metadata"?}]``);
- a chat model or LLM call: exactly one inference span. When a provider instrumentor (OpenAI,
  Anthropic...) traces the request, its span is the record, nested under the step that made
  the call, and the handler adds nothing. When none does, the handler emits ``chat {model}``
  (``text_completion {model}`` for completion models) at the end of the run, starting at the
  run's start: the provider from the model's ``ls_provider`` or class (``ChatOpenAI`` ->
  ``openai``, ``ChatAnthropic`` -> ``anthropic``...; ``langchain`` when unknown), the request
  model and parameters from ``invocation_params``, usage from each message's
  ``usage_metadata`` (``input_tokens`` already includes cached input; ``cache_read``,
  ``cache_creation`` and ``reasoning`` details map to the cache and reasoning counts), else
  from ``llm_output["token_usage"]``; messages and tool definitions with content capture on.
  Metrics and cost are those of every inference span.

Errors end the run's span with status ERROR, ``error.type`` and the exception event;
LangGraph's interrupts and parent-graph commands are control flow, not errors. Every span
ends exactly once.

**How duplicates are avoided.** ``on_chat_model_start`` / ``on_llm_start`` open a
:func:`wikitrace_otel.model_call` scope (:func:`~wikitrace_otel._genai.claims.open_model_call`)
in the hook's context; a provider instrumentor tracing the request inside the run claims it;
``on_llm_end`` / ``on_llm_error`` read ``call.traced`` and emit a span only when it is False.
The handler sets ``run_inline = True``, so LangChain calls its start hooks in the caller's
context under ``invoke``, ``ainvoke``, ``stream``, ``batch`` and LangGraph nodes on threads or
tasks alike: what a start hook makes current (the step's span, the model call scope) is what
the run's own code sees.

**Start and end hooks in different contexts.** Under ``ainvoke``/``astream`` LangChain runs
the end hooks of chains, models and retrievers in a *copy* of the caller's context, and a
context-variable scope can only be reset in the context that set it. The handler is built
around that: each run's state (span, ``ModelCall``) is kept by run id, so the end hook finds
the run's own ``ModelCall`` and reads the claim from it wherever it runs; spans are parented
by ``parent_run_id``, not by what is current when a hook runs; and the span a step makes
current is a stand-in that stands for the step's parent once the step has ended, so what the
start hook leaves behind in the caller's context never parents anything to a finished step.
Where start and end do share a context (sync runs) the context is restored exactly, also
when runs end out of order (``batch()`` ends its root runs in input order). One known limit:
``generate()`` with several prompts in one call starts every run before making any request,
so claims of such a call all reach the last run's scope.

At most 10,000 runs are tracked at once; beyond that the oldest run's span is ended.
"""

from __future__ import annotations

from wikitrace_otel.integrations.langchain._handler import WikitraceCallbackHandler

__all__ = ["WikitraceCallbackHandler"]
