"""The budget gate: refuses calls of spent budgets before they are sent, and charges finished
calls to the budgets and rules they ran under."""

from __future__ import annotations

import collections
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import SpanContext

from wikitrace_otel._genai import gate
from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel.budgets import _alerting, _budget
from wikitrace_otel.budgets._budget import Budget, BudgetExceeded, active
from wikitrace_otel.budgets._rules import BudgetRule, RuleBook
from wikitrace_otel.pricing import PriceTable
from wikitrace_otel.processors.cost import PRICED_OPERATIONS, carried_cost, cost_attributes, cost_of, default_prices
from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import wikitrace as w
from wikitrace_otel.sessions import Session, _baggage_ids, current_session

_SETTLE_AT = 1024  # queued charges applied inline beyond this: the queue stays bounded
# Prompt size to tokens for pre-flight estimates: English text and JSON average about four
# characters per token with the common tokenizers; the estimate is only a bound for refusals.
_CHARS_PER_TOKEN = 4


@dataclass(frozen=True)
class Ticket:
    """What a call was admitted under: its budgets, its rule keys, and what alerts describe
    (the request attributes and the session at request time)."""

    budgets: tuple[Budget, ...]
    keys: list[tuple[int, str]]
    gate: BudgetGate
    attributes: Mapping[str, Any]
    session: Session | None

    def values(self) -> dict[str, Any]:
        return self.gate.call_values(self.attributes, self.session)


class BudgetGate:
    """The process's one gate (see :mod:`wikitrace_otel._genai.gate`)."""

    def __init__(self) -> None:
        self.book: RuleBook | None = None
        self.resource: Mapping[str, Any] = {}
        self.prices: PriceTable | None = None  # None: the shared table (genai-prices + WIKITRACE_PRICES)
        # Charges queued by BudgetSpanProcessor, applied by settle() before they matter.
        self._deferred: collections.deque[Callable[[], None]] = collections.deque()
        self._settling = threading.local()

    def defer(self, charge: Callable[[], None]) -> None:
        """Queue a charge; it is applied before the next request or budget read."""
        self._deferred.append(charge)
        if len(self._deferred) >= _SETTLE_AT:
            self.settle()

    def settle(self) -> None:
        """Apply the queued charges (any thread; each charge runs exactly once)."""
        deferred = self._deferred
        if not deferred or getattr(self._settling, "active", False):
            return  # nothing queued, or called from inside a charge being applied
        self._settling.active = True
        try:
            self._apply(deferred)
        finally:
            self._settling.active = False

    def _apply(self, deferred: collections.deque[Callable[[], None]]) -> None:
        while deferred:
            try:
                charge = deferred.popleft()
            except IndexError:  # another thread took the last one
                return
            try:
                charge()
            except Exception as internal:  # noqa: BLE001 - one bad span must not stop the others
                report_internal_error(internal)

    def price_table(self) -> PriceTable:
        """The prices calls are charged at."""
        return self.prices if self.prices is not None else default_prices()

    def cost(self, attributes: Mapping[str, Any], priced: tuple[bool, float | None] = (False, None)) -> float | None:
        """USD of a finished call: the cost its span carries, else one computed from its usage.

        Args:
            priced: ``(True, amount)`` when the span's local price with :meth:`price_table` is
                already known (a processor priced it), so it is not computed again.
        """
        carried = carried_cost(attributes)
        if carried is not None:
            return carried
        known, amount = priced
        return amount if known else cost_of(attributes, self.price_table())

    def before_request(self, attributes: Mapping[str, Any], prompt: gate.Prompt | None) -> Ticket | None:
        budgets = active.get()
        book = self.book
        if not budgets and book is None:
            return None
        if self._deferred:
            self.settle()
        state = current_session()
        keys = book.keys(self.call_values(attributes, state)) if book is not None else []
        if keys:
            assert book is not None
            book.admit(keys)
        worst = _worst_case(attributes, prompt, self.price_table()) if any(b.preflight for b in budgets) else None
        admitted: list[Budget] = []
        try:
            for budget in budgets:
                budget.admit(worst)
                admitted.append(budget)
        except BudgetExceeded:
            for budget in admitted:
                budget.release()
            raise
        return Ticket(budgets, keys, self, attributes, state)

    def after_response(
        self, ticket: object, attributes: Mapping[str, Any], span_context: SpanContext | None
    ) -> Mapping[str, Any] | None:
        assert isinstance(ticket, Ticket)
        added = self._cost_attributes(attributes)
        usd = added.get(w.GEN_AI_USAGE_COST_AMOUNT) if added else carried_cost(attributes)
        tokens = tokens_of(attributes)
        marks = self.charge(ticket.budgets, ticket.keys, usd, tokens, ticket.values, span_context, admitted=True)
        return {**added, **marks} if marks else added

    def cancel(self, ticket: object) -> None:
        assert isinstance(ticket, Ticket)
        for budget in ticket.budgets:
            budget.release()

    def charge(
        self,
        budgets: tuple[Budget, ...],
        keys: list[tuple[int, str]],
        usd: float | None,
        tokens: int,
        values: Callable[[], Mapping[str, Any]],
        span_context: SpanContext | None,
        *,
        admitted: bool,
    ) -> dict[str, Any]:
        """Charge one finished call; returns the budget marks for its span. ``values`` describes
        the call for alerts (called only when one fires)."""
        exceeded: str | None = None
        for budget in budgets:
            crossed, warned = budget.charge(usd, tokens, admitted=admitted)
            if crossed or warned:
                _alerting.budget_crossed(budget, crossed, values(), span_context)
            if budget.is_exceeded():
                exceeded = budget.name  # the innermost exceeded budget wins
        if keys and self.book is not None:
            crossings, over = self.book.charge(keys, usd or 0.0, tokens)
            for crossing in crossings:
                _alerting.rule_crossed(crossing, values(), span_context)
            exceeded = exceeded or over
        if exceeded is None:
            return {}
        return {w.WIKITRACE_BUDGET_EXCEEDED: True, w.WIKITRACE_BUDGET_NAME: exceeded}

    def _cost_attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        if attributes.get(g.GEN_AI_OPERATION_NAME) not in PRICED_OPERATIONS:
            return {}
        return cost_attributes(attributes, self.price_table())

    def call_values(self, attributes: Mapping[str, Any], state: Session | None) -> dict[str, Any]:
        """What rules are keyed on and alerts describe: request attributes, session, user, resource."""
        values: dict[str, Any] = {**self.resource, **attributes}
        if state is not None:
            values.update(state.attributes)
        else:
            session_id, user_id = _baggage_ids()
            if session_id is not None:
                values[w.SESSION_ID] = session_id
            if user_id is not None:
                values[w.USER_ID] = user_id
        return values

    def set_rules(self, rules: list[BudgetRule], resource: Mapping[str, Any]) -> RuleBook | None:
        """Replace the rules (an empty list removes them)."""
        self.resource = dict(resource)
        self.book = RuleBook(rules) if rules else None
        return self.book


_gate: BudgetGate | None = None
_gate_lock = threading.Lock()


def ensure_gate() -> BudgetGate:
    """The process's budget gate, installed on first use."""
    global _gate
    if _gate is None:
        with _gate_lock:
            if _gate is None:
                _gate = BudgetGate()
                gate.install_gate(_gate)
                _budget.settle_hook = _gate.settle
    elif gate.installed_gate() is not _gate:
        gate.install_gate(_gate)
    return _gate


def installed() -> BudgetGate | None:
    """The budget gate, or None while no budget was ever opened and no rule installed."""
    return _gate


def tokens_of(attributes: Mapping[str, Any]) -> int:
    """Input plus output tokens a span reports (0 when it reports none)."""
    total = 0
    for key in (g.GEN_AI_USAGE_INPUT_TOKENS, g.GEN_AI_USAGE_OUTPUT_TOKENS):
        value = attributes.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            total += value
    return total


def _worst_case(attributes: Mapping[str, Any], prompt: gate.Prompt | None, prices: PriceTable) -> float | None:
    """The most a call can cost: its prompt (estimated from its size) plus ``max_tokens`` of output.

    None when the model's price is unknown."""
    price = prices.lookup(
        attributes.get(g.GEN_AI_PROVIDER_NAME) or attributes.get(g.GEN_AI_SYSTEM),
        attributes.get(g.GEN_AI_REQUEST_MODEL),
    )
    if price is None:
        return None
    given = prompt() if prompt is not None else None
    size = len(given) if isinstance(given, str) else len(json.dumps(given, default=str)) if given else 0
    max_tokens = attributes.get(g.GEN_AI_REQUEST_MAX_TOKENS)
    output = max_tokens if isinstance(max_tokens, int) and max_tokens > 0 else 0
    return price.cost(size // _CHARS_PER_TOKEN, output)
