"""What a GenAI call cost, in USD, from its token counts.

Usage::

    from wikitrace_otel.pricing import PriceTable

    prices = PriceTable()                                  # genai-prices + WIKITRACE_PRICES
    price = prices.lookup("openai", "gpt-4o-2024-08-06")   # ModelPrice, or None when unknown
    price.cost(input_tokens=1200, output_tokens=300, cache_read=1000)   # -> USD (float)

Where prices come from, first match wins:

1. **Overrides**: ``PriceTable(overrides=...)`` (or ``CostSpanProcessor(prices=...)``), a dict or
   the path of a ``.json`` / ``.toml`` file; without one, the file named by the
   ``WIKITRACE_PRICES`` environment variable. One entry per model, in USD per million tokens::

       {"gpt-4o": {"input": 2.5, "output": 10, "cache_read": 1.25},
        "azure.ai.openai/my-deployment": {"input": 2.0, "output": 8.0, "cache_write": 2.5}}

   Keys are ``"model"`` (any provider) or ``"provider/model"`` with a ``gen_ai.provider.name``
   value; ``input`` and ``output`` are required, ``cache_read``, ``cache_write`` and
   ``reasoning`` default to the input and output rates. A malformed entry or file raises
   ``ValueError`` naming the file and the entry. TOML needs Python 3.11+ (or ``tomli``).
2. **genai-prices** (``pip install genai-prices``, Python 3.11+), the price data maintained by
   Pydantic: tiered long-context prices, cache read and write prices, reasoning prices where
   they differ from output, dated price changes and OpenAI's ``flex`` / ``priority`` service
   tiers. Without it installed, only overrides price anything.

How a name is matched: the provider (``aws.bedrock`` → genai-prices' ``aws``, ``gcp.vertex_ai``
→ ``google``, ``azure.ai.openai`` → ``azure``, which falls back to OpenAI's prices...), then the
model as given, its last path segment (``models/gemini-2.5-flash``), the name without a date
suffix (``gpt-4o-2099-01-01`` → ``gpt-4o``), and for ``vendor/model`` names (OpenRouter,
LiteLLM) the vendor's own price. A Bedrock id that genai-prices lists only under its vendor
(``mistral.mistral-large-2407-v1:0``, ``us.cohere.command-r-v1:0``) gets the vendor's price.
Overrides are matched the same way.

How a call is charged (:meth:`ModelPrice.cost`): uncached input (input minus cache reads and
writes), cache reads, cache writes, output and reasoning each at their rate; the tier is chosen
by the call's whole input. What spans do not report is not charged: audio and image tokens are
charged as text, Anthropic's 1-hour cache writes at the 5-minute rate, web searches not at all.

An unknown model has no price (None), never a price of 0. Each (provider, model) is resolved
once (genai-prices takes 0.1 to 0.2 ms per lookup) and kept in a bounded LRU cache.
"""

from __future__ import annotations

from wikitrace_otel.pricing._overrides import PRICES_ENV, Overrides
from wikitrace_otel.pricing._price import ModelPrice
from wikitrace_otel.pricing._table import DEFAULT_CACHE_SIZE, PriceTable

__all__ = ["DEFAULT_CACHE_SIZE", "PRICES_ENV", "ModelPrice", "Overrides", "PriceTable"]
