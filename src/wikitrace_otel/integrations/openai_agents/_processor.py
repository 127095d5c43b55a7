"""The tracing processor: Agents SDK traces and spans in, GenAI spans out (see the package docs)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from agents.tracing import TracingProcessor
from opentelemetry.trace import SpanKind

from wikitrace_otel._genai.config import GenAISettings
from wikitrace_otel._genai.content import capped_json, text_part
from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.integrations._runs import RunTable
from wikitrace_otel.integrations.openai_agents._owners import OWNERS
from wikitrace_otel.semconv import frameworks as f
from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import wikitrace as w

SCOPE = "wikitrace_otel.integrations.openai_agents"
_MODEL_TYPES = frozenset({"generation", "response"})
# Newer SDKs wrap a run in a "task" span (the trace already stands for it) and each model turn
# in a "turn" span: they get no span, and their children go to the nearest traced parent.
_HIDDEN_TYPES = frozenset({"task", "turn"})


class AgentsSpanError(Exception):
    """An error the Agents SDK reported on a model span (it reports a message, not an exception)."""


class WikitraceTracingProcessor(TracingProcessor):  # type: ignore[misc]
    """An Agents SDK ``TracingProcessor`` that emits GenAI spans; see
    :mod:`wikitrace_otel.integrations.openai_agents`.

    Args:
        tracer_provider / meter_provider / logger_provider: None means the global ones.
        capture_content, max_content_size, legacy_semconv: as for the instrumentors.

    When several are registered with the SDK, the first registered records each trace and the
    others skip it, so a trace is never recorded twice.
    """

    def __init__(self, **kwargs: Any) -> None:
        settings = GenAISettings.resolve(**kwargs)
        self._telemetry = GenAITelemetry(
            SCOPE,
            settings,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
            logger_provider=kwargs.get("logger_provider"),
        )
        self._runs = RunTable(self._telemetry)
        self._on_span = settings.capture_content.on_span
        self._content = settings.capture_content.enabled
        self._retired = False
        self._on_idle: Callable[[], None] | None = None

    def _retire(self, on_idle: Callable[[], None]) -> None:
        """Record no new trace; call ``on_idle`` once no trace this processor records is in
        flight (at once if none is), so its spans still end. Used by the instrumentor, which
        then removes the processor from the SDK."""
        self._retired = True
        self._on_idle = on_idle  # set first: a trace ending meanwhile then calls it (it is idempotent)
        if not OWNERS.holds_any(self):
            self._on_idle = None
            on_idle()

    # --- TracingProcessor ------------------------------------------------------------------

    def on_trace_start(self, trace: Any) -> None:
        try:
            if self._retired or not OWNERS.claim(trace.trace_id, self):
                return  # retired, or another of our processors records this trace
            name = getattr(trace, "name", None) or "Agent workflow"
            attributes = {
                g.GEN_AI_OPERATION_NAME: g.Operation.INVOKE_WORKFLOW.value,
                g.GEN_AI_WORKFLOW_NAME: name,
            }
            self._runs.start_step(trace.trace_id, None, f"invoke_workflow {name}", attributes, SpanKind.INTERNAL)
        except Exception as internal:  # noqa: BLE001 - telemetry must not break the run
            report_internal_error(internal)

    def on_trace_end(self, trace: Any) -> None:
        try:
            if not OWNERS.owns(trace.trace_id, self):
                return
            self._runs.end_step(trace.trace_id)
            OWNERS.release(trace.trace_id, self)
            on_idle = self._on_idle
            if on_idle is not None and not OWNERS.holds_any(self):
                self._on_idle = None
                on_idle()
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    def on_span_start(self, span: Any) -> None:
        try:
            if OWNERS.owns(span.trace_id, self):
                self._span_start(span)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    def on_span_end(self, span: Any) -> None:
        try:
            if OWNERS.owns(span.trace_id, self):
                self._span_end(span)
        except Exception as internal:  # noqa: BLE001
            report_internal_error(internal)

    def shutdown(self) -> None:
        """Nothing to release: spans go through the tracer provider, which flushes itself."""

    def force_flush(self) -> None:
        """Nothing buffered here."""

    # --- mapping -------------------------------------------------------------------------------

    def _span_start(self, span: Any) -> None:
        data = span.span_data
        kind = data.type
        parent = span.parent_id or span.trace_id
        if kind in _MODEL_TYPES:
            attributes = {g.GEN_AI_OPERATION_NAME: g.Operation.CHAT.value, g.GEN_AI_PROVIDER_NAME: "openai"}
            model = getattr(data, "model", None)
            if isinstance(model, str) and model:
                attributes[g.GEN_AI_REQUEST_MODEL] = model
            self._runs.start_model(span.span_id, parent, attributes, {} if self._content else None)
            return
        if kind in _HIDDEN_TYPES:
            self._runs.start_hidden(span.span_id, parent)
            return
        name, attributes = self._step(data, kind)
        self._runs.start_step(span.span_id, parent, name, attributes, SpanKind.INTERNAL)

    def _step(self, data: Any, kind: str) -> tuple[str, dict[str, Any]]:
        name = getattr(data, "name", None)
        if kind == "agent":
            return f"invoke_agent {name}", {
                g.GEN_AI_OPERATION_NAME: g.Operation.INVOKE_AGENT.value,
                g.GEN_AI_AGENT_NAME: name,
            }
        if kind == "function":
            return f"execute_tool {name}", {
                g.GEN_AI_OPERATION_NAME: g.Operation.EXECUTE_TOOL.value,
                g.GEN_AI_TOOL_NAME: name,
                g.GEN_AI_TOOL_TYPE: "function",
            }
        attributes: dict[str, Any] = {f.OPENAI_AGENTS_SPAN_TYPE: kind}
        if kind == "handoff":
            source = getattr(data, "from_agent", None)
            if source:
                attributes[f.OPENAI_AGENTS_HANDOFF_FROM] = source
            return "handoff", attributes
        return (f"{kind} {name}" if isinstance(name, str) and name else kind), attributes

    def _span_end(self, span: Any) -> None:
        data = span.span_data
        error = span.error
        if data.type in _MODEL_TYPES:
            response, output = _model_response(data)
            if self._content:
                output = output or None
            exc = AgentsSpanError(error.get("message", "error")) if error else None
            self._runs.end_model(span.span_id, response, output, exc, _model_input(data) if self._content else None)
            return
        attributes = self._end_attributes(data)
        failure = (str(error.get("message") or "error"), str(error.get("data") or "")) if error else None
        self._runs.end_step(span.span_id, attributes, failure=failure)

    def _end_attributes(self, data: Any) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        kind = data.type
        if kind == "handoff" and getattr(data, "to_agent", None):
            attributes[f.OPENAI_AGENTS_HANDOFF_TO] = data.to_agent
        elif kind == "guardrail":
            attributes[f.OPENAI_AGENTS_GUARDRAIL_TRIGGERED] = bool(data.triggered)
        elif kind == "function" and self._on_span:
            self._put_json(attributes, g.GEN_AI_TOOL_CALL_ARGUMENTS, _maybe_json(data.input))
            self._put_json(attributes, g.GEN_AI_TOOL_CALL_RESULT, _maybe_json(data.output))
        return attributes

    def _put_json(self, attributes: dict[str, Any], key: str, value: Any) -> None:
        if value is None:
            return
        text, truncated = capped_json(value, self._telemetry.settings.max_content_size)
        attributes[key] = text
        if truncated:
            attributes[w.WIKITRACE_CONTENT_TRUNCATED] = True


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value if value is None or isinstance(value, (int, float, bool, list, dict)) else str(value)


def _model_response(data: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Attributes and output messages of a generation (Chat Completions) or response span."""
    attributes: dict[str, Any] = {}
    response = getattr(data, "response", None)
    usage: Any = getattr(data, "usage", None)
    outputs: list[dict[str, Any]] = []
    if response is not None:
        model = getattr(response, "model", None)
        if model:
            attributes[g.GEN_AI_REQUEST_MODEL] = model  # the span is named after it (the request is not seen)
            attributes[g.GEN_AI_RESPONSE_MODEL] = model
        if getattr(response, "id", None):
            attributes[g.GEN_AI_RESPONSE_ID] = response.id
        usage = usage or _dump(getattr(response, "usage", None))
        outputs = [_output_item(item) for item in getattr(response, "output", None) or ()]
    else:
        model = getattr(data, "model", None)
        if model:
            attributes[g.GEN_AI_REQUEST_MODEL] = model
        outputs = [_chat_message(m) for m in getattr(data, "output", None) or () if isinstance(m, Mapping)]
    attributes.update(_usage(usage))
    return attributes, outputs


def _dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump() if callable(dump) else value


def _usage(usage: Any) -> dict[str, int]:
    if not isinstance(usage, Mapping):
        return {}
    out: dict[str, int] = {}
    for key, source in ((g.GEN_AI_USAGE_INPUT_TOKENS, "input_tokens"), (g.GEN_AI_USAGE_OUTPUT_TOKENS, "output_tokens")):
        if isinstance(usage.get(source), int):
            out[key] = usage[source]
    cached = (usage.get("input_tokens_details") or {}).get("cached_tokens")
    if isinstance(cached, int):
        out[g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
    reasoning = (usage.get("output_tokens_details") or {}).get("reasoning_tokens")
    if isinstance(reasoning, int):
        out[g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning
    return out


def _output_item(item: Any) -> dict[str, Any]:
    kind = getattr(item, "type", None)
    if kind == "function_call":
        part = {"type": "tool_call", "id": item.call_id, "name": item.name, "arguments": _maybe_json(item.arguments)}
        return {"role": "assistant", "parts": [part]}
    texts = [getattr(c, "text", "") for c in getattr(item, "content", None) or () if getattr(c, "text", None)]
    return {"role": getattr(item, "role", None) or "assistant", "parts": [text_part(t) for t in texts]}


def _chat_message(message: Mapping[str, Any]) -> dict[str, Any]:
    content = message.get("content")
    parts = [text_part(content)] if isinstance(content, str) and content else []
    return {"role": str(message.get("role") or "assistant"), "parts": parts}


def _model_input(data: Any) -> list[dict[str, Any]] | None:
    """Input messages of a model span: a string, Responses input items or chat messages."""
    value = getattr(data, "input", None)
    if isinstance(value, str):
        return [{"role": "user", "parts": [text_part(value)]}]
    if not isinstance(value, list):
        return None
    messages = []
    for item in value:
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "function_call_output":
            part = {"type": "tool_call_response", "id": item.get("call_id"), "response": item.get("output")}
            messages.append({"role": "tool", "parts": [part]})
        elif item.get("type") == "function_call":
            part = {
                "type": "tool_call",
                "id": item.get("call_id"),
                "name": item.get("name"),
                "arguments": _maybe_json(item.get("arguments")),
            }
            messages.append({"role": "assistant", "parts": [part]})
        else:
            messages.append(_input_message(item))
    return messages


def _input_message(item: Mapping[str, Any]) -> dict[str, Any]:
    content = item.get("content")
    if isinstance(content, list):
        texts = [c.get("text") for c in content if isinstance(c, Mapping) and isinstance(c.get("text"), str)]
        return {"role": str(item.get("role") or "user"), "parts": [text_part(t) for t in texts]}
    return _chat_message(item)
