"""Prices from the maintained ``genai-prices`` package, turned into :class:`ModelPrice` once per model.

genai-prices (pydantic/genai-prices) knows providers by its own ids (``aws``, ``google``,
``x-ai``...) and matches model names with per-model rules (``gpt-4o`` also matches
``gpt-4o-2024-08-06``; Bedrock's ``us.anthropic.claude-...-v1:0``; Vertex's
``claude-...@20250929``). Its ``calc_price`` costs 0.1 to 0.2 ms a call, so it is asked once per
(provider, model) for the *resolved* price (``PriceCalculation.model_price``: date-conditional
prices and the service-tier variant already applied), which is then used for every call.

It is imported lazily; without it (it needs Python 3.11+) only overrides price anything.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import datetime, time, timedelta, timezone
from typing import Any, Final

from wikitrace_otel.pricing._price import ModelPrice

_logger = logging.getLogger("wikitrace_otel.pricing")

PROVIDER_IDS: Final[dict[str, str]] = {
    # gen_ai.provider.name values
    "openai": "openai",
    "anthropic": "anthropic",
    "aws.bedrock": "aws",
    "azure.ai.openai": "azure",
    "azure.ai.inference": "azure",
    "gcp.gemini": "google",
    "gcp.vertex_ai": "google",
    "gcp.gen_ai": "google",
    "mistral_ai": "mistral",
    "cohere": "cohere",
    "groq": "groq",
    "deepseek": "deepseek",
    "perplexity": "perplexity",
    "x_ai": "x-ai",
    "moonshot_ai": "moonshotai",
    "openrouter": "openrouter",
    "together_ai": "together",
    "fireworks_ai": "fireworks",
    # older gen_ai.system values and other instrumentations' spellings
    "az.ai.openai": "azure",
    "az.ai.inference": "azure",
    "azure": "azure",
    "vertex_ai": "google",
    "gemini": "google",
    "xai": "x-ai",
    "mistralai": "mistral",
    "togetherai": "together",
    "bedrock": "aws",
}
"""``gen_ai.provider.name`` (lower-cased) to genai-prices provider id. Other names are passed as they are."""

_VENDOR_IDS: Final[dict[str, str]] = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "google",
    "mistralai": "mistral",
    "x-ai": "x-ai",
    "deepseek": "deepseek",
    "cohere": "cohere",
    "perplexity": "perplexity",
    "moonshotai": "moonshotai",
}
"""The ``vendor/`` prefix of OpenRouter and LiteLLM model names to genai-prices provider id."""

_BEDROCK_VENDORS: Final[dict[str, str]] = {
    "anthropic": "anthropic",
    "mistral": "mistral",
    "cohere": "cohere",
    "deepseek": "deepseek",
}
"""The vendor part of a Bedrock model id to genai-prices provider id (vendor prices as a fallback)."""
_BEDROCK_REGIONS: Final = frozenset({"us", "eu", "apac", "au", "jp", "ca", "us-gov", "global"})
# Bedrock's version suffix: `-v1:0`, `-v1`, `:0`.
_BEDROCK_VERSION = re.compile(r"(?:-v\d+(?::\d+)?|:\d+)$")

# `-2024-08-06`, `-20240806` or Vertex's `@20240806` at the end of a model name.
_DATE_SUFFIX = re.compile(r"(?:-\d{4}-\d{2}-\d{2}|[-@]\d{8})$")
_TOKEN_KEYS = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "output_reasoning_mtok")
_FAR_FUTURE = float("inf")


def provider_id(provider_name: str | None) -> str | None:
    """The genai-prices provider id of a ``gen_ai.provider.name`` value (None: match by model name)."""
    if not provider_name:
        return None
    name = provider_name.strip().lower()
    return PROVIDER_IDS.get(name, name)


def name_variants(model: str) -> Iterator[str]:
    """The model name, then its last path segment, then both without a date suffix (lower-case, distinct)."""
    name = model.strip().lower()
    seen: set[str] = set()
    last = name.rsplit("/", 1)[-1]
    for candidate in (name, last, _DATE_SUFFIX.sub("", name), _DATE_SUFFIX.sub("", last)):
        if candidate and candidate not in seen:
            seen.add(candidate)
            yield candidate


def _candidates(pid: str | None, model: str) -> Iterator[tuple[str | None, str]]:
    for variant in name_variants(model):
        yield pid, variant
    if pid == "aws":
        yield from _bedrock_vendor_candidates(model)
    vendor, sep, rest = model.strip().lower().partition("/")
    # Only for providers genai-prices knows (or none at all): a local server (ollama, vllm)
    # serving "deepseek/deepseek-r1" must not be charged DeepSeek's API price.
    if sep and vendor in _VENDOR_IDS and (pid is None or pid in PROVIDER_IDS.values()):
        for variant in name_variants(rest):
            yield _VENDOR_IDS[vendor], variant


def _bedrock_vendor_candidates(model: str) -> Iterator[tuple[str | None, str]]:
    """The vendor's own price for a Bedrock id genai-prices lists only under the vendor
    (``mistral.mistral-large-2407-v1:0`` → mistral ``mistral-large-2407``), after Bedrock's own.

    ARN wrappers (``arn:...:inference-profile/us.cohere...``) and cross-region prefixes are dropped.
    """
    name = model.strip().lower().rsplit("/", 1)[-1]
    region, _, rest = name.partition(".")
    parts = (rest if region in _BEDROCK_REGIONS else name).split(".", 1)
    if len(parts) != 2 or parts[0] not in _BEDROCK_VENDORS:
        return
    bare = _BEDROCK_VERSION.sub("", parts[1])
    for variant in name_variants(bare):
        yield _BEDROCK_VENDORS[parts[0]], variant


def resolve(
    module: Any, provider_name: str | None, model: str, service_tier: str | None
) -> tuple[ModelPrice | None, float]:
    """Ask genai-prices for the price of ``model`` served by ``provider_name``.

    Tries the name as given, its last path segment (``models/gemini-2.5-flash``), the name
    without a date suffix, and for ``vendor/model`` names the vendor's own price.

    Returns:
        The price (None when genai-prices has none that can be charged from token counts) and
        the epoch time at which it may change (a dated price change or a time-of-day price),
        ``inf`` when it never does.
    """
    pid = provider_id(provider_name)
    # Passed only when there is a tier: genai-prices releases before price variants lack the keyword.
    context = {"price_context": {"service_tier": service_tier}} if service_tier else {}
    for candidate_pid, name in _candidates(pid, model):
        try:
            calculation = module.calc_price(module.Usage(), name, provider_id=candidate_pid, **context)
        except (LookupError, ValueError):
            continue
        matched = f"{calculation.provider.id}/{calculation.model.id}"
        price = _convert(calculation.model_price, matched)
        if price is None:
            _logger.debug("genai-prices knows %s but not its token prices; not priced", matched)
        return price, _next_change(calculation.model)
    return None, _FAR_FUTURE


def _convert(prices: Any, matched: str) -> ModelPrice | None:
    values = [getattr(prices, key, None) for key in _TOKEN_KEYS]
    request = getattr(prices, "requests_kcount", None)
    if values[0] is None and values[1] is None and request is None:
        return None
    unused = sorted(k for k, v in vars(prices).items() if v is not None and k not in (*_TOKEN_KEYS, "requests_kcount"))
    if unused:
        _logger.debug("%s: spans carry no counts for %s; those are not charged", matched, ", ".join(unused))
    starts = sorted({tier.start for value in values if hasattr(value, "tiers") for tier in value.tiers})
    tiers = tuple((start, _price_at(values, request, start, matched)) for start in starts)
    return _price_at(values, request, None, matched, tiers)


def _price_at(
    values: list[Any], request: Any, start: int | None, matched: str, tiers: tuple[tuple[int, ModelPrice], ...] = ()
) -> ModelPrice:
    i, o, cr, cw, r = (_rate(value, start) for value in values)
    return ModelPrice(
        input=i or 0.0,
        output=o or 0.0,
        cache_read=cr,
        cache_write=cw,
        reasoning=r,
        per_request=(_rate(request, start) or 0.0) / 1000,
        tiers=tiers,
        source="genai-prices",
        matched=matched,
    )


def _rate(value: Any, start: int | None) -> float | None:
    """A genai-prices price as a float: a Decimal, or for tiered prices the rate above ``start``."""
    if value is None:
        return None
    if not hasattr(value, "tiers"):
        return float(value)
    rate = value.base
    if start is not None:
        for tier in value.tiers:
            if tier.start <= start:
                rate = tier.price
    return float(rate)


def _next_change(model: Any) -> float:
    """Epoch seconds of the next moment any of the model's date or time-of-day conditions flips."""
    conditions = [getattr(p, "constraint", None) for p in model.prices] if isinstance(model.prices, list) else []
    conditions += [getattr(variant, "constraint", None) for variant in getattr(model, "price_variants", None) or ()]
    now = datetime.now(timezone.utc)
    changes = [at for condition in conditions if condition is not None for at in _boundaries(condition, now)]
    future = [at for at in changes if at > now]
    return min(future).timestamp() if future else _FAR_FUTURE


def _boundaries(condition: Any, now: datetime) -> list[datetime]:
    start_date = getattr(condition, "start_date", None)
    if start_date is not None:
        return [datetime.combine(start_date, time(0), timezone.utc)]
    times = [getattr(condition, "start_time", None), getattr(condition, "end_time", None)]
    days = (now.date(), now.date() + timedelta(days=1))
    # Naive times are UTC, as genai-prices reads them.
    utc = [t if t.tzinfo else t.replace(tzinfo=timezone.utc) for t in times if t is not None]
    return [datetime.combine(day, t) for t in utc for day in days]
