"""Checks that run before a GenAI request leaves the process (spend budgets, pre-flight
estimates).

Every instrumentor calls :func:`before_request` once per call, after it has built the request
attributes (operation, provider, request model, ``gen_ai.request.max_tokens``...) and before it
starts the span or lets the SDK send anything. A check that refuses the call raises on purpose
(``wikitrace_otel.BudgetExceeded``): the instrumentor lets that exception reach the caller
unchanged and nothing is sent. Any other failure of a check is ours: it is reported and the
call goes ahead.

``prompt`` is a zero-argument callable returning the request's input (messages, prompt text,
embeddings input) in any JSON-serialisable shape; a check calls it only when it needs a size
estimate, so calls under no budget never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from wikitrace_otel._genai.errors import report_internal_error

Check = Callable[[Mapping[str, Any], Callable[[], Any] | None], None]


class RequestRefused(Exception):  # noqa: N818 - a refusal, not an error of ours
    """Base of the exceptions a check raises on purpose to stop a request before it is sent."""


# Replaced, never mutated: readers iterate a snapshot without a lock.
_checks: tuple[Check, ...] = ()


def before_request(attributes: Mapping[str, Any], prompt: Callable[[], Any] | None = None) -> None:
    """Run every registered check; raises :class:`RequestRefused` (a subclass) to refuse the call."""
    for check in _checks:
        try:
            check(attributes, prompt)
        except RequestRefused:
            raise
        except Exception as internal:  # noqa: BLE001 - a broken check never blocks the call
            report_internal_error(internal)


def add_check(check: Check) -> Callable[[], None]:
    """Register ``check``; returns a function that removes it again."""
    global _checks
    _checks = (*_checks, check)

    def remove() -> None:
        global _checks
        _checks = tuple(c for c in _checks if c is not check)

    return remove
