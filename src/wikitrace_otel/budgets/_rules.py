"""Budgets by rule: a limit per user, per session, per service or per any attribute, over a
rolling window or in total, kept in memory."""

from __future__ import annotations

import collections
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from wikitrace_otel._rolling import RollingSums
from wikitrace_otel.budgets._budget import BudgetExceeded, OnExceed, Tally, to_units, validate_limits

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# A rolling window is kept as this many buckets: memory per key is bounded whatever the rate
# of calls, at the price of the window's edge moving in steps of window/_BUCKETS.
_BUCKETS = 60
MAX_KEYS_PER_RULE = 100_000


def parse_window(window: str | float | timedelta | None) -> float | None:
    """Seconds of a window given as ``"90s"``, ``"30m"``, ``"1h"``, ``"1d"``, ``"2w"``, a
    ``timedelta`` or seconds; None means no window (a fixed total)."""
    if window is None:
        return None
    if isinstance(window, timedelta):
        seconds = window.total_seconds()
    elif isinstance(window, (int, float)) and not isinstance(window, bool):
        seconds = float(window)
    elif isinstance(window, str) and (match := _DURATION.match(window)):
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    else:
        raise ValueError(f"window={window!r}: expected a duration such as '1h', '1d' or '30d', seconds, or None")
    if seconds <= 0:
        raise ValueError(f"window={window!r}: must be longer than zero")
    return seconds


@dataclass(frozen=True)
class BudgetRule:
    """A spend limit kept per value of an attribute, for ``install(budgets=[...])``.

    Args:
        usd: dollar limit per key and window.
        tokens: token limit (input + output) per key and window.
        per: what the limit is kept per: ``"user.id"`` and ``"session.id"`` (from
            :func:`wikitrace_otel.session`), ``"service.name"`` (the resource), a request
            attribute (``"gen_ai.request.model"``, ``"gen_ai.provider.name"``), a session
            property (``"wikitrace.property.plan"``), or None for one limit for the whole
            process. A call without a value for ``per`` is not limited by the rule.
        window: ``"1h"``, ``"1d"``, ``"30d"`` (rolling), or None for a total since start-up.
        on_exceed: ``"raise"`` (refuse further calls for that key with
            :class:`BudgetExceeded`), ``"warn"`` or ``"silent"``.
        name: shown in errors and alerts (default: derived from the limits).
        warn_at: fraction of the limit that fires a warning alert, or None.
    """

    usd: float | None = None
    tokens: int | None = None
    per: str | None = "user.id"
    window: str | float | timedelta | None = "1d"
    on_exceed: OnExceed = "raise"
    name: str | None = None
    warn_at: float | None = 0.8
    seconds: float | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        validate_limits(self.usd, self.tokens, self.on_exceed, self.warn_at)
        if self.per is not None and (not isinstance(self.per, str) or not self.per):
            raise ValueError(f"per={self.per!r}: expected an attribute name or None")
        object.__setattr__(self, "seconds", parse_window(self.window))

    @property
    def label(self) -> str:
        """The rule's name, or one made from its limits."""
        if self.name:
            return self.name
        limits = [f"${self.usd:g}" if self.usd is not None else "", f"{self.tokens} tokens" if self.tokens else ""]
        window = f"/{self.window}" if self.window is not None else " total"
        per = f" per {self.per}" if self.per else ""
        return f"{' + '.join(x for x in limits if x)}{window}{per}"


class _Spend:
    """One key's spend under one rule: a rolling window, or a running total."""

    __slots__ = ("tally", "window")

    def __init__(self, rule: BudgetRule) -> None:
        self.tally = Tally(rule.usd, rule.tokens)
        self.window = RollingSums(rule.seconds, _BUCKETS) if rule.seconds else None

    def roll(self, now: float) -> None:
        """Forget spend that left the window; a key back under its limit may cross again."""
        window, tally = self.window, self.tally
        if window is None:
            return
        window.roll(now)
        tally.units, tally.used_tokens = round(window.first), round(window.second)
        if tally.exceeded and not tally.over(tally.spent, tally.used_tokens):
            tally.exceeded = tally.warned = False

    def add(self, usd: float, tokens: int, at: float) -> None:
        tally = self.tally
        tally.calls += 1
        if self.window is None:
            tally.units += to_units(usd)
            tally.used_tokens += tokens
            return
        self.window.add(to_units(usd), tokens, at)
        tally.units, tally.used_tokens = round(self.window.first), round(self.window.second)


@dataclass
class Crossing:
    """A rule's key that a call pushed over its limit or warning line."""

    rule: BudgetRule
    key: str
    spent: float
    tokens: int
    exceeded: bool


class RuleBook:
    """The state of every rule, per key, with a lock per book (calls are short)."""

    def __init__(self, rules: list[BudgetRule]) -> None:
        self.rules = rules
        self._spend: list[collections.OrderedDict[str, _Spend]] = [collections.OrderedDict() for _ in rules]
        self._lock = threading.Lock()
        self.evicted_keys = 0

    def keys(self, values: Mapping[str, Any]) -> list[tuple[int, str]]:
        """The (rule index, key) pairs a call with these attribute values falls under."""
        found = []
        for index, rule in enumerate(self.rules):
            if rule.per is None:
                found.append((index, "*"))
                continue
            value = values.get(rule.per)
            if value is not None and value != "":
                found.append((index, str(value)))
        return found

    def admit(self, keys: list[tuple[int, str]], now: float | None = None) -> None:
        """Raise :class:`BudgetExceeded` if a ``"raise"`` rule's key is spent."""
        now = time.time() if now is None else now
        with self._lock:
            for index, key in keys:
                rule = self.rules[index]
                spend = self._spend[index].get(key)
                if spend is None or rule.on_exceed != "raise":
                    continue
                spend.roll(now)
                if spend.tally.exceeded:
                    raise BudgetExceeded(
                        rule.label,
                        spent=spend.tally.spent,
                        limit=rule.usd,
                        tokens=spend.tally.used_tokens,
                        token_limit=rule.tokens,
                        key=key,
                    )

    def charge(
        self, keys: list[tuple[int, str]], usd: float, tokens: int, at: float | None = None
    ) -> tuple[list[Crossing], str | None]:
        """Add a finished call at time ``at`` (now by default). Returns the crossings it caused,
        and the label of the first rule whose key is now over its limit (None if none is)."""
        at = time.time() if at is None else at
        crossings = []
        over: str | None = None
        with self._lock:
            for index, key in keys:
                rule = self.rules[index]
                spend = self._state(index, key)
                spend.roll(max(at, time.time()))
                if rule.seconds is not None and at < time.time() - rule.seconds:
                    continue  # restored spend older than the window
                spend.add(usd, tokens, at)
                crossing = self._crossing(rule, key, spend)
                if crossing is not None:
                    crossings.append(crossing)
                if over is None and spend.tally.exceeded:
                    over = rule.label
        return crossings, over

    def _crossing(self, rule: BudgetRule, key: str, spend: _Spend) -> Crossing | None:
        tally = spend.tally
        if not tally.exceeded and tally.over(tally.spent, tally.used_tokens):
            tally.exceeded = tally.warned = True
            return Crossing(rule, key, tally.spent, tally.used_tokens, exceeded=True)
        if (
            not tally.warned
            and rule.warn_at is not None
            and tally.fraction(tally.spent, tally.used_tokens) >= rule.warn_at
        ):
            tally.warned = True
            return Crossing(rule, key, tally.spent, tally.used_tokens, exceeded=False)
        return None

    def _state(self, index: int, key: str) -> _Spend:
        states = self._spend[index]
        spend = states.get(key)
        if spend is None:
            if len(states) >= MAX_KEYS_PER_RULE:
                states.popitem(last=False)  # the least recently charged key
                self.evicted_keys += 1
            spend = states[key] = _Spend(self.rules[index])
        else:
            states.move_to_end(key)
        return spend

    def spent(self, rule_index: int, key: str, now: float | None = None) -> tuple[float, int]:
        """USD and tokens spent by one key in the window ending ``now`` (default: the current time)."""
        with self._lock:
            spend = self._spend[rule_index].get(key)
            if spend is None:
                return 0.0, 0
            spend.roll(time.time() if now is None else now)
            return spend.tally.spent, spend.tally.used_tokens
