"""OpenAI Agents SDK (``openai-agents``) traces as GenAI spans, without duplicating provider spans.

Usage::

    import agents
    from wikitrace_otel.integrations.openai_agents import WikitraceTracingProcessor

    agents.add_trace_processor(WikitraceTracingProcessor())        # alongside the SDK's exporter
    agents.set_trace_processors([WikitraceTracingProcessor()])     # or instead of it

The SDK's own exporter sends traces to the OpenAI platform; ``set_trace_processors`` replaces
it, ``add_trace_processor`` keeps it. Keyword arguments: ``capture_content``,
``max_content_size``, ``legacy_semconv``, ``tracer_provider``, ``meter_provider``,
``logger_provider`` (each falls back to its environment variable).

What each trace and span becomes:

- a trace (``Runner.run``, or ``agents.trace("name")``): ``invoke_workflow {name}``;
- ``AgentSpanData``: ``invoke_agent {name}`` (``gen_ai.agent.name``);
- ``FunctionSpanData``: ``execute_tool {name}`` (arguments and result with content capture on);
- ``HandoffSpanData``: ``handoff`` with ``openai_agents.handoff.from_agent`` / ``.to_agent``;
- ``GuardrailSpanData``: ``guardrail {name}`` with ``openai_agents.guardrail.triggered``;
- ``ResponseSpanData`` (Responses API) and ``GenerationSpanData`` (Chat Completions): one
  inference span per model call. The SDK calls the OpenAI SDK; when the OpenAI instrumentor
  traces that request, its span (full request attributes, usage, cost) nested under the agent
  is the record and the processor adds nothing (the model span opens a
  :func:`wikitrace_otel.model_call` scope the instrumentor claims). Otherwise the processor
  emits ``chat {model}`` from the span's data at its end, backdated to its start: model, response
  id, usage (cached and reasoning tokens included), messages with content capture on;
- any other span (custom, MCP, speech...): a span named after its type (and name), with
  ``openai_agents.span.type``.

Errors the SDK records on a span (it records a message, not an exception) set status ERROR and
``error.type`` to that message. Spans are parented by the SDK's parent ids, and steps are made
current while they run, so provider spans nest under the agent or tool that made the call.
"""

from __future__ import annotations

from wikitrace_otel.integrations.openai_agents._processor import WikitraceTracingProcessor

__all__ = ["WikitraceTracingProcessor"]
