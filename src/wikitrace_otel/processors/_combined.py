"""The session, cost, budget and alert processors as one span processor, for ``install()``.

Each span processor on a provider is called three times per span (start, ending, end), and
every span of the application, GenAI or not, goes through all of them. Run as one processor,
the four steps cost one call per hook, and a span that names no GenAI operation is recognised
once, with one dict lookup, and goes no further than the steps that concern every span (the
session stamp at start, forgetting the budgets it started under at end).

Each step is the public processor's own code, so the combination behaves exactly as the four
processors added one after the other in this order.
"""

from __future__ import annotations

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from wikitrace_otel.alerts import AlertSpanProcessor
from wikitrace_otel.budgets import BudgetSpanProcessor
from wikitrace_otel.processors._view import stored_attributes
from wikitrace_otel.processors.cost import CostSpanProcessor
from wikitrace_otel.processors.session import SessionSpanProcessor
from wikitrace_otel.semconv import gen_ai as g

_OPERATION = g.GEN_AI_OPERATION_NAME


class CombinedSpanProcessor(SpanProcessor):
    """``session``, ``cost``, ``budget`` and ``alerts`` in one pass, in that order.

    Args:
        session: stamps the session at start.
        cost: prices GenAI spans into the cost histogram.
        budget: charges other instrumentations' GenAI spans to budgets.
        alerts: feeds the error-rate and latency alerts.
    """

    def __init__(
        self,
        session: SessionSpanProcessor,
        cost: CostSpanProcessor,
        budget: BudgetSpanProcessor,
        alerts: AlertSpanProcessor,
    ) -> None:
        self.session, self.cost, self.budget, self.alerts = session, cost, budget, alerts

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.session.on_start(span, parent_context)
        self.budget.on_start(span, parent_context)

    def _on_ending(self, span: Span) -> None:
        self.cost._on_ending(span)

    def on_end(self, span: ReadableSpan) -> None:
        if _OPERATION not in stored_attributes(span):
            self.budget.forget(span)  # all the others would do for a span outside GenAI
            return
        self.cost.on_end(span)
        self.budget.on_end(span)
        self.alerts.on_end(span)

    def shutdown(self) -> None:
        for processor in (self.session, self.cost, self.budget, self.alerts):
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        flushed = True
        for processor in (self.session, self.cost, self.budget, self.alerts):
            flushed = processor.force_flush(timeout_millis) and flushed
        return flushed
