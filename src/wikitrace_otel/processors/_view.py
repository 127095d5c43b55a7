"""One cheap look at a finished span's attributes, shared by the span processors.

Every span of the application goes through every processor ``install()`` adds, and most of
them (HTTP, database...) are not GenAI spans. Two things make the obvious checks slow on the
SDK: ``ReadableSpan.attributes`` builds a ``MappingProxyType`` on each access (~0.4 µs on a
small machine), and its ``BoundedAttributes`` answers a missing key by raising and catching
``KeyError`` in Python (~1 µs). So:

- :func:`stored_attributes` reads the SDK's own attribute dict, for one C-level lookup;
- :func:`genai_values` answers "is this a GenAI span" with that one lookup, and copies the
  attributes only for GenAI spans;
- the copy and the span's local price are kept for the span last seen in each thread, so the
  processors that look at the same span in turn (cost histogram, budgets, alerts, the
  exporter's enricher) share one copy and one pricing. The processors of a provider run one
  after the other in the thread that ends the span, so one entry per thread is enough; a
  span priced in another thread is simply priced again, never priced wrong.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan

from wikitrace_otel.pricing import PriceTable
from wikitrace_otel.semconv import gen_ai as g

_OPERATION = g.GEN_AI_OPERATION_NAME
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class _Seen:
    """A span looked at, its attributes, and its price once known."""

    __slots__ = ("amount", "prices", "span", "values")

    def __init__(self, span: object, values: Mapping[str, Any] | None) -> None:
        self.span, self.values = span, values
        self.prices: object = None  # the table ``amount`` was computed with; None: not priced yet
        self.amount: float | None = None


class _Last(threading.local):
    """What this thread last looked at; one attribute, so each step reads the thread's state once."""

    seen = _Seen(None, None)  # each thread's default, never written to


_last = _Last()


def stored_attributes(span: ReadableSpan) -> Mapping[str, Any]:
    """The span's attributes, read where the SDK stores them; the caller must not modify them.

    Falls back to the public ``span.attributes`` for spans the SDK did not build."""
    try:
        # Every SDK release from 1.41 on keeps a ReadableSpan's attributes in a BoundedAttributes
        # whose plain dict is ``_dict`` (frozen once the span has ended); a test pins this.
        stored = span._attributes._dict  # type: ignore[attr-defined]
    except AttributeError:
        stored = None
    if isinstance(stored, dict):
        return stored
    public = span.attributes
    return public if public is not None else _EMPTY


def genai_values(span: ReadableSpan) -> Mapping[str, Any] | None:
    """The attributes of a span carrying ``gen_ai.operation.name`` as a dict (read-only); None otherwise.

    Asked again for the same span in the same thread, returns the same dict."""
    stored = stored_attributes(span)
    if _OPERATION not in stored:
        return None
    seen = _last.seen
    if seen.span is span:
        return seen.values
    # The SDK's dict of an ended span no longer changes: read it as it is. Anything else is
    # copied into a dict, whose absent keys are cheap to look up.
    values = stored if type(stored) is dict else dict(stored)
    _last.seen = _Seen(span, values)
    return values


def remembered_cost(span: ReadableSpan, prices: PriceTable) -> tuple[bool, float | None]:
    """``(True, amount)`` when this thread already priced ``span`` with ``prices``, else ``(False, None)``."""
    seen = _last.seen
    if seen.span is span and seen.prices is prices:
        return True, seen.amount
    return False, None


def remember_cost(span: ReadableSpan, prices: PriceTable, amount: float | None) -> None:
    """Keep ``span``'s local price (``amount``, None for no price) for the next processor to ask."""
    seen = _last.seen
    if seen.span is span and seen.span is not None:  # only the span whose attributes are kept
        seen.amount, seen.prices = amount, prices
