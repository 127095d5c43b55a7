"""The gate every traced GenAI call passes: before its request leaves the process, and again
when its response is in (spend budgets, pre-flight estimates).

Instrumentors call :func:`before_request` once per call, after building the request attributes
(operation, provider, request model, ``gen_ai.request.max_tokens``...) and before starting the
span or letting the SDK send anything, and hand what it returns (a *ticket*, often None) to
:class:`~wikitrace_otel._genai.invocation.Invocation`, which calls :func:`after_response` with
the call's final attributes just before the span ends and sets the attributes it returns.

A gate that refuses a call raises a :class:`RequestRefused` subclass on purpose
(``wikitrace_otel.BudgetExceeded``): instrumentors let it reach the caller unchanged and
nothing is sent. Any other failure of a gate is ours: it is reported and the call goes ahead.

``prompt`` is a zero-argument callable returning the request's input (messages, prompt text,
embeddings input) in any JSON-serialisable shape; a gate calls it only when it needs a size
estimate, so calls under no budget never pay for it.

With no gate installed (no budget ever opened, no budget rule), both functions cost one global
read. Call paths that would have to build a ``prompt`` callable first test ``gate._gate is
None`` themselves, so a call outside any budget allocates nothing for the gate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from opentelemetry.trace import SpanContext

from wikitrace_otel._genai.errors import report_internal_error

Prompt = Callable[[], Any]


class RequestRefused(Exception):  # noqa: N818 - a refusal, not an error of ours
    """Base of the exceptions a gate raises on purpose to stop a request before it is sent."""


class Gate(Protocol):
    """What :func:`install_gate` accepts."""

    def before_request(self, attributes: Mapping[str, Any], prompt: Prompt | None) -> object | None:
        """Refuse the call (raise :class:`RequestRefused`) or return a ticket for :meth:`after_response`."""

    def after_response(
        self, ticket: object, attributes: Mapping[str, Any], span_context: SpanContext | None
    ) -> Mapping[str, Any] | None:
        """Account for the finished call; returns attributes to add to its span, if any."""

    def cancel(self, ticket: object) -> None:
        """Forget an admitted call that another instrumentor accounts for (it took its own ticket)."""


_gate: Gate | None = None


def before_request(attributes: Mapping[str, Any], prompt: Prompt | None = None) -> object | None:
    """Ask the installed gate; returns its ticket (None without a gate). Raises only :class:`RequestRefused`."""
    gate = _gate
    if gate is None:
        return None
    try:
        return gate.before_request(attributes, prompt)
    except RequestRefused:
        raise
    except Exception as internal:  # noqa: BLE001 - a broken gate never blocks the call
        report_internal_error(internal)
        return None


def after_response(
    ticket: object | None, attributes: Mapping[str, Any], span_context: SpanContext | None = None
) -> Mapping[str, Any] | None:
    """Hand a finished call (its final attributes, its span's context) back to the gate that
    issued ``ticket``; never raises."""
    gate = _gate
    if ticket is None or gate is None:
        return None
    try:
        return gate.after_response(ticket, attributes, span_context)
    except Exception as internal:  # noqa: BLE001
        report_internal_error(internal)
        return None


def cancel(ticket: object | None) -> None:
    """Give back a ticket whose call will never reach :func:`after_response` under it (a
    framework's call that a provider instrumentor traced and charged itself); never raises."""
    gate = _gate
    if ticket is None or gate is None:
        return
    try:
        gate.cancel(ticket)
    except Exception as internal:  # noqa: BLE001
        report_internal_error(internal)


def install_gate(gate: Gate | None) -> None:
    """Install the process-wide gate (None removes it)."""
    global _gate
    _gate = gate


def installed_gate() -> Gate | None:
    """The installed gate, or None."""
    return _gate
