"""wikitrace-otel: OpenTelemetry-native instrumentation for LLM applications.

One line sets up everything::

    import wikitrace_otel
    wikitrace_otel.install()

Every LLM call of the installed provider SDKs then becomes a GenAI-convention span with
tokens, cost, session and user, stored in ``./.wikitrace/`` (OTLP JSON Lines) or exported
wherever ``OTEL_EXPORTER_OTLP_*`` / ``exporter=`` says. Importing this package imports no
provider SDK.

- :func:`install`, :class:`Installation`: the pipeline.
- :func:`session`, :func:`session_reset`, :func:`set_session`, :func:`clear_session`,
  :func:`current_session`: who a call is for (``session.id``, ``user.id``, tags).
- :func:`budget`, :class:`BudgetRule`, :func:`budget_check`, :func:`current_cost`,
  :func:`budget_remaining`, :class:`BudgetExceeded`: spend limits enforced before a request is
  sent (:mod:`wikitrace_otel.budgets`); alerts in :mod:`wikitrace_otel.alerts`.
- :func:`model_call`: one inference span per model call when a framework integration and a
  provider instrumentor both see it (:mod:`wikitrace_otel._genai.claims`).
- :func:`trace`, :func:`tool`, :func:`agent`, :func:`retrieval`, :func:`workflow`,
  :func:`span`, :func:`tool_call_id`: spans for your own steps.
- :mod:`wikitrace_otel.instrumentors`, :mod:`wikitrace_otel.processors`,
  :mod:`wikitrace_otel.exporters`, :mod:`wikitrace_otel.store`: the parts, for use on their own.
"""

from __future__ import annotations

from wikitrace_otel._genai.claims import ModelCall, close_model_call, model_call, open_model_call
from wikitrace_otel._install import Installation, install
from wikitrace_otel.budgets import (
    Budget,
    BudgetExceeded,
    BudgetRule,
    BudgetWarning,
    budget,
    budget_check,
    budget_remaining,
    current_cost,
)
from wikitrace_otel.decorators import agent, retrieval, span, tool, tool_call_id, trace, workflow
from wikitrace_otel.sessions import Session, clear_session, current_session, session, session_reset, set_session
from wikitrace_otel.version import __version__

__all__ = [
    "Budget",
    "BudgetExceeded",
    "BudgetRule",
    "BudgetWarning",
    "Installation",
    "ModelCall",
    "Session",
    "__version__",
    "agent",
    "budget",
    "budget_check",
    "budget_remaining",
    "clear_session",
    "close_model_call",
    "current_cost",
    "current_session",
    "install",
    "model_call",
    "open_model_call",
    "retrieval",
    "session",
    "session_reset",
    "set_session",
    "span",
    "tool",
    "tool_call_id",
    "trace",
    "workflow",
]
