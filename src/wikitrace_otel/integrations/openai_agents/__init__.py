"""OpenAI Agents SDK (``openai-agents``) traces as GenAI spans, without duplicating provider spans.

Usage: ``wikitrace_otel.install()`` (or ``opentelemetry-instrument python app.py``, entry point
``openai_agents`` in ``opentelemetry_instrumentor``) does it when the SDK is installed; by
hand::

    from wikitrace_otel.integrations.openai_agents import OpenAIAgentsInstrumentor

    OpenAIAgentsInstrumentor().instrument()      # global providers
    OpenAIAgentsInstrumentor().instrument(
        tracer_provider=tp, meter_provider=mp,   # or explicit ones
        logger_provider=lp,                      # for content events
        capture_content="SPAN_ONLY",
    )
    ...
    OpenAIAgentsInstrumentor().uninstrument()

``instrument()`` adds a :class:`WikitraceTracingProcessor` with these settings next to the
SDK's own processors (its exporter to the OpenAI platform stays), once however often it is
called; ``uninstrument()`` removes that processor and leaves every other one in place (a trace
in flight still ends its spans first). The SDK is not imported by either: when it is not
imported yet, the processor is added when the application imports ``agents``.
``agents.set_trace_processors([...])`` replaces every processor, this one included.

The processor can also be registered by hand::

    import agents
    from wikitrace_otel.integrations.openai_agents import WikitraceTracingProcessor

    agents.add_trace_processor(WikitraceTracingProcessor())        # alongside the SDK's exporter
    agents.set_trace_processors([WikitraceTracingProcessor()])     # or instead of it

Keyword arguments: ``capture_content``, ``max_content_size``, ``legacy_semconv``,
``tracer_provider``, ``meter_provider``, ``logger_provider`` (each falls back to its
environment variable).

**Registered twice, recorded once.** When several of these processors are registered (one by
hand and one by ``install()``, say), the first registered records each trace and the others
skip it: no span is ever doubled. Register yours before calling ``install()`` for its settings
to apply, or leave the SDK out of ``install(instrument=[...])``.

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

from typing import TYPE_CHECKING, Any

from wikitrace_otel.integrations.openai_agents._instrumentor import OpenAIAgentsInstrumentor

if TYPE_CHECKING:
    from wikitrace_otel.integrations.openai_agents._processor import WikitraceTracingProcessor

__all__ = ["OpenAIAgentsInstrumentor", "WikitraceTracingProcessor"]


def __getattr__(name: str) -> Any:
    # The processor subclasses the SDK's TracingProcessor, so importing it imports the SDK:
    # done on first use, so that install() and opentelemetry-instrument can load this package
    # without importing the SDK.
    if name == "WikitraceTracingProcessor":
        from wikitrace_otel.integrations.openai_agents._processor import WikitraceTracingProcessor

        return WikitraceTracingProcessor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
