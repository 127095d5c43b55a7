"""Span processors that add wikitrace-otel's own attributes to spans.

- :class:`SessionSpanProcessor`: stamps the active session (``wikitrace_otel.session``) on every span.
- :class:`CostSpanProcessor`: the ``gen_ai.client.operation.cost`` histogram for every priced GenAI
  span (and the cost attributes, on SDKs that let a processor write to an ending span).
- :class:`CostEnrichingProcessor`: wraps an exporting processor so exported GenAI spans carry
  their cost, whoever emitted them.

Add them to your ``TracerProvider`` with ``provider.add_span_processor(...)``.
"""

from __future__ import annotations

from wikitrace_otel.processors.cost import CostSpanProcessor, cost_attributes
from wikitrace_otel.processors.enrich import CostEnrichingProcessor
from wikitrace_otel.processors.session import SessionSpanProcessor

__all__ = ["CostEnrichingProcessor", "CostSpanProcessor", "SessionSpanProcessor", "cost_attributes"]
