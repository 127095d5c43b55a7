"""Anthropic request parameters and response objects → GenAI span attributes.

Only what the call carried produces an attribute: unset parameters (absent, ``None``, or the
SDK's ``NOT_GIVEN`` / ``omit`` sentinels) produce none. Responses are read with :func:`field`,
so the SDK's pydantic models and plain dicts (a raw response's JSON) both work.

Token usage: Anthropic's ``input_tokens`` excludes the prompt cache, so
``gen_ai.usage.input_tokens = input_tokens + cache_read_input_tokens +
cache_creation_input_tokens``; the two cache counts also go to ``cache_read`` / ``cache_write``
(each only when reported), and ``output_tokens_details.thinking_tokens`` (newer API versions)
to ``gen_ai.usage.reasoning.output_tokens``.
"""

from __future__ import annotations

from typing import Any, Final

from wikitrace_otel.semconv import gen_ai as g

_SENTINELS = frozenset({"NotGiven", "Omit"})

ANTHROPIC_COUNT_TOKENS_INPUT_TOKENS: Final = "anthropic.message.count_tokens.input_tokens"
"""The count a ``messages.count_tokens`` call answered (the name the SDK's own spans use).

Not ``gen_ai.usage.input_tokens``: counting consumes nothing, and must not add to usage or cost."""

COUNT_TOKENS_OPERATION: Final = "count_tokens"
"""``gen_ai.operation.name`` of ``messages.count_tokens`` (no inference, no usage)."""

# (request keyword, attribute, accepted types) copied as they are when given.
_SCALARS: tuple[tuple[str, str, tuple[type, ...]], ...] = (
    ("max_tokens", g.GEN_AI_REQUEST_MAX_TOKENS, (int,)),
    ("temperature", g.GEN_AI_REQUEST_TEMPERATURE, (int, float)),
    ("top_p", g.GEN_AI_REQUEST_TOP_P, (int, float)),
    ("top_k", g.GEN_AI_REQUEST_TOP_K, (int,)),
)


def given(value: Any) -> bool:
    """True when a request parameter was actually set."""
    return value is not None and type(value).__name__ not in _SENTINELS


def field(obj: Any, name: str) -> Any:
    """``obj.name`` or ``obj[name]``; None when missing."""
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def as_int(value: Any) -> int | None:
    """``value`` when it is an int (and not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def messages_request(kwargs: dict[str, Any], attrs: dict[str, Any]) -> None:
    """Request attributes of ``messages.create`` / ``parse`` / ``stream`` (and ``beta.messages``)."""
    for key, attribute, types in _SCALARS:
        value = kwargs.get(key)
        if given(value) and isinstance(value, types) and not isinstance(value, bool):
            attrs[attribute] = value
    stop = kwargs.get("stop_sequences")
    if given(stop) and isinstance(stop, (list, tuple)) and stop:
        attrs[g.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(str(s) for s in stop)
    if kwargs.get("stream") is True:
        attrs[g.GEN_AI_REQUEST_STREAM] = True
    output_config = kwargs.get("output_config")
    effort = field(output_config, "effort") if given(output_config) else None
    if isinstance(effort, str) and effort:
        attrs[g.GEN_AI_REQUEST_REASONING_LEVEL] = effort
    if _json_output(kwargs, output_config):
        attrs[g.GEN_AI_OUTPUT_TYPE] = g.OutputType.JSON.value


def _json_output(kwargs: dict[str, Any], output_config: Any) -> bool:
    if given(kwargs.get("output_format")):  # a type for parse()/stream(), or the older dict form
        return True
    fmt = field(output_config, "format") if given(output_config) else None
    return given(fmt) and field(fmt, "type") == "json_schema"


def count_tokens_request(kwargs: dict[str, Any], attrs: dict[str, Any]) -> None:
    """``messages.count_tokens`` carries nothing beyond the model."""


def identity_attributes(message: Any, response: dict[str, Any]) -> None:
    """``gen_ai.response.id`` and ``gen_ai.response.model`` of a message."""
    for name, key in (("id", g.GEN_AI_RESPONSE_ID), ("model", g.GEN_AI_RESPONSE_MODEL)):
        value = field(message, name)
        if isinstance(value, str) and value:
            response[key] = value


def usage_attributes(usage: Any, response: dict[str, Any]) -> None:
    """Token usage of a message's ``usage`` (a model, a dict, or a merged stream usage dict)."""
    if usage is None:
        return
    uncached = as_int(field(usage, "input_tokens"))
    cache_read = as_int(field(usage, "cache_read_input_tokens"))
    cache_write = as_int(field(usage, "cache_creation_input_tokens"))
    if uncached is not None:
        response[g.GEN_AI_USAGE_INPUT_TOKENS] = uncached + (cache_read or 0) + (cache_write or 0)
    if cache_read is not None:
        response[g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cache_read
    if cache_write is not None:
        response[g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = cache_write
    output = as_int(field(usage, "output_tokens"))
    if output is not None:
        response[g.GEN_AI_USAGE_OUTPUT_TOKENS] = output
    details = field(usage, "output_tokens_details")
    thinking = as_int(field(details, "thinking_tokens")) if details is not None else None
    if thinking is not None:
        response[g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = thinking


def finish_reasons(stop_reason: Any) -> tuple[str, ...]:
    """The message's ``stop_reason`` as the one finish reason (``error`` when none came)."""
    return (stop_reason,) if isinstance(stop_reason, str) and stop_reason else ("error",)


def error_type(exc: BaseException) -> str | None:
    """The error's Anthropic type (``overloaded_error``, ``rate_limit_error``...), from its JSON body.

    HTTP errors and ``error`` events inside a stream both carry ``{"error": {"type": ...}}``.
    None when the exception carries no such body (connection errors, timeouts).
    """
    body = getattr(exc, "body", None)
    inner = body.get("error") if isinstance(body, dict) else None
    kind = inner.get("type") if isinstance(inner, dict) else None
    return kind if isinstance(kind, str) and kind else None
