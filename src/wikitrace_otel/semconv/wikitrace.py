"""Attributes that are decisions of this project (see ../shared/SEMCONV.md).

Cost follows the GenAI proposal for ``gen_ai.usage.cost.*``; session and user use the core
registry names ``session.id`` and ``user.id``.
"""

from __future__ import annotations

from typing import Final

GEN_AI_USAGE_COST_AMOUNT: Final = "gen_ai.usage.cost.amount"
"""Cost of the call (double); absent when the price is unknown, never 0 for unknown."""
GEN_AI_USAGE_COST_CURRENCY: Final = "gen_ai.usage.cost.currency"
"""Currency of the cost, ``USD``."""
GEN_AI_USAGE_COST_SOURCE: Final = "gen_ai.usage.cost.source"
"""``local`` (computed here) or ``provider`` (the response carried it)."""
GEN_AI_USAGE_COST: Final = "gen_ai.usage.cost"
"""Same amount under the older name some backends read."""
SESSION_ID: Final = "session.id"
"""Session the call belongs to."""
USER_ID: Final = "user.id"
"""User on whose behalf the call was made."""
WIKITRACE_TAGS: Final = "wikitrace.tags"
"""Session tags (string[])."""
WIKITRACE_PROPERTY_PREFIX: Final = "wikitrace.property."
"""Prefix of custom properties: ``wikitrace.property.<key>``."""
WIKITRACE_SESSION_SEGMENT: Final = "wikitrace.session.segment"
"""Segment number, bumped by ``session_reset()``."""
WIKITRACE_CONTENT_TRUNCATED: Final = "wikitrace.content.truncated"
"""True when a captured content attribute was shortened to fit the size cap."""
WIKITRACE_FUNCTION_ARGUMENTS: Final = "wikitrace.function.arguments"
"""Arguments of a decorated function (JSON; content capture only)."""
WIKITRACE_FUNCTION_RESULT: Final = "wikitrace.function.result"
"""Return value of a decorated function (JSON; content capture only)."""
WIKITRACE_BUDGET_EXCEEDED: Final = "wikitrace.budget.exceeded"
"""True on the span of a call that ended with a spend budget over its limit."""
WIKITRACE_BUDGET_NAME: Final = "wikitrace.budget.name"
"""Name of the budget that :data:`WIKITRACE_BUDGET_EXCEEDED` refers to."""
