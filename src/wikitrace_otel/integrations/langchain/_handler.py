"""The LangChain callback handler: each hook maps a run onto a span (see the package docs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from opentelemetry.trace import SpanKind

from wikitrace_otel._genai.config import GenAISettings
from wikitrace_otel._genai.content import capped_json
from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.integrations._runs import RunTable
from wikitrace_otel.integrations.langchain import _extract as x
from wikitrace_otel.semconv import frameworks as f
from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import wikitrace as w

SCOPE = "wikitrace_otel.integrations.langchain"
_HIDDEN_TAG = "langsmith:hidden"  # LangGraph's internal channel writers and edge routers
_AGENT_KEYS = (g.GEN_AI_AGENT_NAME, "lc_agent_name")  # run metadata naming an agent


class WikitraceCallbackHandler(BaseCallbackHandler):  # type: ignore[misc]
    """Turns LangChain and LangGraph runs into GenAI spans; see
    :mod:`wikitrace_otel.integrations.langchain` for the mapping.

    Args:
        tracer_provider / meter_provider / logger_provider: None means the global ones.
        capture_content, max_content_size, legacy_semconv: as for the instrumentors
            (argument, else environment variable, else default).
    """

    # Hooks run inline in the caller's context, also under ainvoke/astream: what a start hook
    # makes current (the step's span, the model call scope) is then seen by the code the run
    # executes, and provider spans nest under the step.
    run_inline = True
    # Our hooks never raise except under the test setting (report_internal_error); letting
    # LangChain re-raise keeps our own bugs visible there instead of becoming log lines.
    raise_error = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        settings = GenAISettings.resolve(**kwargs)
        self._telemetry = GenAITelemetry(
            SCOPE,
            settings,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
            logger_provider=kwargs.get("logger_provider"),
        )
        self._runs = RunTable(self._telemetry)
        self._content = settings.capture_content.enabled
        self._on_span = settings.capture_content.on_span

    # --- chains, graphs, graph nodes, agents ------------------------------------------

    def on_chain_start(
        self,
        serialized: dict[str, Any] | None,
        inputs: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            self._chain_start(serialized, run_id, parent_run_id, tags, metadata or {}, kwargs)
        except Exception as internal:  # noqa: BLE001 - telemetry must not break the run
            report_internal_error(internal)

    def _chain_start(
        self,
        serialized: Mapping[str, Any] | None,
        run_id: UUID,
        parent_run_id: UUID | None,
        tags: list[str] | None,
        metadata: Mapping[str, Any],
        kwargs: Mapping[str, Any],
    ) -> None:
        marks = frozenset((key, value) for key in _AGENT_KEYS if isinstance(value := metadata.get(key), str) and value)
        if tags and _HIDDEN_TAG in tags:
            self._runs.start_hidden(run_id, parent_run_id, marks)
            return
        name = x.run_name(serialized, kwargs, "chain")
        attributes: dict[str, Any] = {f.LANGCHAIN_RUN_TYPE: "chain"}
        node = metadata.get("langgraph_node")
        if isinstance(node, str) and node == name:
            attributes[f.LANGGRAPH_NODE] = node
            step = metadata.get("langgraph_step")
            if isinstance(step, int):
                attributes[f.LANGGRAPH_STEP] = step
        agent = self._agent_name(name, serialized, parent_run_id, metadata)
        if agent is not None:
            operation, span_name = g.Operation.INVOKE_AGENT.value, f"invoke_agent {agent}"
            attributes[g.GEN_AI_AGENT_NAME] = agent
        elif parent_run_id is None or not self._runs.has(parent_run_id):
            operation, span_name = g.Operation.INVOKE_WORKFLOW.value, f"invoke_workflow {name}"
            attributes[g.GEN_AI_WORKFLOW_NAME] = name
        else:
            operation, span_name = None, name
        if operation is not None:
            attributes[g.GEN_AI_OPERATION_NAME] = operation
        self._runs.start_step(run_id, parent_run_id, span_name, attributes, SpanKind.INTERNAL, marks)

    def _agent_name(
        self,
        name: str,
        serialized: Mapping[str, Any] | None,
        parent_run_id: UUID | None,
        metadata: Mapping[str, Any],
    ) -> str | None:
        if x.class_name(serialized) == "AgentExecutor":
            return name
        for key in _AGENT_KEYS:
            agent = metadata.get(key)
            if isinstance(agent, str) and agent:
                # Metadata is inherited by every run below: only the outermost run that
                # carries the name is the agent; its nodes and chains stay steps.
                return None if self._runs.inherits(parent_run_id, key, agent) else agent
        return None

    def on_chain_end(self, outputs: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._runs.end_step(run_id)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    def on_chain_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._runs.end_step(run_id, exc=error)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    # --- tools -------------------------------------------------------------------------

    def on_tool_start(
        self,
        serialized: dict[str, Any] | None,
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            name = x.run_name(serialized, kwargs, "tool")
            attributes: dict[str, Any] = {
                g.GEN_AI_OPERATION_NAME: g.Operation.EXECUTE_TOOL.value,
                g.GEN_AI_TOOL_NAME: name,
                g.GEN_AI_TOOL_TYPE: "function",
                f.LANGCHAIN_RUN_TYPE: "tool",
            }
            description = (serialized or {}).get("description")
            if isinstance(description, str) and description:
                attributes[g.GEN_AI_TOOL_DESCRIPTION] = description
            call_id = kwargs.get("tool_call_id")
            if isinstance(call_id, str) and call_id:
                attributes[g.GEN_AI_TOOL_CALL_ID] = call_id
            if self._on_span:
                self._put_json(attributes, g.GEN_AI_TOOL_CALL_ARGUMENTS, inputs if inputs is not None else input_str)
            self._runs.start_step(run_id, parent_run_id, f"execute_tool {name}", attributes, SpanKind.INTERNAL)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    def on_tool_end(self, output: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            attributes: dict[str, Any] = {}
            # langchain-core before 1.0 does not pass tool_call_id to on_tool_start; the
            # ToolMessage a tool called with a tool call returns carries it.
            call_id = getattr(output, "tool_call_id", None)
            if isinstance(call_id, str) and call_id:
                attributes[g.GEN_AI_TOOL_CALL_ID] = call_id
            if self._on_span:
                self._put_json(attributes, g.GEN_AI_TOOL_CALL_RESULT, getattr(output, "content", output))
            self._runs.end_step(run_id, attributes)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    def on_tool_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._runs.end_step(run_id, exc=error)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    # --- retrievers ----------------------------------------------------------------------

    def on_retriever_start(
        self,
        serialized: dict[str, Any] | None,
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            name = x.run_name(serialized, kwargs, "retriever")
            attributes: dict[str, Any] = {
                g.GEN_AI_OPERATION_NAME: g.Operation.RETRIEVAL.value,
                g.GEN_AI_DATA_SOURCE_ID: name,
                f.LANGCHAIN_RUN_TYPE: "retriever",
            }
            if self._on_span and isinstance(query, str):
                attributes[g.GEN_AI_RETRIEVAL_QUERY_TEXT] = query
            self._runs.start_step(run_id, parent_run_id, f"retrieval {name}", attributes, SpanKind.INTERNAL)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    def on_retriever_end(self, documents: Sequence[Any], *, run_id: UUID, **kwargs: Any) -> None:
        try:
            attributes: dict[str, Any] = {}
            if self._on_span:
                self._put_json(attributes, g.GEN_AI_RETRIEVAL_DOCUMENTS, x.documents_content(documents))
            self._runs.end_step(run_id, attributes)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    def on_retriever_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._runs.end_step(run_id, exc=error)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    # --- models ----------------------------------------------------------------------------

    def on_chat_model_start(
        self,
        serialized: dict[str, Any] | None,
        messages: list[list[Any]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            attributes = x.model_request(serialized, metadata, kwargs, g.Operation.CHAT.value)
            content = None
            if self._content:
                content = {g.GEN_AI_INPUT_MESSAGES: x.input_messages(messages[0] if messages else [])}
                definitions = x.tool_definitions(kwargs)
                if definitions:
                    content[g.GEN_AI_TOOL_DEFINITIONS] = definitions
            self._runs.start_model(run_id, parent_run_id, attributes, content)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    def on_llm_start(
        self,
        serialized: dict[str, Any] | None,
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            attributes = x.model_request(serialized, metadata, kwargs, g.Operation.TEXT_COMPLETION.value)
            content = {g.GEN_AI_INPUT_MESSAGES: x.prompt_messages(prompts)} if self._content else None
            self._runs.start_model(run_id, parent_run_id, attributes, content)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    def on_llm_end(self, response: Any, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            attributes, output = x.model_response(response)
            self._runs.end_model(run_id, attributes, output if self._content else None, None)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        try:
            self._runs.end_model(run_id, {}, None, error)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    def _put_json(self, attributes: dict[str, Any], key: str, value: Any) -> None:
        text, truncated = capped_json(value, self._telemetry.settings.max_content_size)
        attributes[key] = text
        if truncated:
            attributes[w.WIKITRACE_CONTENT_TRUNCATED] = True
