"""``OpenAIAgentsInstrumentor``: registers a :class:`WikitraceTracingProcessor` with the Agents
SDK, for ``install()`` and ``opentelemetry-instrument`` (see the package docs)."""

from __future__ import annotations

import logging
import sys
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from wrapt import register_post_import_hook

from wikitrace_otel._genai.config import GenAISettings
from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel.integrations.openai_agents.package import _instruments

_logger = logging.getLogger(__name__)
_PROVIDERS = ("tracer_provider", "meter_provider", "logger_provider")


class OpenAIAgentsInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Adds a :class:`WikitraceTracingProcessor` next to the Agents SDK's own processors.

    ``instrument()`` takes ``tracer_provider``, ``meter_provider``, ``logger_provider``,
    ``capture_content``, ``max_content_size`` and ``legacy_semconv`` (each falls back to its
    environment variable) and hands them to the processor. ``uninstrument()`` removes that
    processor and no other. See :mod:`wikitrace_otel.integrations.openai_agents`.
    """

    def __init__(self) -> None:
        super().__init__()
        if not hasattr(self, "_generation"):  # a singleton: keep the state of the first handle
            self._generation = 0
            self._processor: Any = None

    def instrumentation_dependencies(self) -> Collection[str]:
        """The ``openai-agents`` versions this instrumentor supports."""
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        settings = GenAISettings.resolve(**kwargs)  # a bad value fails here, not when agents is imported
        options: dict[str, Any] = {name: kwargs.get(name) for name in _PROVIDERS}
        options.update(
            capture_content=settings.capture_content,
            max_content_size=settings.max_content_size,
            legacy_semconv=settings.legacy_semconv,
        )
        self._generation += 1
        generation = self._generation

        def register(module: Any) -> None:
            if generation != self._generation:
                return  # uninstrumented (or instrumented again) before agents was imported
            try:
                self._register(module, options)
            except Exception as internal:  # noqa: BLE001 - never break the application's import
                report_internal_error(internal)

        # Importing the SDK takes a while and pulls in much of its dependency tree: an application
        # that has it installed but does not use it must not pay for that at install() time.
        module = sys.modules.get("agents")
        if module is not None:
            register(module)
        else:
            register_post_import_hook(register, "agents")

    def _register(self, module: Any, options: dict[str, Any]) -> None:
        add = getattr(module, "add_trace_processor", None)
        if not callable(add):  # an application package that happens to be called "agents"
            _logger.debug("openai-agents: %r is not the OpenAI Agents SDK; not tracing it", module)
            return
        from wikitrace_otel.integrations.openai_agents._processor import WikitraceTracingProcessor

        processor = WikitraceTracingProcessor(**options)
        add(processor)
        self._processor = processor

    def _uninstrument(self, **kwargs: Any) -> None:
        self._generation += 1
        processor, self._processor = self._processor, None
        if processor is not None:
            # Traces in flight when uninstrumenting still end their spans; then it goes.
            processor._retire(lambda: _unregister(processor))


def _unregister(processor: Any) -> None:
    """Take ``processor`` out of the SDK's processors, leaving every other one in place.

    The SDK has no public way to remove one processor (``set_trace_processors`` replaces them
    all, racing with a concurrent ``add_trace_processor``), so this edits the default provider's
    tuple under the provider's own lock. A custom ``TraceProvider`` keeps the processor, which
    records nothing once retired.
    """
    try:
        from agents.tracing import get_trace_provider

        multi = getattr(get_trace_provider(), "_multi_processor", None)
        lock = getattr(multi, "_lock", None)
        if lock is None or not isinstance(getattr(multi, "_processors", None), tuple):
            _logger.debug("openai-agents: custom trace provider; the retired processor stays registered")
            return
        with lock:
            multi._processors = tuple(p for p in multi._processors if p is not processor)  # type: ignore[union-attr]
    except Exception as internal:  # noqa: BLE001 - uninstrumenting must not fail the application
        report_internal_error(internal)
