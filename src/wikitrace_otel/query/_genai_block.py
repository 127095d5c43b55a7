"""The GenAI columns of a group of spans, computed column by column.

:func:`genai_block` gives what :func:`~wikitrace_otel.query._rows.genai_columns` gives span by
span, transposed: each attribute is read for the whole group with one C-level ``map``, and a
column whose values are all of the common kind (absent, or a clean string, or a plain int) is
taken as it is. Any other value sends that column through the span-by-span code, so unusual
input gives the same values, only slower.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import repeat
from math import isfinite
from typing import Any, Final

from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel.pricing import ModelPrice, PriceTable
from wikitrace_otel.processors.cost import PRICED_OPERATIONS, cost_of, default_prices
from wikitrace_otel.query import _rows
from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import wikitrace as w

_NOT_MODEL_CALLS: Final = _rows.NOT_MODEL_CALLS
_CONTENT_DISJOINT: Final = frozenset(_rows.CONTENT_KEYS).isdisjoint
_USAGE: Final = (
    _rows.INPUT_KEYS,
    _rows.OUTPUT_KEYS,
    _rows.CACHE_READ_KEYS,
    _rows.CACHE_WRITE_KEYS,
    _rows.REASONING_KEYS,
)
_INT: Final = frozenset({int, type(None)})
_TEXT: Final = frozenset({str, type(None)})
# What processors.cost.cost_of reads, in _cost_of's argument order.
_PRICING_TEXT: Final = (
    g.GEN_AI_OPERATION_NAME,
    g.GEN_AI_RESPONSE_MODEL,
    g.GEN_AI_REQUEST_MODEL,
    g.GEN_AI_PROVIDER_NAME,
    g.GEN_AI_SYSTEM,
    g.OPENAI_RESPONSE_SERVICE_TIER,
)
_PRICING_COUNTS: Final = _USAGE


def genai_block(group: list[dict[str, Any]]) -> list[list[Any]]:
    """The 15 columns OperationName ... Content of a group of spans.

    Args:
        group: each span's attributes in :data:`~wikitrace_otel.query._rows.INDEXED_KEYS`, as
            plain values (an empty dict for a span with none).
    """
    count = len(group)
    present = set().union(*group)
    if not present:
        return [[value] * count for value in _rows.NO_GENAI]
    absent = [None] * count

    def column(key: str) -> list[Any]:
        return list(map(dict.get, group, repeat(key))) if key in present else absent

    operation = _texts(column(g.GEN_AI_OPERATION_NAME))
    request_model = _texts(column(g.GEN_AI_REQUEST_MODEL))
    response_model = _texts(column(g.GEN_AI_RESPONSE_MODEL))
    model_call = [
        op in PRICED_OPERATIONS or (op not in _NOT_MODEL_CALLS and bool(request or response))
        for op, request, response in zip(operation, request_model, response_model, strict=True)
    ]
    provider = [
        name or system
        for name, system in zip(_texts(column(g.GEN_AI_PROVIDER_NAME)), _texts(column(g.GEN_AI_SYSTEM)), strict=True)
    ]
    usage = [_integers(group, keys, [column(key) for key in keys]) for keys in _USAGE]
    contents = absent
    if not _CONTENT_DISJOINT(present):
        contents = [None if _CONTENT_DISJOINT(attributes) else _rows.content(attributes) for attributes in group]
    return [
        operation,
        provider,
        request_model,
        response_model,
        model_call,
        *usage,
        _costs(group, present, column, model_call),
        _texts(column(w.SESSION_ID)),
        _texts(column(w.USER_ID)),
        _texts(column(g.ERROR_TYPE)),
        contents,
    ]


def _texts(values: list[Any]) -> list[str | None]:
    """``_rows.text_value`` of each value."""
    present = list(filter(None, values))
    if not present:
        return [None] * len(values)
    try:
        joined = "".join(present)  # every value that names something is a str
    except TypeError:
        return list(map(_rows.text_value, values))
    if "\x00" in joined:
        return list(map(_rows.text_value, values))
    return values if len(present) == len(values) else [value or None for value in values]


def _integers(group: list[dict[str, Any]], keys: tuple[str, ...], columns: list[list[Any]]) -> list[int | None]:
    """``_rows.integer`` of each span: the first key holding a number."""
    first = columns[0]
    if _only(first, _INT) and all(column.count(None) == len(column) for column in columns[1:]):
        return first
    return [_rows.integer(attributes, keys) for attributes in group]


def _only(values: list[Any], kinds: frozenset[type]) -> bool:
    return set(map(type, values)) <= kinds


def _costs(
    group: list[dict[str, Any]], present: set[str], column: Callable[[str], list[Any]], model_call: list[bool]
) -> list[Any]:
    """The Cost column: the cost a span carries, else (a model call) its price."""
    if w.GEN_AI_USAGE_COST_AMOUNT in present or w.GEN_AI_USAGE_COST in present:
        carried = [_rows.number(attributes, _rows.CARRIED_COST_KEYS) for attributes in group]
        # A cost that is there but unusable is not priced again (what cost_attributes decides).
        todo = [
            index
            for index, attributes in enumerate(group)
            if model_call[index]
            and carried[index] is None
            and w.GEN_AI_USAGE_COST_AMOUNT not in attributes
            and w.GEN_AI_USAGE_COST not in attributes
        ]
    else:
        carried = [None] * len(group)
        todo = [index for index, call in enumerate(model_call) if call]
    if todo:
        prices = _RunPrices()
        inputs = _pricing_columns(present, column)
        arguments = list(zip(*inputs, strict=True)) if inputs is not None else None
        for index in todo:
            carried[index] = _price(group[index], prices, arguments[index] if arguments is not None else None)
    return carried


def _pricing_columns(present: set[str], column: Callable[[str], list[Any]]) -> list[list[Any]] | None:
    """What ``cost_of`` reads, one column each, when every value is of the usual kind; else None."""
    texts = [column(key) for key in _PRICING_TEXT]
    if not all(_only(values, _TEXT) for values in texts):
        return None
    counts = []
    for keys in _PRICING_COUNTS:
        if any(key in present for key in keys[1:]):
            return None
        values = column(keys[0])
        if not _only(values, _INT) or min(filter(None, values), default=0) < 0:
            return None
        counts.append(values)
    return texts + counts


def _price(attributes: dict[str, Any], prices: _RunPrices, arguments: tuple[Any, ...] | None) -> float | None:
    """The span's price; ``arguments``: its ``_cost_of`` arguments when they are of the usual kinds."""
    try:
        prices.load()  # as cost_attributes does: a bad WIKITRACE_PRICES is reported for every unpriced call
        amount = cost_of(attributes, prices) if arguments is None else _cost_of(prices, *arguments)  # type: ignore[arg-type]
    except Exception as error:  # noqa: BLE001 - an unpriceable span is indexed without a cost
        report_internal_error(error)
        return None
    if amount.__class__ is float and isfinite(amount):
        return amount  # type: ignore[no-any-return]
    return _rows.number({w.GEN_AI_USAGE_COST_AMOUNT: amount}, (w.GEN_AI_USAGE_COST_AMOUNT,))


def _cost_of(
    prices: _RunPrices,
    operation: str | None,
    response_model: str | None,
    request_model: str | None,
    provider: str | None,
    system: str | None,
    tier: str | None,
    *counts: int | None,
) -> float | None:
    """``processors.cost.cost_of`` for attribute values of the usual kinds (str or None, int >= 0 or None)."""
    if operation not in PRICED_OPERATIONS:
        return None
    input_tokens, output_tokens, cache_read, cache_write, reasoning = counts
    if input_tokens is None and output_tokens is None:
        return None
    response_model, request_model = response_model or None, request_model or None
    price = prices.lookup(
        provider or system or None,
        response_model or request_model,
        fallback=request_model if response_model and request_model != response_model else None,
        service_tier=tier or None,
    )
    if price is None:
        return None
    return price.cost(input_tokens or 0, output_tokens or 0, cache_read or 0, cache_write or 0, reasoning or 0)


class _RunPrices:
    """The process's price table with its answers kept for one group of spans (a few models, many calls)."""

    def __init__(self) -> None:
        self._table: PriceTable | None = None
        self._known: dict[tuple[Any, ...], ModelPrice | None] = {}

    def lookup(
        self,
        provider_name: str | None,
        model: str | None,
        *,
        fallback: str | None = None,
        service_tier: str | None = None,
    ) -> ModelPrice | None:
        key = (provider_name, model, fallback, service_tier)
        known = self._known
        if key in known:
            return known[key]
        price = known[key] = self.load().lookup(provider_name, model, fallback=fallback, service_tier=service_tier)
        return price

    def load(self) -> PriceTable:
        """The process-wide table (built on first use; raises ValueError for a malformed ``WIKITRACE_PRICES``)."""
        if self._table is None:
            self._table = default_prices()
        return self._table
