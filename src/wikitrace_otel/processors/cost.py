"""Cost of every GenAI inference and embeddings span, whoever emitted it.

::

    from wikitrace_otel.processors.cost import CostSpanProcessor

    provider.add_span_processor(CostSpanProcessor())                  # before the exporting processor
    provider.add_span_processor(CostSpanProcessor(prices={"my-model": {"input": 1, "output": 2}}))

Which spans: ``gen_ai.operation.name`` is ``chat``, ``text_completion``, ``generate_content`` or
``embeddings``; the span is sampled; it reports token usage; it carries no cost yet (a
``gen_ai.usage.cost.amount`` from the provider, or another tool's ``gen_ai.usage.cost``); and its
model has a known price (:mod:`wikitrace_otel.pricing`: ``gen_ai.response.model`` first, then
``gen_ai.request.model``). An unknown price means no cost at all, never 0.

Usage is read under the current names and the older ones other instrumentations emit:
``gen_ai.usage.input_tokens`` / ``prompt_tokens``, ``output_tokens`` / ``completion_tokens``,
``cache_read.input_tokens`` / ``cache_read_input_tokens``, ``cache_write.input_tokens`` /
``cache_creation.input_tokens`` / ``cache_creation_input_tokens``,
``reasoning.output_tokens``; the provider from ``gen_ai.provider.name``, else ``gen_ai.system``.

What it adds:

- on the span: ``gen_ai.usage.cost.amount`` (USD), ``gen_ai.usage.cost.currency=USD``,
  ``gen_ai.usage.cost.source=local`` and the mirror ``gen_ai.usage.cost``;
- the ``gen_ai.client.operation.cost`` histogram ({USD}), one value per priced span (costs the
  span already carried included, when in USD), with ``gen_ai.operation.name``,
  ``gen_ai.provider.name``, ``gen_ai.request.model`` and ``gen_ai.response.model``.

**When the span attributes can be set.** The SDK's span-processor hook ``_on_ending`` (SDK
1.40+) runs before a span is exported, and the specification lets it write to the span. In every
released SDK so far (1.40 to 1.45) the span is already frozen when the hook runs: it is not
recording and writes are dropped (open-telemetry/opentelemetry-python#5614, fix proposed in
#5613). The processor therefore checks ``span.is_recording()`` in the hook and:

- where the span is still writable (a spec-compliant SDK), sets the cost attributes on it;
- otherwise leaves the span untouched. Spans from other instrumentations then get **no cost
  attributes**, but their cost is still recorded in the histogram, from ``on_end``. Code that ends
  its own spans (an instrumentor, yours) can call :func:`cost_attributes` with the span's final
  attributes and set the result before ``span.end()``; the processor then records that cost
  instead of computing it again.

Cost per span: for non-GenAI spans one dict lookup; for GenAI spans a few dict lookups, the
arithmetic of :meth:`wikitrace_otel.pricing.ModelPrice.cost` and a queued histogram value
(recorded at collection, see :mod:`wikitrace_otel._genai.deferred`). Each (provider, model) is
resolved once, and each span is priced once: a :class:`~wikitrace_otel.processors.CostEnrichingProcessor`
or ``BudgetSpanProcessor`` after this one, with the same price table, reuses the price. The
processor never raises into the code that ends the span.

Limit: processors see only sampled spans, so under head sampling the histogram counts the
sampled calls only.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, Final

from opentelemetry import metrics
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import TraceFlags

from wikitrace_otel._genai.deferred import DeferredRecorder
from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel.pricing import Overrides, PriceTable
from wikitrace_otel.processors._view import genai_values, remember_cost, remembered_cost, stored_attributes
from wikitrace_otel.semconv import SCHEMA_URL, legacy
from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import metrics as m
from wikitrace_otel.semconv import wikitrace as w
from wikitrace_otel.version import __version__

_logger = logging.getLogger(__name__)

PRICED_OPERATIONS: Final = frozenset(
    op.value
    for op in (g.Operation.CHAT, g.Operation.TEXT_COMPLETION, g.Operation.GENERATE_CONTENT, g.Operation.EMBEDDINGS)
)
"""Values of ``gen_ai.operation.name`` whose spans are priced."""

_INPUT = (g.GEN_AI_USAGE_INPUT_TOKENS, legacy.PROMPT_TOKENS)
_OUTPUT = (g.GEN_AI_USAGE_OUTPUT_TOKENS, legacy.COMPLETION_TOKENS)
_CACHE_READ = (g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, legacy.CACHE_READ_INPUT_TOKENS)
_CACHE_WRITE = (
    g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    g.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    legacy.CACHE_CREATION_INPUT_TOKENS,
)
_REASONING = (g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,)
_USAGE = (_INPUT, _OUTPUT, _CACHE_READ, _CACHE_WRITE, _REASONING)
_USD: Final = "USD"
_LOCAL: Final = "local"

_default_prices: PriceTable | None = None
_METRIC_SETS = 256
_metric_sets: dict[tuple[Any, ...], dict[str, Any]] = {}
_default_lock = threading.Lock()


def cost_of(attributes: Mapping[str, Any], prices: PriceTable) -> float | None:
    """The USD cost of the call a GenAI span describes, or None (not priced, no usage, unknown price).

    Args:
        attributes: the span's attributes.
        prices: where prices come from.
    """
    # Runs for every GenAI span: all reads go through one bound ``get``, the counts in one pass.
    get = attributes.get
    if get(g.GEN_AI_OPERATION_NAME) not in PRICED_OPERATIONS:
        return None
    input_tokens, output_tokens, cache_read, cache_write, reasoning = _counts(get)
    if input_tokens is None and output_tokens is None:
        return None  # no usage reported (a failed call, a stream without usage): unknown, not 0
    response_model = _text(get(g.GEN_AI_RESPONSE_MODEL))
    request_model = _text(get(g.GEN_AI_REQUEST_MODEL))
    price = prices.lookup(
        _text(get(g.GEN_AI_PROVIDER_NAME)) or _text(get(g.GEN_AI_SYSTEM)),
        response_model or request_model,
        fallback=request_model if response_model and request_model != response_model else None,
        service_tier=_text(get(g.OPENAI_RESPONSE_SERVICE_TIER)),
    )
    if price is None:
        return None
    return price.cost(
        input_tokens or 0,
        output_tokens or 0,
        cache_read or 0,
        cache_write or 0,
        reasoning or 0,
    )


def cost_attributes(attributes: Mapping[str, Any], prices: PriceTable | None = None) -> dict[str, Any]:
    """The cost attributes to set on a GenAI span before ending it; empty when there is nothing to add.

    For instrumentors that end their own spans: on released SDKs a span processor cannot add
    attributes to an ending span, so they call this with the span's final attributes.

    Args:
        attributes: the span's attributes (operation, provider, models and usage).
        prices: the price table; None uses one shared table built from ``WIKITRACE_PRICES``.

    Returns:
        ``gen_ai.usage.cost.amount`` / ``.currency`` / ``.source`` and ``gen_ai.usage.cost``,
        or ``{}`` when the span already has a cost, reports no usage, or its price is unknown.

    Raises:
        ValueError: (first call only, ``prices`` None) the file named by ``WIKITRACE_PRICES`` is malformed.
    """
    if carries_cost(attributes):
        return {}
    return priced_attributes(cost_of(attributes, prices if prices is not None else default_prices()))


def carries_cost(attributes: Mapping[str, Any]) -> bool:
    """Whether the attributes already hold a cost (then none is added)."""
    return w.GEN_AI_USAGE_COST_AMOUNT in attributes or w.GEN_AI_USAGE_COST in attributes


def priced_attributes(amount: float | None) -> dict[str, Any]:
    """The cost attributes for a local price of ``amount`` USD; empty for None."""
    if amount is None:
        return {}
    return {
        w.GEN_AI_USAGE_COST_AMOUNT: amount,
        w.GEN_AI_USAGE_COST_CURRENCY: _USD,
        w.GEN_AI_USAGE_COST_SOURCE: _LOCAL,
        w.GEN_AI_USAGE_COST: amount,
    }


def local_cost(span: ReadableSpan, values: Mapping[str, Any], prices: PriceTable) -> float | None:
    """:func:`cost_of` the span whose attributes are ``values``, priced once per span and table.

    ``values`` must come from :func:`~wikitrace_otel.processors._view.genai_values` for ``span``:
    the next processor asking about the same span gets the same amount without pricing again."""
    known, amount = remembered_cost(span, prices)
    if not known:
        amount = cost_of(values, prices)
        remember_cost(span, prices, amount)
    return amount


def default_prices() -> PriceTable:
    """The process-wide price table (genai-prices plus ``WIKITRACE_PRICES``), built on first use."""
    global _default_prices
    with _default_lock:
        if _default_prices is None:
            _default_prices = PriceTable()
        return _default_prices


class CostSpanProcessor(SpanProcessor):
    """Adds the cost of GenAI calls to their spans (where the SDK allows) and to ``gen_ai.client.operation.cost``.

    Register it before the processor that exports, so a writable span is priced before export.

    Args:
        prices: a :class:`~wikitrace_otel.pricing.PriceTable`, or overrides for a new one (a dict
            or the path of a JSON / TOML file); None reads ``WIKITRACE_PRICES``.
        meter_provider: where the histogram goes; None means the global meter provider.
        preload: import genai-prices and load its data in a background thread now, so the first
            priced span does not wait for it (~0.3 s).

    Raises:
        ValueError: the price overrides are malformed.
    """

    def __init__(
        self,
        prices: PriceTable | Overrides | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        *,
        preload: bool = True,
    ) -> None:
        self.prices = prices if isinstance(prices, PriceTable) else PriceTable(prices)
        meter = metrics.get_meter(__name__, __version__, meter_provider, schema_url=SCHEMA_URL)
        self._histogram = meter.create_histogram(
            m.OPERATION_COST,
            unit=m.UNIT_USD,
            description="Cost of a GenAI operation",
            explicit_bucket_boundaries_advisory=list(m.COST_BUCKETS),
        )
        self._recorder = DeferredRecorder.for_meter(meter)
        self._shut_down = False
        if preload:
            threading.Thread(target=self._preload, name="wikitrace-prices", daemon=True).start()

    def cost_attributes(self, attributes: Mapping[str, Any]) -> dict[str, Any]:
        """:func:`cost_attributes` with this processor's prices."""
        return cost_attributes(attributes, self.prices)

    def _on_ending(self, span: Span) -> None:
        """Set the cost attributes while the span can still take them (see the module docs)."""
        # Released SDKs freeze the span before this hook: is_recording() is False and writes
        # would be dropped with a warning per span, so only a writable span is touched.
        if self._shut_down or not span.is_recording():
            return
        try:
            attributes = genai_attributes(span)
            if attributes is not None:
                extra = cost_attributes(attributes, self.prices)
                if extra:
                    span.set_attributes(extra)
        except Exception as internal:  # noqa: BLE001 - telemetry must not break span.end()
            report_internal_error(internal)

    def on_end(self, span: ReadableSpan) -> None:
        """Record the span's cost in the histogram: the one it carries, else one computed now."""
        if self._shut_down:
            return
        try:
            values = genai_values(span)  # None for non-GenAI spans, after one dict lookup
            if values is not None:
                self._record(span, values)
        except Exception as internal:  # noqa: BLE001 - telemetry must not break span.end()
            report_internal_error(internal)

    def _record(self, span: ReadableSpan, values: Mapping[str, Any]) -> None:
        if values.get(g.GEN_AI_OPERATION_NAME) not in PRICED_OPERATIONS or not _sampled(span):
            return
        amount = carried_cost(values)
        if amount is None and w.GEN_AI_USAGE_COST_AMOUNT not in values:
            amount = local_cost(span, values, self.prices)
        if amount is not None:
            self._recorder.record(self._histogram, amount, _metric_attributes(values))

    def shutdown(self) -> None:
        """Stop pricing and hand queued values to the SDK; safe to call more than once."""
        self._shut_down = True
        self._recorder.drain()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Hand queued histogram values to the SDK.

        Returns:
            Always True.
        """
        self._recorder.drain()
        return True

    def _preload(self) -> None:
        try:
            self.prices.preload()
        except Exception:  # a failed warm-up only means the first lookup loads the data
            _logger.debug("Preloading genai-prices failed", exc_info=True)


def genai_attributes(span: ReadableSpan) -> dict[str, Any] | None:
    """A plain-dict copy of a sampled, priceable GenAI span's attributes; None for any other span.

    For processors that read many keys: absent keys are cheap to look up in the copy."""
    # Read a plain dict: the SDK's attribute mapping answers a missing key by raising and
    # catching KeyError in Python (~1 µs each, and pricing reads ~20 keys, most of them absent).
    stored = stored_attributes(span)
    if stored.get(g.GEN_AI_OPERATION_NAME) not in PRICED_OPERATIONS or not _sampled(span):
        return None
    return dict(stored)


def _sampled(span: ReadableSpan) -> bool:
    context = span.context
    return context is not None and bool(context.trace_flags & TraceFlags.SAMPLED)


def _counts(get: Callable[[str], Any]) -> list[int | float | None]:
    """Input, output, cache read, cache write and reasoning tokens, each under the first of its
    names present; None when absent or not a non-negative number."""
    found: list[int | float | None] = []
    for keys in _USAGE:
        value = None
        for key in keys:
            value = get(key)
            if value is not None:
                break
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0):
            value = None
        found.append(value)
    return found


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def carried_cost(attributes: Mapping[str, Any]) -> float | None:
    """The USD cost a span's attributes already carry (``gen_ai.usage.cost.amount``, else
    ``gen_ai.usage.cost``), or None when absent, not a finite non-negative number, or not in USD."""
    value = attributes.get(w.GEN_AI_USAGE_COST_AMOUNT)
    if value is None:
        value = attributes.get(w.GEN_AI_USAGE_COST)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    currency = attributes.get(w.GEN_AI_USAGE_COST_CURRENCY)
    return float(value) if currency is None or currency == _USD else None


def _metric_attributes(attributes: Mapping[str, Any]) -> dict[str, Any]:
    """The histogram's attributes for a span; the same dict for spans of the same call kind
    (the SDK only reads it), so most spans only look it up."""
    get = attributes.get
    key = (
        get(g.GEN_AI_OPERATION_NAME),
        get(g.GEN_AI_PROVIDER_NAME),
        get(g.GEN_AI_SYSTEM),
        get(g.GEN_AI_REQUEST_MODEL),
        get(g.GEN_AI_RESPONSE_MODEL),
    )
    try:
        found = _metric_sets.get(key)
    except TypeError:  # an unhashable value (a list, in a span built by hand): nothing to share
        return _build_metric_attributes(*key)
    if found is None:
        found = _build_metric_attributes(*key)
        if len(_metric_sets) >= _METRIC_SETS:  # bounded: models named per request must not grow it
            _metric_sets.clear()
        _metric_sets[key] = found
    return found


def _build_metric_attributes(operation: Any, provider: Any, system: Any, request: Any, response: Any) -> dict[str, Any]:
    found: dict[str, Any] = {g.GEN_AI_OPERATION_NAME: operation}
    provider = _text(provider) or _text(system)
    if provider:
        found[g.GEN_AI_PROVIDER_NAME] = provider
    if _text(request):
        found[g.GEN_AI_REQUEST_MODEL] = request
    if _text(response):
        found[g.GEN_AI_RESPONSE_MODEL] = response
    return found
