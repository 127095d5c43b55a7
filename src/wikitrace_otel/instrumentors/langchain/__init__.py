"""OpenTelemetry instrumentation of LangChain and LangGraph, following the GenAI conventions.

Usage::

    from wikitrace_otel.instrumentors.langchain import LangChainInstrumentor

    LangChainInstrumentor().instrument()                 # global providers
    LangChainInstrumentor().instrument(capture_content="SPAN_ONLY", tracer_provider=tp)
    ...
    LangChainInstrumentor().uninstrument()               # no run gets the handler any more

``wikitrace_otel.install()`` and ``opentelemetry-instrument python app.py`` (entry point
``langchain`` in ``opentelemetry_instrumentor``) pick it up when ``langchain-core`` is
installed. Install with ``pip install 'wikitrace-otel[langchain]'``.

``instrument()`` adds one :class:`~wikitrace_otel.integrations.langchain.WikitraceCallbackHandler`
to every LangChain run of the process, LangGraph graphs included, through langchain-core's
configure hook (the mechanism its own tracers use): the handler rides along as an inheritable
callback wherever a callback manager is configured, in every thread and task, and is added
once per run. ``uninstrument()`` makes the hook add nothing. The mapping of runs to spans
and the rules that keep exactly one inference span per model call are described in
:mod:`wikitrace_otel.integrations.langchain`. Instrument the provider SDKs too (``install()``
does): model calls are then recorded by the provider's span, with full usage and cost, nested
under the chain, node, agent or tool that made them.

Keyword arguments of ``instrument()`` (each falls back to its environment variable):
``capture_content``, ``max_content_size``, ``legacy_semconv``, ``tracer_provider``,
``meter_provider``, ``logger_provider``.

If you also pass a handler of your own in ``callbacks``, runs get both; pass one or the
other. Supported: ``langchain-core`` 0.3.72 to 1.x, ``langgraph`` 0.3.5 to 1.x.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]

from wikitrace_otel.instrumentors.langchain.package import _instruments

__all__ = ["LangChainInstrumentor"]


class _HandlerSlot:
    """What langchain-core's configure hook reads: ``get()`` returns the handler to add to
    every run, or None. A plain global rather than a context variable, because a context
    variable set by ``instrument()`` would not be seen in threads started without a copy of
    the caller's context."""

    def __init__(self) -> None:
        self.handler: Any = None
        self.registered = False
        self.lock = threading.Lock()

    def get(self) -> Any:
        return self.handler


_SLOT = _HandlerSlot()


class LangChainInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Traces every LangChain and LangGraph run; see the module documentation."""

    def instrumentation_dependencies(self) -> Collection[str]:
        """The langchain-core versions this instrumentor supports."""
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        from langchain_core.tracers.context import register_configure_hook

        from wikitrace_otel.integrations.langchain import WikitraceCallbackHandler

        handler = WikitraceCallbackHandler(**kwargs)
        with _SLOT.lock:
            if not _SLOT.registered:
                # langchain-core keeps hooks for the life of the process and has no way to
                # remove one: register once, and switch it off by emptying the slot.
                register_configure_hook(_SLOT, inheritable=True)  # type: ignore[arg-type]
                _SLOT.registered = True
            _SLOT.handler = handler

    def _uninstrument(self, **kwargs: Any) -> None:
        _SLOT.handler = None
