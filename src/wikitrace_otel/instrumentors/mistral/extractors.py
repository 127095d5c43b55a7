"""Mistral request parameters and response objects → GenAI span attributes.

The wire format is OpenAI-like, so responses go through the OpenAI instrumentor's readers
(:func:`~wikitrace_otel.instrumentors.openai.extractors.usage_attributes`, identity and
finish reasons): ``usage.prompt_tokens`` / ``completion_tokens`` become input / output tokens,
``prompt_tokens_details.cached_tokens`` the cache reads and
``completion_tokens_details.reasoning_tokens`` the reasoning tokens, each only when reported.

Only what the call carried produces an attribute. The Mistral SDK marks unset parameters and
response fields with its ``UNSET`` sentinel (class ``Unset``), which counts as not given.
"""

from __future__ import annotations

import json
from typing import Any

from wikitrace_otel.instrumentors.openai import extractors as openai_ex
from wikitrace_otel.semconv import gen_ai as g

_SENTINELS = frozenset({"Unset", "NotGiven", "Omit"})

# (request keyword, attribute, accepted types) copied as they are when given.
_CHAT_SCALARS: tuple[tuple[str, str, tuple[type, ...]], ...] = (
    ("temperature", g.GEN_AI_REQUEST_TEMPERATURE, (int, float)),
    ("top_p", g.GEN_AI_REQUEST_TOP_P, (int, float)),
    ("max_tokens", g.GEN_AI_REQUEST_MAX_TOKENS, (int,)),
    ("random_seed", g.GEN_AI_REQUEST_SEED, (int,)),
    ("presence_penalty", g.GEN_AI_REQUEST_PRESENCE_PENALTY, (int, float)),
    ("frequency_penalty", g.GEN_AI_REQUEST_FREQUENCY_PENALTY, (int, float)),
    ("reasoning_effort", g.GEN_AI_REQUEST_REASONING_LEVEL, (str,)),
)


def given(value: Any) -> bool:
    """True when a parameter or response field was actually set (not None, not ``UNSET``)."""
    return value is not None and type(value).__name__ not in _SENTINELS


def field(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]``; None when missing or ``UNSET``."""
    value = openai_ex.field(obj, name)
    return value if given(value) else None


def as_int(value: Any) -> int | None:
    """``value`` when it is an int (and not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def chat_request(kwargs: dict[str, Any], attrs: dict[str, Any], streaming: bool) -> None:
    """Request attributes of ``chat.complete`` / ``chat.stream`` (and their async twins)."""
    for key, attribute, types in _CHAT_SCALARS:
        value = kwargs.get(key)
        if given(value) and isinstance(value, types) and not isinstance(value, bool):
            attrs[attribute] = value
    stop = kwargs.get("stop")
    if isinstance(stop, str) and stop:
        attrs[g.GEN_AI_REQUEST_STOP_SEQUENCES] = (stop,)
    elif isinstance(stop, (list, tuple)) and stop:
        attrs[g.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(str(s) for s in stop)
    n = as_int(kwargs.get("n"))
    if n is not None and n != 1:
        attrs[g.GEN_AI_REQUEST_CHOICE_COUNT] = n
    if streaming:
        attrs[g.GEN_AI_REQUEST_STREAM] = True
    kind = field(kwargs.get("response_format"), "type") if given(kwargs.get("response_format")) else None
    kind = getattr(kind, "value", kind)  # an SDK enum in older releases
    if kind in ("json_object", "json_schema"):
        attrs[g.GEN_AI_OUTPUT_TYPE] = g.OutputType.JSON.value
    elif kind == "text":
        attrs[g.GEN_AI_OUTPUT_TYPE] = g.OutputType.TEXT.value


def embeddings_request(kwargs: dict[str, Any], attrs: dict[str, Any], streaming: bool) -> None:
    """Request attributes of ``embeddings.create``."""
    dimension = as_int(kwargs.get("output_dimension"))
    if dimension is not None:
        attrs[g.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimension
    fmt = kwargs.get("encoding_format")
    fmt = getattr(fmt, "value", fmt)
    if isinstance(fmt, str) and fmt:
        attrs[g.GEN_AI_REQUEST_ENCODING_FORMATS] = (fmt,)


def response_attributes(result: Any, response: dict[str, Any]) -> None:
    """Id, model and usage of a chat or embeddings response (or of a stream's chunks)."""
    openai_ex.identity_attributes(result, response, False)
    openai_ex.usage_attributes(field(result, "usage"), response)


def choice_finish_reasons(choices: Any) -> tuple[str, ...]:
    """Finish reasons per choice, ordered by index (``error`` where none came)."""
    return openai_ex.choice_finish_reasons([c for c in choices or () if c is not None])


def embeddings_result(result: Any, response: dict[str, Any]) -> None:
    """Embeddings usage is prompt tokens only: no output tokens are recorded."""
    model = field(result, "model")
    if isinstance(model, str) and model:
        response[g.GEN_AI_RESPONSE_MODEL] = model
    usage = field(result, "usage")
    tokens = as_int(field(usage, "prompt_tokens")) if usage is not None else None
    if tokens is not None:
        response[g.GEN_AI_USAGE_INPUT_TOKENS] = tokens


def error_type(exc: BaseException) -> str | None:
    """Mistral's error ``type`` (``invalid_request_error``...) from the JSON body of an HTTP error.

    The SDK's errors carry the body as text (``body``). None (no JSON body, no ``type``) falls
    back to the HTTP status.
    """
    body = getattr(exc, "body", None)
    if not isinstance(body, str) or not body.startswith("{"):
        return None
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    kind = parsed.get("type") if isinstance(parsed, dict) else None
    return kind if isinstance(kind, str) and kind else None
