"""``google-genai`` request parameters and responses → GenAI span attributes.

Only what the call carried produces an attribute. ``config`` may be a
``GenerateContentConfig`` / ``EmbedContentConfig`` or a plain dict (snake_case or camelCase
keys, as the SDK accepts both); responses are the SDK's pydantic objects. Everything is read
with :func:`field`, so both shapes work.

Token usage (``usage_metadata``): ``prompt_token_count`` already includes the cached prompt,
so it is ``gen_ai.usage.input_tokens`` as it is and ``cached_content_token_count`` is
``gen_ai.usage.cache_read.input_tokens``; the conventions count reasoning as output, so
``gen_ai.usage.output_tokens = candidates_token_count + thoughts_token_count`` and
``thoughts_token_count`` is also ``gen_ai.usage.reasoning.output_tokens``.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from wikitrace_otel.semconv import gen_ai as g

# (config field, attribute, accepted types) copied as they are when given.
_SCALARS: tuple[tuple[str, str, tuple[type, ...]], ...] = (
    ("temperature", g.GEN_AI_REQUEST_TEMPERATURE, (int, float)),
    ("top_p", g.GEN_AI_REQUEST_TOP_P, (int, float)),
    ("max_output_tokens", g.GEN_AI_REQUEST_MAX_TOKENS, (int,)),
    ("seed", g.GEN_AI_REQUEST_SEED, (int,)),
    ("presence_penalty", g.GEN_AI_REQUEST_PRESENCE_PENALTY, (int, float)),
    ("frequency_penalty", g.GEN_AI_REQUEST_FREQUENCY_PENALTY, (int, float)),
)
_JSON_MIME = "application/json"


def field(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]`` (a dict may also use the camelCase spelling); None when missing."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        value = obj.get(name)
        if value is None and "_" in name:
            head, *rest = name.split("_")
            value = obj.get(head + "".join(word.title() for word in rest))
        return value
    return getattr(obj, name, None)


def as_int(value: Any) -> int | None:
    """``value`` as an int when it is a whole number (the SDK types some counts as floats)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def enum_text(value: Any) -> str | None:
    """An SDK enum (or its string form) as lower-case text: ``FinishReason.STOP`` → ``stop``."""
    if isinstance(value, Enum):
        value = value.value
    return value.lower() if isinstance(value, str) and value else None


def generation_request(kwargs: dict[str, Any], attrs: dict[str, Any]) -> None:
    """Request attributes of ``generate_content`` / ``generate_content_stream`` (from ``config``)."""
    config = kwargs.get("config")
    if config is None:
        return
    for key, attribute, types in _SCALARS:
        value = field(config, key)
        if isinstance(value, types) and not isinstance(value, bool):
            attrs[attribute] = value
    top_k = as_int(field(config, "top_k"))
    if top_k is not None:
        attrs[g.GEN_AI_REQUEST_TOP_K] = top_k
    stop = field(config, "stop_sequences")
    if isinstance(stop, (list, tuple)) and stop:
        attrs[g.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(str(s) for s in stop)
    count = as_int(field(config, "candidate_count"))
    if count is not None and count != 1:
        attrs[g.GEN_AI_REQUEST_CHOICE_COUNT] = count
    level = enum_text(field(field(config, "thinking_config"), "thinking_level"))
    if level is not None and level != "thinking_level_unspecified":
        attrs[g.GEN_AI_REQUEST_REASONING_LEVEL] = level
    # The API takes a response schema only together with a MIME type (JSON, or text/x.enum).
    if field(config, "response_mime_type") == _JSON_MIME:
        attrs[g.GEN_AI_OUTPUT_TYPE] = g.OutputType.JSON.value


def embedding_request(kwargs: dict[str, Any], attrs: dict[str, Any]) -> None:
    """Request attributes of ``embed_content``."""
    dimensions = as_int(field(kwargs.get("config"), "output_dimensionality"))
    if dimensions is not None:
        attrs[g.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions


def identity_attributes(response: Any, out: dict[str, Any]) -> None:
    """``gen_ai.response.id`` and ``gen_ai.response.model`` (``response_id``, ``model_version``)."""
    for name, key in (("response_id", g.GEN_AI_RESPONSE_ID), ("model_version", g.GEN_AI_RESPONSE_MODEL)):
        value = field(response, name)
        if isinstance(value, str) and value:
            out[key] = value


def usage_attributes(usage: Any, out: dict[str, Any]) -> None:
    """Token usage of a response's ``usage_metadata`` (see the module documentation)."""
    if usage is None:
        return
    prompt = as_int(field(usage, "prompt_token_count"))
    cached = as_int(field(usage, "cached_content_token_count"))
    candidates = as_int(field(usage, "candidates_token_count"))
    thoughts = as_int(field(usage, "thoughts_token_count"))
    if prompt is not None:
        out[g.GEN_AI_USAGE_INPUT_TOKENS] = prompt
    if cached is not None:
        out[g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
    if candidates is not None or thoughts is not None:
        out[g.GEN_AI_USAGE_OUTPUT_TOKENS] = (candidates or 0) + (thoughts or 0)
    if thoughts is not None:
        out[g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = thoughts


def finish_reason(candidate: Any) -> str:
    """A candidate's ``finish_reason`` in lower case (``stop``, ``max_tokens``, ``safety``...);
    ``error`` when none came."""
    return enum_text(field(candidate, "finish_reason")) or "error"


def finish_reasons(candidates: Any) -> tuple[str, ...]:
    """One finish reason per candidate, in order (``error`` alone when there is no candidate)."""
    if not isinstance(candidates, (list, tuple)) or not candidates:
        return ("error",)
    return tuple(finish_reason(c) for c in candidates)


def embedding_usage(response: Any, out: dict[str, Any]) -> None:
    """Input tokens of an embeddings response: its ``usage_metadata`` where the API sends one,
    else the sum of the per-embedding ``statistics.token_count`` (Vertex text embedding models)."""
    prompt = as_int(field(field(response, "usage_metadata"), "prompt_token_count"))
    if prompt is None:
        counts = [as_int(field(field(e, "statistics"), "token_count")) for e in field(response, "embeddings") or ()]
        known = [c for c in counts if c is not None]
        prompt = sum(known) if known else None
    if prompt is not None:
        out[g.GEN_AI_USAGE_INPUT_TOKENS] = prompt


def error_type(exc: BaseException) -> str | None:
    """The error's Google status (``RESOURCE_EXHAUSTED``, ``INVALID_ARGUMENT``...), else its HTTP
    code, for the SDK's ``APIError``; None for anything else (connection errors, timeouts)."""
    if not type(exc).__module__.startswith("google.genai"):
        return None
    status = getattr(exc, "status", None)
    if isinstance(status, str) and status:
        return status
    code = getattr(exc, "code", None)
    return str(code) if isinstance(code, int) and not isinstance(code, bool) else None
