"""Cost on exported spans, whoever emitted them, with the SDKs released today.

A span processor cannot add attributes to a span that is ending on the released SDKs (see
:mod:`wikitrace_otel.processors.cost`). What reaches an exporter, though, is whatever the
exporting processor is handed in ``on_end``: :class:`CostEnrichingProcessor` sits in front of
an exporting processor (``BatchSpanProcessor``) and hands it a copy of each priced GenAI span
with the cost attributes added. Spans without a cost to add pass through untouched (one dict
lookup for non-GenAI spans). A span the :class:`~wikitrace_otel.processors.CostSpanProcessor`
before it already priced, with the same price table, is not priced again.

``install()`` wraps its exporting processors this way; with your own provider::

    provider.add_span_processor(CostEnrichingProcessor(BatchSpanProcessor(exporter)))

Processors added elsewhere on the provider still see the original span without cost.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor

from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel.pricing import PriceTable
from wikitrace_otel.processors._view import genai_values, stored_attributes
from wikitrace_otel.processors.cost import carries_cost, default_prices, local_cost, priced_attributes
from wikitrace_otel.semconv import gen_ai as g

_OPERATION = g.GEN_AI_OPERATION_NAME


class CostEnrichingProcessor(SpanProcessor):
    """Forwards spans to ``inner``, adding cost attributes to priced GenAI spans.

    Args:
        inner: the exporting processor to feed.
        prices: price table (default: the shared table of genai-prices plus ``WIKITRACE_PRICES``).
    """

    def __init__(self, inner: SpanProcessor, prices: PriceTable | None = None) -> None:
        self.inner = inner
        self._prices = prices

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        self.inner.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        # Every span of the application passes here: a non-GenAI one after one dict lookup.
        self.inner.on_end(self._enriched(span) if _OPERATION in stored_attributes(span) else span)

    def _enriched(self, span: ReadableSpan) -> ReadableSpan:
        try:
            values = genai_values(span)  # None for non-GenAI spans, after one dict lookup
            if values is None or carries_cost(values):
                return span
            # Priced once per span: the CostSpanProcessor before this one usually already has.
            amount = local_cost(span, values, self._prices if self._prices is not None else default_prices())
            return span if amount is None else _with_attributes(span, {**values, **priced_attributes(amount)})
        except Exception as internal:  # noqa: BLE001 - export the span as it is
            report_internal_error(internal)
            return span

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


class _PricedSpan(ReadableSpan):
    """A finished span with the cost attributes added; everything else is the original's,
    including how many attributes the SDK dropped (a plain ReadableSpan built from a dict
    reports 0)."""

    _dropped = 0

    @property
    def dropped_attributes(self) -> int:
        return self._dropped


def _with_attributes(span: ReadableSpan, attributes: dict[str, Any]) -> ReadableSpan:
    """A copy of ``span`` whose attributes are ``attributes``."""
    if type(span) is ReadableSpan and "_attributes" in span.__dict__:
        # The span the SDK hands to on_end: copy its fields as they are (~1 µs). Rebuilding it
        # through the constructor reads the public properties, which copy the events and links
        # through their locks (~7 µs). Every SDK release from 1.41 on keeps these fields in the
        # instance dict; a test compares both ways.
        copy = object.__new__(_PricedSpan)
        copy.__dict__.update(span.__dict__)
        copy._attributes = attributes
    else:
        copy = _PricedSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=attributes,
            events=span.events,
            links=span.links,
            kind=span.kind,
            status=span.status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )
    copy._dropped = span.dropped_attributes
    return copy
