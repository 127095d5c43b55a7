"""Spend budgets, enforced in the process before the next request is sent.

In code::

    import wikitrace_otel

    with wikitrace_otel.budget(usd=0.50, name="summarise") as b:     # also ``async with``
        for doc in docs:
            wikitrace_otel.budget_check()        # stop between iterations once spent
            client.chat.completions.create(...)
    print(b.spent, b.remaining, b.calls, b.exceeded)

The cost of every GenAI call whose span ends inside the block is charged to the innermost
budget and every enclosing one: calls made in this thread, in asyncio tasks created inside the
block, and in threads that inherited its context (``asyncio.to_thread``,
``wikitrace_otel.sessions.context_submit``; plain ``executor.submit`` does not carry it). Cost
comes from the span's usage and the price table (:mod:`wikitrace_otel.pricing`); a call with an
unknown price adds no dollars but still counts its tokens and itself.

When a limit is reached (``usd=`` dollars, ``tokens=`` input + output tokens, or both):

- ``on_exceed="raise"`` (default): the call that crossed the limit returns normally (it has been
  paid for) and its span gets ``wikitrace.budget.exceeded=true`` and ``wikitrace.budget.name``;
  every later LLM call in the block raises :class:`BudgetExceeded` before any request leaves
  the process. Calls already in flight when the limit was crossed complete and are charged: a
  budget can be overspent by at most those calls.
- ``"warn"``: one :class:`BudgetWarning` and one log record per budget; calls go on.
- ``"silent"``: only recorded.

``preflight=True`` also refuses a call whose worst case (its prompt, estimated at four
characters per token, plus ``max_tokens`` of output, at the model's prices) exceeds what is
left; calls without ``max_tokens`` are estimated on their prompt alone.

By rule, for every call of the process::

    wikitrace_otel.install(budgets=[
        wikitrace_otel.BudgetRule(usd=5.0, per="user.id", window="1d"),
        wikitrace_otel.BudgetRule(usd=200.0, per=None, window="30d", on_exceed="warn"),
    ])

A rule keeps its limit per value of ``per`` (a user, a session, a service, any request
attribute or session property) over a rolling window (``"1h"``, ``"1d"``, ``"30d"``) or in
total (``window=None``). Calls made for a user whose limit is spent raise
:class:`BudgetExceeded` before sending (with ``on_exceed="raise"``).

**Limits are per process.** Spend is kept in memory; when ``install()`` writes to the local
store, rule spend is rebuilt from the store at start-up (this service's calls within the longest
window), so restarts do not reset it. Several processes each enforce their own limit: to share
one limit across N workers, give each ``1/N`` of it, or route the calls through a single
process. Calls are refused only on the way through a wikitrace-otel instrumentor; GenAI spans
of other instrumentations are charged (see :class:`BudgetSpanProcessor`) but cannot be stopped
before they are sent.

Outside a budget, :func:`current_cost` and :func:`budget_remaining` return None and
:func:`budget_check` does nothing. Alerts on crossings: :mod:`wikitrace_otel.alerts`.
"""

from __future__ import annotations

from wikitrace_otel.budgets._budget import Budget, BudgetExceeded, BudgetWarning, OnExceed, active
from wikitrace_otel.budgets._gatekeeper import ensure_gate
from wikitrace_otel.budgets._processor import BudgetSpanProcessor
from wikitrace_otel.budgets._rules import BudgetRule
from wikitrace_otel.pricing import Overrides, PriceTable

__all__ = [
    "Budget",
    "BudgetExceeded",
    "BudgetRule",
    "BudgetSpanProcessor",
    "BudgetWarning",
    "budget",
    "budget_check",
    "budget_remaining",
    "current_budget",
    "current_cost",
    "use_prices",
]


def budget(
    usd: float | None = None,
    *,
    tokens: int | None = None,
    name: str | None = None,
    on_exceed: OnExceed = "raise",
    preflight: bool = False,
    warn_at: float | None = 0.8,
) -> Budget:
    """A spend limit for a ``with`` / ``async with`` block (see the module docs).

    Args:
        usd: dollar limit.
        tokens: token limit (input + output tokens), instead of or as well as ``usd``.
        name: shown in errors, span attributes and alerts (default ``budget-N``).
        on_exceed: ``"raise"``, ``"warn"`` or ``"silent"``.
        preflight: refuse calls whose worst-case cost exceeds what is left.
        warn_at: fraction of a limit that sends a ``budget.warning`` alert; None for none.

    Returns:
        The :class:`Budget`; entering it makes it active, and ``with ... as b`` gives it back.

    Raises:
        ValueError: no limit, a negative or non-finite limit, or an unknown ``on_exceed``.
    """
    ensure_gate()
    return Budget(usd, tokens=tokens, name=name, on_exceed=on_exceed, preflight=preflight, warn_at=warn_at)


def use_prices(prices: PriceTable | Overrides | None) -> None:
    """Set the prices budgets charge at: a :class:`~wikitrace_otel.pricing.PriceTable`, or
    overrides for a new one (a dict, or a JSON/TOML file path). None goes back to the shared
    table (genai-prices plus ``WIKITRACE_PRICES``). ``install(prices=...)`` calls this for you.

    Raises:
        ValueError: malformed overrides.
    """
    ensure_gate().prices = prices if prices is None or isinstance(prices, PriceTable) else PriceTable(prices)


def current_budget() -> Budget | None:
    """The innermost active budget, or None."""
    budgets = active.get()
    return budgets[-1] if budgets else None


def current_cost() -> float | None:
    """USD charged to the innermost active budget so far, or None outside a budget."""
    innermost = current_budget()
    return innermost.spent if innermost is not None else None


def budget_remaining() -> float | None:
    """USD left in the innermost active budget, or None (outside a budget, or no dollar limit)."""
    innermost = current_budget()
    return innermost.remaining if innermost is not None else None


def budget_check() -> None:
    """Raise :class:`BudgetExceeded` if an active ``"raise"`` budget is spent (the innermost
    first); does nothing outside a budget. Lets a loop stop between iterations."""
    for active_budget in reversed(active.get()):
        active_budget.check()
