"""OpenAI request parameters and response objects → GenAI span attributes.

Functions here read only what the call carried: unset parameters (absent, ``None``, or the
SDK's ``NOT_GIVEN`` / ``omit`` sentinels) produce no attribute. Responses are read with
``getattr`` so pydantic models and plain dicts both work.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from wikitrace_otel.semconv import gen_ai as g

_SENTINELS = frozenset({"NotGiven", "Omit"})

# (request keyword, attribute) pairs copied as they are when given.
_CHAT_SCALARS = (
    ("temperature", g.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", g.GEN_AI_REQUEST_TOP_P),
    ("seed", g.GEN_AI_REQUEST_SEED),
    ("frequency_penalty", g.GEN_AI_REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", g.GEN_AI_REQUEST_PRESENCE_PENALTY),
    ("max_tokens", g.GEN_AI_REQUEST_MAX_TOKENS),
    ("max_completion_tokens", g.GEN_AI_REQUEST_MAX_TOKENS),
    ("reasoning_effort", g.GEN_AI_REQUEST_REASONING_LEVEL),
)
_RESPONSES_SCALARS = (
    ("temperature", g.GEN_AI_REQUEST_TEMPERATURE),
    ("top_p", g.GEN_AI_REQUEST_TOP_P),
    ("max_output_tokens", g.GEN_AI_REQUEST_MAX_TOKENS),
    ("previous_response_id", g.GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID),
)


def given(value: Any) -> bool:
    """True when a request parameter was actually set."""
    return value is not None and type(value).__name__ not in _SENTINELS


def field(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]``; None when missing."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _copy_scalars(kwargs: dict[str, Any], pairs: tuple[tuple[str, str], ...], attrs: dict[str, Any]) -> None:
    for key, attribute in pairs:
        value = kwargs.get(key)
        if given(value) and isinstance(value, (int, float, str)) and not isinstance(value, bool):
            attrs[attribute] = value


def _stop_sequences(stop: Any, attrs: dict[str, Any]) -> None:
    if isinstance(stop, str):
        attrs[g.GEN_AI_REQUEST_STOP_SEQUENCES] = (stop,)
    elif given(stop) and isinstance(stop, (list, tuple)) and stop:
        attrs[g.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(str(s) for s in stop)


def _choice_count(n: Any, attrs: dict[str, Any]) -> None:
    if given(n) and isinstance(n, int) and n != 1:
        attrs[g.GEN_AI_REQUEST_CHOICE_COUNT] = n


def _stream_flag(kwargs: dict[str, Any], attrs: dict[str, Any]) -> None:
    if kwargs.get("stream") is True:
        attrs[g.GEN_AI_REQUEST_STREAM] = True


def _service_tier(kwargs: dict[str, Any], attrs: dict[str, Any], is_openai: bool) -> None:
    tier = kwargs.get("service_tier")
    if is_openai and given(tier) and isinstance(tier, str):
        attrs[g.OPENAI_REQUEST_SERVICE_TIER] = tier


def chat_request(kwargs: dict[str, Any], attrs: dict[str, Any], is_openai: bool) -> None:
    """Request attributes of ``chat.completions.create`` / ``parse`` / ``stream``."""
    _copy_scalars(kwargs, _CHAT_SCALARS, attrs)
    _stop_sequences(kwargs.get("stop"), attrs)
    _choice_count(kwargs.get("n"), attrs)
    _stream_flag(kwargs, attrs)
    _service_tier(kwargs, attrs, is_openai)
    output_type = _chat_output_type(kwargs)
    if output_type:
        attrs[g.GEN_AI_OUTPUT_TYPE] = output_type


def _chat_output_type(kwargs: dict[str, Any]) -> str | None:
    modalities = kwargs.get("modalities")
    if given(modalities) and "audio" in modalities:
        return g.OutputType.SPEECH.value
    fmt = kwargs.get("response_format")
    if not given(fmt):
        return None
    if isinstance(fmt, type):  # a pydantic model passed to parse()/stream()
        return g.OutputType.JSON.value
    kind = field(fmt, "type")
    if kind in ("json_schema", "json_object"):
        return g.OutputType.JSON.value
    return g.OutputType.TEXT.value if kind == "text" else None


def responses_request(kwargs: dict[str, Any], attrs: dict[str, Any], is_openai: bool) -> None:
    """Request attributes of ``responses.create`` / ``parse`` / ``stream``."""
    _copy_scalars(kwargs, _RESPONSES_SCALARS, attrs)
    _stream_flag(kwargs, attrs)
    _service_tier(kwargs, attrs, is_openai)
    reasoning = kwargs.get("reasoning")
    effort = field(reasoning, "effort") if given(reasoning) else None
    if isinstance(effort, str):
        attrs[g.GEN_AI_REQUEST_REASONING_LEVEL] = effort
    conversation = kwargs.get("conversation")
    conversation_id = (
        conversation if isinstance(conversation, str) else field(conversation, "id") if given(conversation) else None
    )
    if isinstance(conversation_id, str) and conversation_id:
        attrs[g.GEN_AI_CONVERSATION_ID] = conversation_id
    output_type = _responses_output_type(kwargs)
    if output_type:
        attrs[g.GEN_AI_OUTPUT_TYPE] = output_type


def _responses_output_type(kwargs: dict[str, Any]) -> str | None:
    if given(kwargs.get("text_format")):
        return g.OutputType.JSON.value
    text = kwargs.get("text")
    fmt = field(text, "format") if given(text) else None
    kind = field(fmt, "type") if fmt is not None else None
    if kind in ("json_schema", "json_object"):
        return g.OutputType.JSON.value
    return g.OutputType.TEXT.value if kind == "text" else None


def completions_request(kwargs: dict[str, Any], attrs: dict[str, Any], is_openai: bool) -> None:
    """Request attributes of the legacy ``completions.create``."""
    _copy_scalars(kwargs, _CHAT_SCALARS, attrs)
    _stop_sequences(kwargs.get("stop"), attrs)
    _choice_count(kwargs.get("n"), attrs)
    _stream_flag(kwargs, attrs)


def embeddings_request(kwargs: dict[str, Any], attrs: dict[str, Any], is_openai: bool) -> None:
    """Request attributes of ``embeddings.create``."""
    dimensions = kwargs.get("dimensions")
    if given(dimensions) and isinstance(dimensions, int):
        attrs[g.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
    fmt = kwargs.get("encoding_format")
    if given(fmt) and isinstance(fmt, str):
        attrs[g.GEN_AI_REQUEST_ENCODING_FORMATS] = (fmt,)


def fetch_request(kwargs: dict[str, Any], attrs: dict[str, Any], is_openai: bool) -> None:
    """Request attributes of ``responses.retrieve`` (``fetch_response``)."""
    _stream_flag(kwargs, attrs)


# --- responses ------------------------------------------------------------------------


def _getter(obj: Any) -> Callable[[str, Any], Any]:
    """``get(name, default)`` for a dict or an object: bound once, cheaper than :func:`field` per name."""
    return obj.get if isinstance(obj, dict) else partial(getattr, obj)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_attributes(usage: Any, response: dict[str, Any]) -> tuple[int, int]:
    """Token usage of a Chat Completions or Responses ``usage`` object.

    Returns:
        Audio input and output token counts (for the metrics' modality split).
    """
    if usage is None:
        return (0, 0)
    get = _getter(usage)
    names = _usage_names(usage)
    input_tokens, output_tokens = get(names[0], None), get(names[1], None)
    input_details, output_details = get(names[2], None), get(names[3], None)
    for key, value in ((g.GEN_AI_USAGE_INPUT_TOKENS, input_tokens), (g.GEN_AI_USAGE_OUTPUT_TOKENS, output_tokens)):
        if _int(value) is not None:
            response[key] = value
    audio_in = audio_out = 0
    if input_details is not None:
        get_in = _getter(input_details)
        cached, written = _int(get_in("cached_tokens", None)), _int(get_in("cache_write_tokens", None))
        if cached is not None:
            response[g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
        if written is not None:
            response[g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = written
        audio_in = _int(get_in("audio_tokens", None)) or 0
    if output_details is not None:
        get_out = _getter(output_details)
        reasoning = _int(get_out("reasoning_tokens", None))
        if reasoning is not None:
            response[g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning
        audio_out = _int(get_out("audio_tokens", None)) or 0
    return (audio_in, audio_out)


_CHAT_USAGE = ("prompt_tokens", "completion_tokens", "prompt_tokens_details", "completion_tokens_details")
_RESPONSES_USAGE = ("input_tokens", "output_tokens", "input_tokens_details", "output_tokens_details")
_usage_names_by_type: dict[type, tuple[str, str, str, str]] = {}


def _usage_names(usage: Any) -> tuple[str, str, str, str]:
    """Which naming a usage object follows, decided once per class: probing a pydantic model
    for a field it lacks is slow."""
    if isinstance(usage, dict):
        return _RESPONSES_USAGE if "input_tokens" in usage else _CHAT_USAGE
    cls = type(usage)
    names = _usage_names_by_type.get(cls)
    if names is None:
        fields = getattr(cls, "model_fields", None) or getattr(usage, "__dict__", None) or ()
        names = _RESPONSES_USAGE if "input_tokens" in fields else _CHAT_USAGE
        if len(_usage_names_by_type) < 64:
            _usage_names_by_type[cls] = names
    return names


def identity_attributes(obj: Any, response: dict[str, Any], is_openai: bool) -> None:
    """Response id, model, and the OpenAI service tier and system fingerprint."""
    get = _getter(obj)
    keys = _OPENAI_IDENTITY if is_openai else _IDENTITY
    for name, key in keys:
        value = get(name, None)
        if isinstance(value, str) and value:
            response[key] = value


_IDENTITY = (("id", g.GEN_AI_RESPONSE_ID), ("model", g.GEN_AI_RESPONSE_MODEL))
_OPENAI_IDENTITY = (
    *_IDENTITY,
    ("service_tier", g.OPENAI_RESPONSE_SERVICE_TIER),
    ("system_fingerprint", g.OPENAI_RESPONSE_SYSTEM_FINGERPRINT),
)


def choice_finish_reasons(choices: Any) -> tuple[str, ...]:
    """Finish reasons of Chat Completions or legacy Completions choices, ordered by index."""
    ordered = sorted(choices or (), key=lambda c: field(c, "index") or 0)
    return tuple(str(field(c, "finish_reason") or "error") for c in ordered)


def responses_finish_reason(obj: Any) -> str:
    """A finish reason for a Responses ``response``, which reports a status instead."""
    status = field(obj, "status")
    if status == "completed":
        output = field(obj, "output") or ()
        return "tool_calls" if any(field(item, "type") == "function_call" for item in output) else "stop"
    if status == "incomplete":
        details = field(obj, "incomplete_details")
        reason = field(details, "reason") if details is not None else None
        return "length" if reason == "max_output_tokens" else str(reason or "incomplete")
    if status in ("failed", "cancelled"):
        return "error" if status == "failed" else "cancelled"
    return str(status or "error")
