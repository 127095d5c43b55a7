"""Cost on exported spans, whoever emitted them, with the SDKs released today.

A span processor cannot add attributes to a span that is ending on the released SDKs (see
:mod:`wikitrace_otel.processors.cost`). What reaches an exporter, though, is whatever the
exporting processor is handed in ``on_end``: :class:`CostEnrichingProcessor` sits in front of
an exporting processor (``BatchSpanProcessor``) and hands it a copy of each priced GenAI span
with the cost attributes added. Spans without a cost to add pass through untouched (one dict
lookup for non-GenAI spans).

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
from wikitrace_otel.processors.cost import cost_attributes, default_prices
from wikitrace_otel.semconv import gen_ai as g


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
        self.inner.on_end(self._enriched(span))

    def _enriched(self, span: ReadableSpan) -> ReadableSpan:
        attributes = span.attributes
        if not attributes or g.GEN_AI_OPERATION_NAME not in attributes:
            return span
        try:
            added = cost_attributes(attributes, self._prices if self._prices is not None else default_prices())
            return _with_attributes(span, added) if added else span
        except Exception as internal:  # noqa: BLE001 - export the span as it is
            report_internal_error(internal)
            return span

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self.inner.force_flush(timeout_millis)


def _with_attributes(span: ReadableSpan, added: dict[str, Any]) -> ReadableSpan:
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes={**span.attributes, **added},
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )
