"""Charging GenAI spans that other instrumentations emit (an SDK's own spans, another
vendor's instrumentor) to the budgets and rules they ran under."""

from __future__ import annotations

import functools
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel.budgets import _gatekeeper
from wikitrace_otel.budgets._budget import Budget, active
from wikitrace_otel.processors._view import genai_values, remembered_cost
from wikitrace_otel.processors.cost import genai_attributes

# Spans of our own instrumentors are charged by the instrumentor, which also refuses calls
# before they are sent; charging them here too would count them twice.
OWN_SCOPE_PREFIX = "wikitrace_otel.instrumentors."
_MAX_PENDING = 100_000


class BudgetSpanProcessor(SpanProcessor):
    """Charges GenAI spans of other instrumentations to budgets and budget rules.

    A span is charged to the ``with budget()`` blocks active where it *started*, and to the
    rule keys its attributes and resource name (``user.id``, ``session.id``, ``service.name``
    ...). Such calls cannot be refused before they are sent (no code of ours runs before their
    request), but their cost counts, so the next call through a wikitrace-otel instrumentor is
    refused once a limit is reached. ``install()`` adds this processor.

    Cost per span: outside any budget and without rules, one context-variable read at start
    and one dict check at end. A GenAI span to charge is only queued when it ends (about a
    microsecond); it is charged at the next moment its budgets matter: before the next
    instrumented request, or when a budget's figures are read (``b.spent``,
    ``budget_check()``...), or once 1,024 spans are queued. It is charged the price the
    ``CostSpanProcessor`` before this one computed when the budgets' price table is the same
    (as under ``install()``), else priced then.
    """

    def __init__(self) -> None:
        self._pending: dict[int, tuple[Budget, ...]] = {}

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        budgets = active.get()
        if not budgets or _own(span):
            return
        pending = self._pending
        if len(pending) < _MAX_PENDING:  # spans that never end must not grow this without bound
            pending[span.context.span_id] = budgets

    def on_end(self, span: ReadableSpan) -> None:
        budgets = self._pending.pop(span.context.span_id, ()) if self._pending and span.context else ()
        gate = _gatekeeper.installed()
        if gate is None or (not budgets and gate.book is None):
            return
        try:
            if genai_values(span) is None or _own(span):  # one dict lookup for non-GenAI spans
                return
            # The CostSpanProcessor before this one has usually priced the span: charge that price.
            priced = remembered_cost(span, gate.price_table())
            gate.defer(functools.partial(_charge, gate, span, budgets, priced))
        except Exception as internal:  # noqa: BLE001 - never raise into span.end()
            report_internal_error(internal)

    def forget(self, span: ReadableSpan) -> None:
        """What :meth:`on_end` does for a span that names no GenAI operation: drop its budgets."""
        if self._pending and span.context:
            self._pending.pop(span.context.span_id, None)

    def shutdown(self) -> None:
        self._pending.clear()
        _settle()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        _settle()
        return True


def _settle() -> None:
    gate = _gatekeeper.installed()
    if gate is not None:
        gate.settle()


def _charge(
    gate: _gatekeeper.BudgetGate,
    span: ReadableSpan,
    budgets: tuple[Budget, ...],
    priced: tuple[bool, float | None] = (False, None),
) -> None:
    attributes = genai_attributes(span)  # a plain dict: reads of absent keys stay cheap
    if attributes is None:
        return
    resource = span.resource.attributes if span.resource else {}

    def values() -> dict[str, Any]:
        return {**resource, **attributes}

    keys = gate.book.keys(values()) if gate.book is not None else []
    usd = gate.cost(attributes, priced)
    gate.charge(budgets, keys, usd, _gatekeeper.tokens_of(attributes), values, span.context, admitted=False)


def _own(span: ReadableSpan) -> bool:
    scope = span.instrumentation_scope
    return scope is not None and scope.name.startswith(OWN_SCOPE_PREFIX)
