"""Budgets in code: ``with budget(usd=0.50):`` and what it counts."""

from __future__ import annotations

import contextvars
import itertools
import logging
import math
import threading
import warnings
from collections.abc import Callable
from typing import Any, Literal

from wikitrace_otel._genai.gate import RequestRefused

_logger = logging.getLogger("wikitrace_otel.budgets")

OnExceed = Literal["raise", "warn", "silent"]
ON_EXCEED: tuple[str, ...] = ("raise", "warn", "silent")

_names = itertools.count(1)


class BudgetExceeded(RequestRefused):
    """A call was refused before it was sent: a budget with ``on_exceed="raise"`` is spent.

    Attributes:
        name: the budget's (or rule's) name.
        spent: USD spent so far (under a rule: in its current window, for this key).
        limit: the USD limit, or None when only tokens are capped.
        tokens: tokens used so far.
        token_limit: the token limit, or None.
        key: for a rule, the value it is kept per (a user id...); None for a ``with budget()``.
    """

    def __init__(
        self,
        name: str,
        *,
        spent: float,
        limit: float | None,
        tokens: int,
        token_limit: int | None,
        key: str | None = None,
        reason: str = "spent",
    ) -> None:
        self.name, self.spent, self.limit = name, spent, limit
        self.tokens, self.token_limit, self.key = tokens, token_limit, key
        limits = []
        if limit is not None:
            limits.append(f"${spent:.4f} of ${limit:.4f}")
        if token_limit is not None:
            limits.append(f"{tokens} of {token_limit} tokens")
        who = f" for {key!r}" if key is not None else ""
        what = "would exceed" if reason == "preflight" else "exceeded"
        super().__init__(f"budget {name!r}{who} {what}: {', '.join(limits)}; the request was not sent")


class BudgetWarning(UserWarning):
    """Issued once per budget (``on_exceed="warn"``) when its limit is crossed."""


def validate_limits(usd: float | None, tokens: int | None, on_exceed: str, warn_at: float | None) -> None:
    """Raise ValueError for limits or options no budget can have."""
    if usd is None and tokens is None:
        raise ValueError("a budget needs a limit: usd=..., tokens=..., or both")
    if usd is not None and (isinstance(usd, bool) or not isinstance(usd, (int, float)) or not math.isfinite(usd)):
        raise ValueError(f"usd={usd!r}: expected a finite number of dollars")
    if usd is not None and usd < 0:
        raise ValueError(f"usd={usd!r}: a limit cannot be negative")
    if tokens is not None and (isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0):
        raise ValueError(f"tokens={tokens!r}: expected a non-negative whole number")
    if on_exceed not in ON_EXCEED:
        raise ValueError(f"on_exceed={on_exceed!r}: expected one of {', '.join(ON_EXCEED)}")
    if warn_at is not None and not (isinstance(warn_at, (int, float)) and 0 < warn_at < 1):
        raise ValueError(f"warn_at={warn_at!r}: expected a fraction between 0 and 1 (e.g. 0.8), or None")


UNITS_PER_USD = 10**12


def to_units(usd: float | None) -> int:
    """Dollars as whole pico-dollars, the unit spend is summed in."""
    return round(usd * UNITS_PER_USD) if usd else 0


class Tally:
    """Dollars, tokens and calls charged against one limit, with the crossing bookkeeping
    shared by :class:`Budget` and the per-key state of budget rules. Callers hold the lock.

    Dollars are summed as whole pico-dollars (``units``), so a thousand charges of $0.001 come
    to exactly $1 rather than drifting in the last digits, as a float sum would."""

    __slots__ = ("usd", "tokens", "units", "used_tokens", "calls", "exceeded", "warned")

    def __init__(self, usd: float | None, tokens: int | None) -> None:
        self.usd, self.tokens = usd, tokens
        self.units = 0
        self.used_tokens = 0
        self.calls = 0
        self.exceeded = False
        self.warned = False

    @property
    def spent(self) -> float:
        """Dollars charged so far."""
        return self.units / UNITS_PER_USD

    def over(self, spent: float, used_tokens: int) -> bool:
        """True when these amounts reach a limit."""
        return (self.usd is not None and spent >= self.usd) or (self.tokens is not None and used_tokens >= self.tokens)

    def fraction(self, spent: float, used_tokens: int) -> float:
        """The larger of the used fractions of the limits."""
        parts = []
        if self.usd:
            parts.append(spent / self.usd)
        if self.tokens:
            parts.append(used_tokens / self.tokens)
        return max(parts, default=1.0)


class Budget:
    """A spend limit for the code inside a ``with`` (or ``async with``) block.

    Create it with :func:`wikitrace_otel.budget`. Every GenAI call whose span ends inside the
    block, in this thread or in threads and tasks that inherited its context, is charged to this
    budget and every enclosing one.

    Attributes:
        name: the budget's name (given, or ``budget-N``).
        usd: the dollar limit, or None.
        tokens: the token limit (input + output tokens), or None.
        on_exceed: ``"raise"``, ``"warn"`` or ``"silent"``.
        preflight: refuse calls whose worst-case cost exceeds what is left.
        warn_at: fraction of a limit that fires a warning alert (None: no warning alert).
    """

    def __init__(
        self,
        usd: float | None = None,
        *,
        tokens: int | None = None,
        name: str | None = None,
        on_exceed: OnExceed = "raise",
        preflight: bool = False,
        warn_at: float | None = 0.8,
    ) -> None:
        validate_limits(usd, tokens, on_exceed, warn_at)
        self.name = name or f"budget-{next(_names)}"
        self.usd = float(usd) if usd is not None else None
        self.tokens = tokens
        self.on_exceed: OnExceed = on_exceed
        self.preflight = preflight
        self.warn_at = warn_at
        self.in_flight = 0
        self._tally = Tally(self.usd, tokens)
        self._lock = threading.Lock()
        self._token: contextvars.Token[tuple[Budget, ...]] | None = None

    @property
    def spent(self) -> float:
        """USD charged so far (calls with an unknown price add nothing)."""
        return self._settled().spent

    @property
    def tokens_used(self) -> int:
        """Input plus output tokens charged so far."""
        return self._settled().used_tokens

    @property
    def calls(self) -> int:
        """Number of GenAI calls charged (failed ones included)."""
        return self._settled().calls

    @property
    def exceeded(self) -> bool:
        """True once a limit has been reached."""
        return self._settled().exceeded

    @property
    def remaining(self) -> float | None:
        """USD left before the limit (never negative); None without a dollar limit."""
        return None if self.usd is None else max(0.0, self.usd - self._settled().spent)

    @property
    def remaining_tokens(self) -> int | None:
        """Tokens left before the token limit (never negative); None without one."""
        return None if self.tokens is None else max(0, self.tokens - self._settled().used_tokens)

    def is_exceeded(self) -> bool:
        """:attr:`exceeded` as charged so far, without applying queued charges (for the gate)."""
        return self._tally.exceeded

    def _settled(self) -> Tally:
        settle_hook()  # spans of other instrumentations queued for charging count first
        return self._tally

    def check(self) -> None:
        """Raise :class:`BudgetExceeded` if this budget is spent and set to ``"raise"``."""
        if self._settled().exceeded and self.on_exceed == "raise":
            raise self._refusal()

    def _refusal(self, reason: str = "spent") -> BudgetExceeded:
        tally = self._tally
        return BudgetExceeded(
            self.name,
            spent=tally.spent,
            limit=self.usd,
            tokens=tally.used_tokens,
            token_limit=self.tokens,
            reason=reason,
        )

    def admit(self, worst_case_usd: float | None) -> None:
        """Refuse (raise) or count a call about to be sent."""
        with self._lock:
            if self.on_exceed == "raise":
                if self._tally.exceeded:
                    raise self._refusal()
                if self._preflight_refuses(worst_case_usd):
                    raise self._refusal("preflight")
            self.in_flight += 1

    def _preflight_refuses(self, worst_case_usd: float | None) -> bool:
        if not self.preflight or worst_case_usd is None or self.usd is None:
            return False
        return self._tally.spent + worst_case_usd > self.usd

    def release(self) -> None:
        """Undo :meth:`admit` for a call that was refused by another budget after all."""
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)

    def charge(self, usd: float | None, tokens: int, *, admitted: bool) -> tuple[bool, bool]:
        """Add a finished call. Returns (this call crossed the limit, this call crossed the warning line)."""
        with self._lock:
            if admitted and self.in_flight > 0:
                self.in_flight -= 1
            tally = self._tally
            tally.calls += 1
            tally.units += to_units(usd)
            tally.used_tokens += tokens
            crossed = not tally.exceeded and tally.over(tally.spent, tally.used_tokens)
            if crossed:
                tally.exceeded = True
            warned = (
                not tally.warned
                and self.warn_at is not None
                and not crossed
                and tally.fraction(tally.spent, tally.used_tokens) >= self.warn_at
            )
            if warned or crossed:
                tally.warned = True
        if crossed:
            self._announce()
        return crossed, warned

    def _announce(self) -> None:
        if self.on_exceed == "silent":
            return
        message = str(self._refusal()).replace("; the request was not sent", "")
        if self.on_exceed == "warn":
            _logger.warning("wikitrace-otel: %s", message)
            warnings.warn(message, BudgetWarning, stacklevel=2)
        else:
            _logger.warning("wikitrace-otel: %s; later calls in its block raise BudgetExceeded", message)

    def __enter__(self) -> Budget:
        from wikitrace_otel.budgets._gatekeeper import ensure_gate

        if self._token is not None:
            raise RuntimeError(f"budget {self.name!r} is already active; create a new budget() for each block")
        ensure_gate()
        self._token = active.set((*active.get(), self))
        return self

    def __exit__(self, *exc_info: object) -> None:
        token, self._token = self._token, None
        if token is not None:
            try:
                active.reset(token)
            except ValueError:  # left in another context (a generator): drop just this budget
                active.set(tuple(b for b in active.get() if b is not self))

    async def __aenter__(self) -> Budget:
        return self.__enter__()

    async def __aexit__(self, *exc_info: object) -> None:
        self.__exit__(*exc_info)

    def __repr__(self) -> str:
        return (
            f"Budget(name={self.name!r}, usd={self.usd}, tokens={self.tokens}, spent={self.spent:.6f}, "
            f"calls={self.calls}, exceeded={self.exceeded})"
        )

    def describe(self) -> dict[str, Any]:
        """The budget's state, for alerts and logs."""
        tally = self._tally  # as charged so far: called while charges are being applied
        return {
            "name": self.name,
            "spent_usd": tally.spent,
            "limit_usd": self.usd,
            "tokens": tally.used_tokens,
            "limit_tokens": self.tokens,
            "calls": tally.calls,
        }


def _nothing_to_settle() -> None:
    return None


# Set by the budget gate when it is created: applies charges queued by BudgetSpanProcessor.
settle_hook: Callable[[], None] = _nothing_to_settle

# Innermost budget last; threads and tasks that copy the context share the same Budget objects.
active: contextvars.ContextVar[tuple[Budget, ...]] = contextvars.ContextVar("wikitrace_budgets", default=())
