"""What every provider builds the same way from a request: the span's first attributes, the
input content it records, and (for the Stainless-generated OpenAI and Anthropic SDKs) the
raw-response mode a call asked for."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wikitrace_otel._genai.errors import internal_errors
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.semconv import gen_ai as g


def request_attributes(
    operation: str, provider: str, model: Any, address: str | None, port: int | None
) -> dict[str, Any]:
    """The attributes an inference span starts with: operation and provider, the requested
    model when it is a non-empty string, and the server address (with its port, when known)."""
    attrs: dict[str, Any] = {g.GEN_AI_OPERATION_NAME: operation, g.GEN_AI_PROVIDER_NAME: provider}
    if isinstance(model, str) and model:
        attrs[g.GEN_AI_REQUEST_MODEL] = model
    if address:
        attrs[g.SERVER_ADDRESS] = address
        if port is not None:
            attrs[g.SERVER_PORT] = port
    return attrs


def input_content(
    telemetry: GenAITelemetry, read: Callable[[Any], dict[str, Any]] | None, request: Any
) -> dict[str, Any] | None:
    """The non-empty input content ``read`` finds in ``request``, or None when content capture
    is off or the API has no content. Unreadable content loses the content, not the span."""
    if read is None or not telemetry.settings.capture_content.enabled:
        return None
    with internal_errors():
        return {k: v for k, v in read(request).items() if v}
    return None


RAW_HEADER = "X-Stainless-Raw-Response"
"""The header the Stainless-generated SDKs (OpenAI, Anthropic) send from ``with_raw_response``
(``"true"``) and ``with_streaming_response`` (``"stream"``)."""


def raw_mode(kwargs: dict[str, Any]) -> str | None:
    """The raw-response mode a Stainless SDK call asked for in its ``extra_headers``, or None."""
    headers = kwargs.get("extra_headers")
    value = headers.get(RAW_HEADER) if isinstance(headers, dict) else None
    return value if isinstance(value, str) else None


def without_raw(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of the parsed call behind a raw response (the header dropped)."""
    headers = {k: v for k, v in (kwargs.get("extra_headers") or {}).items() if k != RAW_HEADER}
    return {**kwargs, "extra_headers": headers}
