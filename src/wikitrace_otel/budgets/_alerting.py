"""Budget crossings as alerts (sent only when ``wikitrace_otel.alerts`` is enabled)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry.trace import SpanContext

from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import wikitrace as w

if TYPE_CHECKING:
    from wikitrace_otel.budgets._budget import Budget
    from wikitrace_otel.budgets._rules import Crossing


def budget_crossed(budget: Budget, exceeded: bool, values: Mapping[str, Any], span_context: SpanContext | None) -> None:
    """A ``with budget()`` crossed its limit (``exceeded``) or its warning line."""
    what = "exceeded" if exceeded else "warning"
    state = budget.describe()
    title = f"Budget {budget.name!r} {'exceeded' if exceeded else 'nearly spent'}: {_amount(state)}"
    # Budget names repeat across blocks (a loop opening budget(name="step")): the key includes
    # the object identity so each block alerts once.
    _publish(what, title, state, values, span_context, key=f"budget.{what}:{budget.name}:{id(budget)}")


def rule_crossed(crossing: Crossing, values: Mapping[str, Any], span_context: SpanContext | None) -> None:
    """A budget rule's key crossed its limit or warning line."""
    rule = crossing.rule
    state = {
        "rule": rule.label,
        "per": rule.per,
        "key": crossing.key,
        "window": rule.window,
        "spent_usd": crossing.spent,
        "limit_usd": rule.usd,
        "tokens": crossing.tokens,
        "limit_tokens": rule.tokens,
    }
    what = "exceeded" if crossing.exceeded else "warning"
    who = f" for {rule.per}={crossing.key}" if rule.per else ""
    title = f"Budget rule {rule.label!r}{who} {'exceeded' if crossing.exceeded else 'nearly spent'}: {_amount(state)}"
    _publish(what, title, state, values, span_context, key=f"rule.{what}:{rule.label}:{crossing.key}")


def _amount(state: Mapping[str, Any]) -> str:
    parts = []
    if state.get("limit_usd") is not None:
        parts.append(f"${state['spent_usd']:.4f} of ${state['limit_usd']:.4f}")
    if state.get("limit_tokens") is not None:
        parts.append(f"{state['tokens']} of {state['limit_tokens']} tokens")
    return ", ".join(parts)


def _publish(
    what: str,
    title: str,
    state: dict[str, Any],
    values: Mapping[str, Any],
    span_context: SpanContext | None,
    *,
    key: str,
) -> None:
    from wikitrace_otel import alerts

    if not alerts.enabled():
        return
    alerts.publish(
        alerts.Alert(
            kind=f"budget.{what}",
            title=title,
            severity="critical" if what == "exceeded" else "warning",
            details=state,
            service=_text(values.get("service.name")),
            user=_text(values.get(w.USER_ID)),
            session=_text(values.get(w.SESSION_ID)),
            model=_text(values.get(g.GEN_AI_RESPONSE_MODEL) or values.get(g.GEN_AI_REQUEST_MODEL)),
            trace_id=f"{span_context.trace_id:032x}" if span_context is not None and span_context.is_valid else None,
            key=key,
        )
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
