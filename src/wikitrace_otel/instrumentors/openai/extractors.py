"""OpenAI request parameters and response objects → GenAI span attributes.

Functions here read only what the call carried: unset parameters (absent, ``None``, or the
SDK's ``NOT_GIVEN`` / ``omit`` sentinels) produce no attribute. Responses are read with
``getattr`` so pydantic models and plain dicts both work.
"""

from __future__ import annotations

from collections.abc import Callable
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
    get = kwargs.get
    for key, attribute in pairs:
        value = get(key)
        # The SDK's NOT_GIVEN / omit sentinels are none of these types.
        if value is not None and isinstance(value, (int, float, str)) and not isinstance(value, bool):
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


# chat_request walks the call's own keyword arguments (a few) rather than probing for every
# parameter it knows: scalars copied as they are, and the rest handled in _chat_options.
_CHAT_SCALAR_KEYS = {key: attribute for key, attribute in _CHAT_SCALARS if key != "max_completion_tokens"}
_CHAT_OPTIONS = frozenset(
    {"stop", "n", "stream", "service_tier", "modalities", "response_format", "max_completion_tokens"}
)


def chat_request(kwargs: dict[str, Any], attrs: dict[str, Any], is_openai: bool) -> None:
    """Request attributes of ``chat.completions.create`` / ``parse`` / ``stream``."""
    options = False
    for key, value in kwargs.items():
        attribute = _CHAT_SCALAR_KEYS.get(key)
        if attribute is not None:
            # The SDK's NOT_GIVEN / omit sentinels are none of these types.
            if value is not None and isinstance(value, (int, float, str)) and not isinstance(value, bool):
                attrs[attribute] = value
        elif key in _CHAT_OPTIONS:
            options = True
    if options:
        _chat_options(kwargs, attrs, is_openai)


def _chat_options(kwargs: dict[str, Any], attrs: dict[str, Any], is_openai: bool) -> None:
    # max_completion_tokens wins over max_tokens when both are given.
    _copy_scalars(kwargs, (("max_completion_tokens", g.GEN_AI_REQUEST_MAX_TOKENS),), attrs)
    get = kwargs.get
    stop, n = get("stop"), get("n")
    if stop is not None:
        _stop_sequences(stop, attrs)
    if n is not None:
        _choice_count(n, attrs)
    if get("stream") is True:
        attrs[g.GEN_AI_REQUEST_STREAM] = True
    if is_openai and get("service_tier") is not None:
        _service_tier(kwargs, attrs, is_openai)
    if get("modalities") is not None or get("response_format") is not None:
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
    # The SDK's NOT_GIVEN / omit sentinels are neither int nor str.
    dimensions = kwargs.get("dimensions")
    if dimensions is not None and isinstance(dimensions, int):
        attrs[g.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = dimensions
    fmt = kwargs.get("encoding_format")
    if fmt is not None and isinstance(fmt, str):
        attrs[g.GEN_AI_REQUEST_ENCODING_FORMATS] = (fmt,)


def fetch_request(kwargs: dict[str, Any], attrs: dict[str, Any], is_openai: bool) -> None:
    """Request attributes of ``responses.retrieve`` (``fetch_response``)."""
    _stream_flag(kwargs, attrs)


# --- responses ------------------------------------------------------------------------


def fields(obj: Any) -> Any:
    """The fields of a response object as a mapping (``get(name, default)`` and ``in``): a dict
    as it is, a pydantic (v2) model's ``__dict__`` (with its extra fields), else a view that
    reads attributes. The ``__dict__`` gives the values ``getattr`` would, without a
    Python-level ``__getattr__`` and an ``AttributeError`` for every field a response lacks."""
    if type(obj) in _MODEL_TYPES:
        extra = obj.__pydantic_extra__
        return {**extra, **obj.__dict__} if extra else obj.__dict__
    if isinstance(obj, dict):
        return obj
    if _is_model_type(type(obj)):
        return fields(obj)
    return _Attributes(obj)


def getter(obj: Any) -> Callable[[str, Any], Any]:
    """``get(name, default)`` for a dict or an object: bound once, cheaper than :func:`field` per name."""
    return fields(obj).get  # type: ignore[no-any-return]


class _Attributes:
    """:func:`fields` of an object that is neither a dict nor a pydantic model."""

    __slots__ = ("_obj",)

    def __init__(self, obj: Any) -> None:
        self._obj = obj

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self._obj, name, default)

    def __contains__(self, name: str) -> bool:
        return name in (getattr(type(self._obj), "model_fields", None) or getattr(self._obj, "__dict__", None) or ())


_MODEL_TYPES: set[type] = set()
_PLAIN_TYPES: set[type] = set()
_TYPES_LIMIT = 256


def _is_model_type(cls: type) -> bool:
    """Whether instances keep their field values in ``__dict__`` and their extra fields in
    ``__pydantic_extra__`` (pydantic v2 models whose fields no class attribute shadows),
    decided once per class."""
    if cls in _PLAIN_TYPES:
        return False
    model_fields = getattr(cls, "__pydantic_fields__", None)
    is_model = (
        isinstance(model_fields, dict)
        and any("__pydantic_extra__" in getattr(base, "__slots__", ()) for base in cls.__mro__)
        and not any(hasattr(cls, name) for name in model_fields)
    )
    known = _MODEL_TYPES if is_model else _PLAIN_TYPES
    if len(known) < _TYPES_LIMIT:
        known.add(cls)
    return is_model


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def usage_attributes(usage: Any, response: dict[str, Any]) -> tuple[int, int]:
    """Token usage of a Chat Completions or Responses ``usage`` object.

    Returns:
        Audio input and output token counts (for the metrics' modality split).
    """
    if usage is None:
        return (0, 0)
    # Runs on every call: fields() and the int checks are inlined for plain ints and models.
    values = usage.__dict__ if type(usage) in _MODEL_TYPES and not usage.__pydantic_extra__ else fields(usage)
    get = values.get
    names = _RESPONSES_USAGE if "input_tokens" in values else _CHAT_USAGE
    input_tokens, output_tokens, input_details, output_details = map(get, names)
    if input_tokens.__class__ is int or _int(input_tokens) is not None:
        response[g.GEN_AI_USAGE_INPUT_TOKENS] = input_tokens
    if output_tokens.__class__ is int or _int(output_tokens) is not None:
        response[g.GEN_AI_USAGE_OUTPUT_TOKENS] = output_tokens
    audio_in = audio_out = 0
    if input_details is not None:
        get_in = fields(input_details).get
        cached, written, audio = get_in("cached_tokens"), get_in("cache_write_tokens"), get_in("audio_tokens")
        if cached.__class__ is int or _int(cached) is not None:
            response[g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cached
        if written is not None and _int(written) is not None:
            response[g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = written
        audio_in = (_int(audio) or 0) if audio else 0
    if output_details is not None:
        get_out = fields(output_details).get
        reasoning, audio = get_out("reasoning_tokens"), get_out("audio_tokens")
        if reasoning.__class__ is int or _int(reasoning) is not None:
            response[g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning
        audio_out = (_int(audio) or 0) if audio else 0
    return (audio_in, audio_out)


_CHAT_USAGE = ("prompt_tokens", "completion_tokens", "prompt_tokens_details", "completion_tokens_details")
_RESPONSES_USAGE = ("input_tokens", "output_tokens", "input_tokens_details", "output_tokens_details")


def identity_attributes(obj: Any, response: dict[str, Any], is_openai: bool) -> None:
    """Response id, model, and the OpenAI service tier and system fingerprint."""
    values = obj.__dict__ if type(obj) in _MODEL_TYPES and not obj.__pydantic_extra__ else fields(obj)
    get = values.get
    for name, key in _OPENAI_IDENTITY if is_openai else _IDENTITY:
        value = get(name)
        if value and (value.__class__ is str or isinstance(value, str)):
            response[key] = value


_IDENTITY = (("id", g.GEN_AI_RESPONSE_ID), ("model", g.GEN_AI_RESPONSE_MODEL))
_OPENAI_IDENTITY = (
    *_IDENTITY,
    ("service_tier", g.OPENAI_RESPONSE_SERVICE_TIER),
    ("system_fingerprint", g.OPENAI_RESPONSE_SYSTEM_FINGERPRINT),
)


def choice_finish_reasons(choices: Any) -> tuple[str, ...]:
    """Finish reasons of Chat Completions or legacy Completions choices, ordered by index."""
    if isinstance(choices, list) and len(choices) == 1:  # the usual case: nothing to order
        return (str(fields(choices[0]).get("finish_reason") or "error"),)
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
