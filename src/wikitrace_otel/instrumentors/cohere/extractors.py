"""Cohere v2 request parameters and responses → GenAI span attributes.

Usage: Cohere reports two sets of counts. ``billed_units`` (``input_tokens`` /
``output_tokens``) is what is charged, and it goes to ``gen_ai.usage.input_tokens`` /
``output_tokens``, so cost and budgets follow the invoice. ``tokens`` (what the model actually
processed, system prompt and tool scaffolding included) goes to ``cohere.usage.raw.*``, and
``cached_tokens`` to ``gen_ai.usage.cache_read.input_tokens``. Chat reports them in ``usage``
(streams: in ``message-end``), embed and rerank in ``meta``; rerank bills search units
(``cohere.usage.search_units``), not tokens. The API sends the counts as JSON numbers that
the SDK types as floats; whole numbers become ints.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel.instrumentors.mistral.extractors import as_int, field, given
from wikitrace_otel.semconv import gen_ai as g

# (request keyword, attribute, accepted types) copied as they are when given.
_CHAT_SCALARS: tuple[tuple[str, str, tuple[type, ...]], ...] = (
    ("max_tokens", g.GEN_AI_REQUEST_MAX_TOKENS, (int,)),
    ("temperature", g.GEN_AI_REQUEST_TEMPERATURE, (int, float)),
    ("p", g.GEN_AI_REQUEST_TOP_P, (int, float)),
    ("k", g.GEN_AI_REQUEST_TOP_K, (int,)),
    ("seed", g.GEN_AI_REQUEST_SEED, (int,)),
    ("presence_penalty", g.GEN_AI_REQUEST_PRESENCE_PENALTY, (int, float)),
    ("frequency_penalty", g.GEN_AI_REQUEST_FREQUENCY_PENALTY, (int, float)),
)


def count(value: Any) -> int | None:
    """A token or unit count: an int, or a float holding a whole number; else None."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return as_int(value)


def chat_request(kwargs: dict[str, Any], attrs: dict[str, Any], streaming: bool) -> None:
    """Request attributes of ``chat`` / ``chat_stream``."""
    for key, attribute, types in _CHAT_SCALARS:
        value = kwargs.get(key)
        if given(value) and isinstance(value, types) and not isinstance(value, bool):
            attrs[attribute] = value
    stop = kwargs.get("stop_sequences")
    if isinstance(stop, (list, tuple)) and stop:
        attrs[g.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(str(s) for s in stop)
    if streaming:
        attrs[g.GEN_AI_REQUEST_STREAM] = True
    fmt = kwargs.get("response_format")
    kind = field(fmt, "type") if given(fmt) else None
    if kind == "json_object":
        attrs[g.GEN_AI_OUTPUT_TYPE] = g.OutputType.JSON.value
    elif kind == "text":
        attrs[g.GEN_AI_OUTPUT_TYPE] = g.OutputType.TEXT.value


def embed_request(kwargs: dict[str, Any], attrs: dict[str, Any], streaming: bool) -> None:
    """Request attributes of ``embed``."""
    dimension = as_int(kwargs.get("output_dimension"))
    if dimension is not None:
        attrs[g.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimension
    types = kwargs.get("embedding_types")
    if isinstance(types, (list, tuple)) and types:
        attrs[g.GEN_AI_REQUEST_ENCODING_FORMATS] = tuple(str(t) for t in types)


def rerank_request(kwargs: dict[str, Any], attrs: dict[str, Any], streaming: bool) -> None:
    """``rerank`` carries nothing beyond the model among the conventions' request attributes."""


def usage_attributes(usage: Any, response: dict[str, Any]) -> None:
    """Billed tokens, raw tokens, cached tokens and search units of a ``usage`` / ``meta`` object."""
    if usage is None:
        return
    billed, raw = field(usage, "billed_units"), field(usage, "tokens")
    for source, names in (
        (billed, (g.GEN_AI_USAGE_INPUT_TOKENS, g.GEN_AI_USAGE_OUTPUT_TOKENS)),
        (raw, (g.COHERE_USAGE_RAW_INPUT_TOKENS, g.COHERE_USAGE_RAW_OUTPUT_TOKENS)),
    ):
        for name, key in zip(("input_tokens", "output_tokens"), names, strict=True):
            value = count(field(source, name)) if source is not None else None
            if value is not None:
                response[key] = value
    cached = count(field(usage, "cached_tokens"))
    if cached:
        response[g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
    search_units = count(field(billed, "search_units")) if billed is not None else None
    if search_units is not None:
        response[g.COHERE_USAGE_SEARCH_UNITS] = search_units


def response_id(result: Any, response: dict[str, Any]) -> None:
    """``gen_ai.response.id`` when the response has one."""
    value = field(result, "id")
    if isinstance(value, str) and value:
        response[g.GEN_AI_RESPONSE_ID] = value


def finish_reasons(reason: Any) -> tuple[str, ...]:
    """Cohere's ``finish_reason`` (``COMPLETE``, ``MAX_TOKENS``, ``TOOL_CALL``...) as the one finish reason."""
    reason = getattr(reason, "value", reason)
    return (reason,) if isinstance(reason, str) and reason else ("error",)


def error_type(exc: BaseException) -> str | None:
    """Cohere's error bodies carry only a message: the HTTP status (the default) is the code."""
    return None
