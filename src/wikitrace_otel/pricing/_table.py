"""The price table: overrides first, then genai-prices, each (provider, model) resolved once."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from time import time
from typing import Any

from wikitrace_otel.pricing import _catalog
from wikitrace_otel.pricing._overrides import Overrides, load_overrides
from wikitrace_otel.pricing._price import ModelPrice

_logger = logging.getLogger("wikitrace_otel.pricing")

DEFAULT_CACHE_SIZE = 1024
"""(provider, model) pairs a table remembers; the least recently used is forgotten first."""

_Key = tuple[str | None, str, str | None, str | None]
_Entry = tuple[ModelPrice | None, float]


class PriceTable:
    """Prices by (provider, model): your overrides first, then the ``genai-prices`` package.

    Each distinct (provider, model, fallback, service tier) is resolved once and kept in a
    bounded LRU cache, unknown ones included, so pricing a call is a dict lookup plus the
    arithmetic of :meth:`ModelPrice.cost`. A price that genai-prices dates (a price change on
    a given day, DeepSeek's off-peak hours) is resolved again when it changes. Thread-safe;
    threads that meet a new model at the same moment may each resolve it once.

    Args:
        overrides: per-model prices, as a dict or the path of a JSON or TOML file (see
            :mod:`wikitrace_otel.pricing`). None reads the file named by ``WIKITRACE_PRICES``.
        cache_size: how many (provider, model) pairs to remember.

    Raises:
        ValueError: the overrides (or their file) are malformed; the message says where.
    """

    def __init__(self, overrides: Overrides | None = None, *, cache_size: int = DEFAULT_CACHE_SIZE) -> None:
        if isinstance(cache_size, bool) or not isinstance(cache_size, int) or cache_size < 1:
            raise ValueError(f"cache_size={cache_size!r}: expected an int >= 1")
        self.overrides: dict[str, ModelPrice] = load_overrides(overrides)
        self._cache: OrderedDict[_Key, _Entry] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()
        self._missing_logged = False

    def lookup(
        self,
        provider_name: str | None,
        model: str | None,
        *,
        fallback: str | None = None,
        service_tier: str | None = None,
    ) -> ModelPrice | None:
        """The price of ``model`` as served by ``provider_name``, or None when nobody knows it.

        Args:
            provider_name: a ``gen_ai.provider.name`` value (``openai``, ``aws.bedrock``,
                ``azure.ai.openai``...); None lets genai-prices guess from the model name.
            model: the model to price, normally ``gen_ai.response.model``.
            fallback: the name to price when ``model`` has no price (or is None), normally
                ``gen_ai.request.model``. An override of either name wins over genai-prices.
            service_tier: the tier that served the call (``openai.response.service_tier``);
                selects genai-prices' ``flex`` / ``priority`` prices.

        Returns:
            The price, or None: never a zero price for an unknown model.
        """
        key = (provider_name, model or "", fallback, service_tier)
        cache = self._cache
        # Hits take no lock: each OrderedDict operation is atomic under the GIL, and a key
        # evicted by another thread in between only makes move_to_end miss.
        entry = cache.get(key)
        if entry is not None and not (entry[1] and time() >= entry[1]):
            try:  # noqa: SIM105 - contextlib.suppress would add a context manager to every hit
                cache.move_to_end(key)
            except KeyError:
                pass
            return entry[0]
        entry = self._resolve(provider_name, [m for m in (model, fallback) if m], service_tier)
        self._remember(key, entry)
        return entry[0]

    def preload(self) -> bool:
        """Import genai-prices and load its data now rather than on the first call priced (~0.3 s).

        Returns:
            True when genai-prices is available.
        """
        module = self._genai_prices()
        if module is None:
            return False
        snapshot = getattr(getattr(module, "data_snapshot", None), "get_snapshot", None)
        if snapshot is not None:
            snapshot()
        return True

    def clear(self) -> None:
        """Forget every resolved price (after updating genai-prices' data at run time, say)."""
        with self._lock:
            self._cache.clear()

    def _remember(self, key: _Key, entry: _Entry) -> None:
        with self._lock:
            self._cache[key] = entry
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def _resolve(self, provider_name: str | None, models: list[str], service_tier: str | None) -> _Entry:
        for model in models:
            price = self._override(provider_name, model)
            if price is not None:
                return price, 0.0
        module = self._genai_prices() if models else None
        if module is not None:
            for model in models:
                price, changes_at = _catalog.resolve(module, provider_name, model, service_tier)
                if price is not None:
                    return price, (0.0 if changes_at == float("inf") else changes_at)
        _logger.debug("No price for provider=%r model(s)=%r; no cost is recorded", provider_name, models)
        return None, 0.0

    def _override(self, provider_name: str | None, model: str) -> ModelPrice | None:
        if not self.overrides:
            return None
        provider = (provider_name or "").strip().lower()
        for name in _catalog.name_variants(model):
            price = self.overrides.get(f"{provider}/{name}") if provider else None
            if price is None:
                price = self.overrides.get(name)
            if price is not None:
                return price
        return None

    def _genai_prices(self) -> Any:
        try:
            import genai_prices
        except ImportError:
            if not self._missing_logged:
                self._missing_logged = True
                _logger.debug("genai-prices is not installed (it needs Python 3.11+); only overrides are priced")
            return None
        return genai_prices
