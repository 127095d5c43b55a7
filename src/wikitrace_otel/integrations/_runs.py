"""The runs a framework integration has seen: their spans, their model call scopes, and how
they end.

Frameworks (LangChain, the OpenAI Agents SDK) name every run (span) by id and give each its
parent's id, so spans are parented by id, not by whatever happens to be current when a hook
runs. Spans of steps (chains, graph nodes, agents, tools, retrievers) are also made current in
the hook's context, so provider spans of calls made inside the step nest under it.
"""

from __future__ import annotations

import contextvars
import copy
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from wikitrace_otel._genai import claims, gate
from wikitrace_otel._genai.errors import error_type
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.integrations._current import StepSpan
from wikitrace_otel.semconv import gen_ai as g

RunId = Hashable
"""A framework's id of a run: LangChain's run UUID, an Agents SDK span or trace id."""

MAX_RUNS = 10_000
"""Runs tracked at once; past that the oldest is ended (spans that never end must not leak)."""

# LangGraph signals interrupts and hand-offs to a parent graph with exceptions that are not
# failures: a step ending with one of these is not marked as an error.
_CONTROL_FLOW = frozenset({"GraphBubbleUp", "GraphInterrupt", "NodeInterrupt", "ParentCommand"})


@dataclass
class Run:
    """One LangChain run in flight.

    ``context`` is what children of the run are parented to: the run's span in the context
    the run started in, or (for model runs and hidden runs, which have no span of their own
    yet) the context their parent gives them.
    """

    context: Context
    span: Span | None = None
    current: StepSpan | None = None
    token: object | None = None
    call: claims.ModelCall | None = None
    call_token: contextvars.Token[Any] | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    content: dict[str, Any] | None = None
    start_ns: int = 0
    started: float = 0.0
    marks: frozenset[tuple[str, str]] = frozenset()  # agent-naming metadata the run carries


class RunTable:
    """Runs by id, bounded, safe to use from threads and tasks at once."""

    def __init__(self, telemetry: GenAITelemetry) -> None:
        self.telemetry = telemetry
        self._runs: OrderedDict[RunId, Run] = OrderedDict()
        self._lock = threading.Lock()

    def parent_context(self, parent_run_id: RunId | None) -> Context:
        """Context to parent a new run to: its parent run's; for a run the framework starts
        as a root, the current one minus any step spans of this table.

        A root run is not a child of one of our steps that happens to be current: LangChain's
        ``batch()`` starts every input's root run in the caller's context, one after the
        other, before running any of them, and each must start its own trace, not nest under
        the previous one. Steps of other integrations (an Agents SDK tool running a LangChain
        chain) and the application's own spans stay parents.
        """
        if parent_run_id is not None:
            with self._lock:
                parent = self._runs.get(parent_run_id)
            if parent is not None:
                return parent.context
        current = otel_context.get_current()
        span = trace.get_current_span(current)
        if not isinstance(span, StepSpan) or span.owner is not self:
            return current
        while isinstance(span, StepSpan) and span.owner is self:
            span = span.parent
        return trace.set_span_in_context(span, current)

    def has(self, run_id: RunId) -> bool:
        with self._lock:
            return run_id in self._runs

    def inherits(self, parent_run_id: RunId | None, key: str, value: str) -> bool:
        """True when the parent run carries the same ``key: value`` metadata."""
        if parent_run_id is None:
            return False
        with self._lock:
            parent = self._runs.get(parent_run_id)
        return parent is not None and (key, value) in parent.marks

    def start_step(
        self,
        run_id: RunId,
        parent_run_id: RunId | None,
        name: str,
        attributes: dict[str, Any],
        kind: SpanKind,
        marks: frozenset[tuple[str, str]] = frozenset(),
    ) -> None:
        """Start a step's span under its parent and make it current in this context."""
        parent = self.parent_context(parent_run_id)
        span = self.telemetry.tracer.start_span(name, context=parent, kind=kind, attributes=attributes)
        current = StepSpan(span, trace.get_current_span(parent), owner=self)
        context = trace.set_span_in_context(current, parent)
        run = Run(context=context, span=span, current=current, marks=marks)
        self._add(run_id, run)
        run.token = otel_context.attach(context)

    def start_hidden(
        self, run_id: RunId, parent_run_id: RunId | None, marks: frozenset[tuple[str, str]] = frozenset()
    ) -> None:
        """Track a run that gets no span (LangGraph's internal writers and routers) so its
        children still find their parent."""
        self._add(run_id, Run(context=self.parent_context(parent_run_id), marks=marks))

    def start_model(
        self, run_id: RunId, parent_run_id: RunId | None, attributes: dict[str, Any], content: dict[str, Any] | None
    ) -> None:
        """Open a model call scope for a chat or completion model run; its span waits for the end."""
        run = Run(
            context=self.parent_context(parent_run_id),
            attributes=attributes,
            content=content,
            start_ns=time.time_ns(),
            started=perf_counter(),
        )
        run.call, run.call_token = claims.open_model_call(attributes.get(g.GEN_AI_REQUEST_MODEL))
        self._add(run_id, run)

    def pop(self, run_id: RunId) -> Run | None:
        """Forget a run and undo what its start made current; None if it is unknown (or ended)."""
        with self._lock:
            run = self._runs.pop(run_id, None)
        if run is not None:
            if run.current is not None:
                run.current.ended = True
            _restore(run)
        return run

    def _add(self, run_id: RunId, run: Run) -> None:
        with self._lock:
            self._runs[run_id] = run
            evicted = self._runs.popitem(last=False)[1] if len(self._runs) > MAX_RUNS else None
        if evicted is not None and evicted.span is not None:
            if evicted.current is not None:
                evicted.current.ended = True
            evicted.span.end()

    def end_step(
        self,
        run_id: RunId,
        attributes: dict[str, Any] | None = None,
        exc: BaseException | None = None,
        failure: tuple[str, str] | None = None,
    ) -> None:
        """End a step's span exactly once (a second end for the same run id does nothing).

        ``exc`` is the exception the step failed with; ``failure`` is ``(error.type, message)``
        for frameworks that report errors without one.
        """
        run = self.pop(run_id)
        if run is None or run.span is None:
            return
        span = run.span
        try:
            if attributes and span.is_recording():
                span.set_attributes(attributes)
            if exc is not None and type(exc).__name__ not in _CONTROL_FLOW:
                mark_error(span, exc)
            elif failure is not None and span.is_recording():
                span.set_attribute(g.ERROR_TYPE, failure[0])
                span.set_status(Status(StatusCode.ERROR, failure[1]))
        finally:
            span.end()

    def end_model(
        self,
        run_id: RunId,
        response: dict[str, Any],
        output: list[dict[str, Any]] | None,
        exc: BaseException | None,
        input_messages: list[dict[str, Any]] | None = None,
    ) -> None:
        """Close a model run's scope; emit its inference span only when no provider span claimed it.

        ``response`` may carry ``gen_ai.request.model`` for frameworks that report the model
        only at the end; ``input_messages`` is for those that report the input only then.
        """
        run = self.pop(run_id)
        if run is None or run.call is None or run.call.traced or isinstance(exc, gate.RequestRefused):
            # A refused call (a spent budget) was never sent: like the instrumentor that
            # refused it, record no span for it.
            return
        model = response.pop(g.GEN_AI_REQUEST_MODEL, None)
        if model is not None:
            run.attributes.setdefault(g.GEN_AI_REQUEST_MODEL, model)
        telemetry = copy.copy(self.telemetry)
        telemetry.tracer = _StartedAt(self.telemetry.tracer, run.context, run.start_ns)  # type: ignore[assignment]
        content = run.content
        if content is not None and output is not None:
            content[g.GEN_AI_OUTPUT_MESSAGES] = output
        if content is not None and input_messages is not None:
            content.setdefault(g.GEN_AI_INPUT_MESSAGES, input_messages)
        invocation = Invocation(telemetry, run.attributes, content)
        invocation.started = run.started  # the call began at the start hook, not now
        invocation.response.update(response)
        invocation.end(exc)


def mark_error(span: Span, exc: BaseException) -> None:
    """Status ERROR, ``error.type`` and the exception event."""
    if span.is_recording():
        span.set_attribute(g.ERROR_TYPE, error_type(exc))
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))


def _restore(run: Run) -> None:
    """Undo the run's changes to the current context, where that is possible.

    A context-variable token can only be reset in the context that created it, and resetting
    restores the value from before it was set, so tokens must be reset in reverse order.

    - Sync runs end in the context they started in. When a run ends while a run started after
      it in the same context is still current (``batch()`` starts every input's root run, then
      ends them in input order), its token is kept on its :class:`StepSpan`; when the later
      run ends and is reset, the earlier one is reset too (:func:`_unwind`). The context ends
      up exactly as it was.
    - Under ``ainvoke``/``astream`` LangChain runs chain, model and retriever end hooks in a
      *copy* of the caller's context, where resetting changes nothing the caller sees; what
      the start hook set stays behind in the caller's context. Both values are built to be
      harmless there: the current span is a :class:`StepSpan`, which stands for the step's
      parent once the step has ended, and a model call scope left behind is a finished call
      that later claims cannot un-finish (a later model run opens its own scope inside it).

    The run's own claim is never lost: the run keeps its :class:`ModelCall` by run id and
    reads ``traced`` from that object, wherever the end hook runs.
    """
    if run.call_token is not None and claims.current_model_call() is run.call:
        _reset(run.call_token)
    if run.token is None:
        return
    if otel_context.get_current() is run.context:
        if _reset(run.token):
            _unwind()
    elif run.current is not None:
        run.current.token = run.token


def _unwind() -> None:
    """Reset the steps that ended while a later step was current, now that it is not."""
    span = trace.get_current_span()
    while isinstance(span, StepSpan) and span.ended and span.token is not None:
        token, span.token = span.token, None
        if not _reset(token):
            return
        span = trace.get_current_span()


def _reset(token: object) -> bool:
    """Reset a token; False if it cannot be reset here."""
    if isinstance(token, contextvars.Token):
        try:
            token.var.reset(token)
        except (ValueError, RuntimeError):  # created in another context, or already used
            return False
        return True
    otel_context.detach(token)  # type: ignore[arg-type]
    return True


class _StartedAt:
    """A tracer view that starts the span at a recorded time under a given parent, so the
    inference span emitted at a model run's end covers the whole call, where it belongs."""

    def __init__(self, tracer: trace.Tracer, parent: Context, start_ns: int) -> None:
        self._tracer, self._parent, self._start_ns = tracer, parent, start_ns

    def start_span(self, name: str, kind: SpanKind = SpanKind.INTERNAL, attributes: Any = None) -> Span:
        return self._tracer.start_span(
            name, context=self._parent, kind=kind, attributes=attributes, start_time=self._start_ns
        )
