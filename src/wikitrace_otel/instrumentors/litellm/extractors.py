"""LiteLLM request keyword arguments and responses → span attributes.

LiteLLM takes and returns the OpenAI shapes whatever the provider: ``ModelResponse`` (chat),
``ModelResponseStream`` chunks and ``EmbeddingResponse``, each with an OpenAI-style ``usage``.
LiteLLM normalises that usage across providers: ``prompt_tokens`` already includes cached
input (Anthropic's cache reads and writes are added in), ``prompt_tokens_details.cached_tokens``
holds cache reads, and Anthropic's cache writes are ``cache_creation_input_tokens``.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel.semconv import gen_ai as g

# keyword argument → attribute, for values recorded as they are (numbers).
_NUMERIC_PARAMS = (
    ("temperature", g.GEN_AI_REQUEST_TEMPERATURE, float),
    ("top_p", g.GEN_AI_REQUEST_TOP_P, float),
    ("top_k", g.GEN_AI_REQUEST_TOP_K, int),
    ("max_tokens", g.GEN_AI_REQUEST_MAX_TOKENS, int),
    ("max_completion_tokens", g.GEN_AI_REQUEST_MAX_TOKENS, int),
    ("seed", g.GEN_AI_REQUEST_SEED, int),
    ("frequency_penalty", g.GEN_AI_REQUEST_FREQUENCY_PENALTY, float),
    ("presence_penalty", g.GEN_AI_REQUEST_PRESENCE_PENALTY, float),
)
_JSON_FORMATS = frozenset({"json_object", "json_schema"})


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` for a dict, ``obj.name`` otherwise; None when missing."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def chat_request(kwargs: dict[str, Any], attrs: dict[str, Any]) -> None:
    """Request attributes of ``completion`` / ``acompletion``: only what the call carried."""
    for name, key, kind in _NUMERIC_PARAMS:
        value = kwargs.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            attrs[key] = kind(value)
    stop = kwargs.get("stop")
    if isinstance(stop, str):
        attrs[g.GEN_AI_REQUEST_STOP_SEQUENCES] = (stop,)
    elif isinstance(stop, (list, tuple)) and stop:
        attrs[g.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(str(s) for s in stop)
    n = as_int(kwargs.get("n"))
    if n is not None and n != 1:
        attrs[g.GEN_AI_REQUEST_CHOICE_COUNT] = n
    if kwargs.get("stream") is True:
        attrs[g.GEN_AI_REQUEST_STREAM] = True
    effort = kwargs.get("reasoning_effort")
    if isinstance(effort, str) and effort:
        attrs[g.GEN_AI_REQUEST_REASONING_LEVEL] = effort
    if _wants_json(kwargs.get("response_format")):
        attrs[g.GEN_AI_OUTPUT_TYPE] = g.OutputType.JSON.value


def _wants_json(response_format: Any) -> bool:
    if response_format is None:
        return False
    if isinstance(response_format, type):  # a pydantic model class: structured output
        return True
    return field(response_format, "type") in _JSON_FORMATS


def embedding_request(kwargs: dict[str, Any], attrs: dict[str, Any]) -> None:
    """Request attributes of ``embedding`` / ``aembedding``."""
    dimensions = as_int(kwargs.get("dimensions"))
    if dimensions is not None:
        attrs[g.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
    encoding = kwargs.get("encoding_format")
    if isinstance(encoding, str) and encoding:
        attrs[g.GEN_AI_REQUEST_ENCODING_FORMATS] = (encoding,)


def identity_attributes(obj: Any, response: dict[str, Any]) -> None:
    """Response id and model (LiteLLM invents an id when the provider gives none)."""
    for name, key in (("id", g.GEN_AI_RESPONSE_ID), ("model", g.GEN_AI_RESPONSE_MODEL)):
        value = field(obj, name)
        if isinstance(value, str) and value:
            response[key] = value


def usage_attributes(usage: Any, response: dict[str, Any]) -> None:
    """Token usage of a LiteLLM ``Usage`` (object or dict).

    Cache and reasoning counts are set only when above zero: LiteLLM fills in zeros for
    providers that report nothing, which would read as "reported zero".
    """
    if usage is None:
        return
    input_tokens, output_tokens = as_int(field(usage, "prompt_tokens")), as_int(field(usage, "completion_tokens"))
    if input_tokens is not None:
        response[g.GEN_AI_USAGE_INPUT_TOKENS] = input_tokens
    if output_tokens is not None:
        response[g.GEN_AI_USAGE_OUTPUT_TOKENS] = output_tokens
    details = field(usage, "prompt_tokens_details")
    cached = as_int(field(details, "cached_tokens")) or as_int(field(usage, "cache_read_input_tokens"))
    written = (
        as_int(field(usage, "cache_creation_input_tokens"))
        or as_int(field(details, "cache_creation_tokens"))
        or as_int(field(details, "cache_write_tokens"))
    )
    reasoning = as_int(field(field(usage, "completion_tokens_details"), "reasoning_tokens"))
    for key, value in (
        (g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cached),
        (g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, written),
        (g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, reasoning),
    ):
        if value:
            response[key] = value


def finish_reasons(choices: Any) -> tuple[str, ...]:
    """Finish reasons of a ``ModelResponse``'s choices, ordered by index."""
    ordered = sorted(choices or (), key=lambda c: field(c, "index") or 0)
    return tuple(str(field(c, "finish_reason") or "error") for c in ordered)
