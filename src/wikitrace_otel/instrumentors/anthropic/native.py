"""The Anthropic SDK's own tracing, kept out of the calls this instrumentor traces.

Recent SDKs (1.17+, 2.x) trace themselves: whenever a global ``TracerProvider`` exists, each
API call gets a ``CLIENT`` span of the SDK's own (scope ``com.anthropic.sdk.python``), unless
``ANTHROPIC_OPEN_TELEMETRY=false`` or the client's ``open_telemetry`` option turns it off.
Alongside this instrumentor that would make two spans per call.

The choice made here: while a call this instrumentor traces is being sent, the client's tracer
(its ``_tracer`` property, read once per request) is swapped for one whose spans do not record
and carry the context of our span. The SDK then emits no span for that call, and still sends
our span's trace context with the request, as it would have sent its own (when its
``propagation`` option is on). Ours carries the full attribute set, cost, session and user, and
is the same on SDKs without tracing. A client whose tracing is off (``ANTHROPIC_OPEN_TELEMETRY=
false``, ``open_telemetry=False``) is left as it is. Calls this instrumentor does not wrap keep
the SDK's spans. Uninstrumenting restores the property.

``instrument(sdk_spans=True)`` leaves the SDK's spans on: they then nest under ours.
"""

from __future__ import annotations

import importlib
import logging
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, NoOpTracer, Span

_logger = logging.getLogger(__name__)

in_traced_call: ContextVar[bool] = ContextVar("wikitrace_anthropic_in_traced_call", default=False)
"""True while the SDK sends a request for a call this instrumentor traces."""

_MODULE, _CLASS, _PROPERTY = "anthropic._base_client", "BaseClient", "_tracer"


def sdk_traces_itself() -> bool:
    """True when the installed SDK has its own OpenTelemetry tracing."""
    try:
        cls = getattr(importlib.import_module(_MODULE), _CLASS)
    except (ImportError, AttributeError):
        return False
    return isinstance(cls.__dict__.get(_PROPERTY), property)


class _ContextOnlyTracer(NoOpTracer):
    """Hands out non-recording spans with the current span's context: the SDK records nothing,
    and propagates that context (its own code treats such a span as "propagate only")."""

    def start_span(self, name: str, context: Context | None = None, *args: Any, **kwargs: Any) -> Span:
        return NonRecordingSpan(trace.get_current_span(context).get_span_context())


_CONTEXT_ONLY = _ContextOnlyTracer()


class NativeSpans:
    """Switches the SDK's own spans off inside traced calls, and back on."""

    def __init__(self) -> None:
        self._restore: list[tuple[type, str, Any]] = []

    def switch_off_in_traced_calls(self) -> bool:
        """Returns False when the SDK has no tracing of its own (nothing to switch)."""
        try:
            cls = getattr(importlib.import_module(_MODULE), _CLASS)
        except (ImportError, AttributeError) as exc:
            _logger.debug("anthropic: no SDK tracing to switch off (%s)", exc)
            return False
        original = cls.__dict__.get(_PROPERTY)
        if not isinstance(original, property) or original.fget is None:
            return False
        getter = original.fget

        def tracer(client: Any) -> Any:
            own = getter(client)
            return _CONTEXT_ONLY if own is not None and in_traced_call.get() else own

        setattr(cls, _PROPERTY, property(tracer, doc=original.__doc__))
        self._restore.append((cls, _PROPERTY, original))
        return True

    def restore(self) -> None:
        """Put the SDK's own property back."""
        while self._restore:
            cls, name, original = self._restore.pop()
            setattr(cls, name, original)
