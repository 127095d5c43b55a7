"""Mistral messages → the conventions' message and part structures (content capture only).

Messages may be dicts or the SDK's models (``UserMessage``, a previous response's
``AssistantMessage``...), whose unset fields hold ``UNSET``: everything is read through
:func:`~.extractors.field`. Content is a string or a list of chunks: ``text``, ``image_url``
(a URL string or ``{"url": ...}``), ``document_url``, ``thinking`` (Magistral's reasoning,
itself a list of text chunks) and others, which keep their own ``type``. A ``system`` message
stays in ``gen_ai.input.messages``, as it does for OpenAI chat completions.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel._genai.content import media_part, text_part, tool_call_part, tool_response_part
from wikitrace_otel.instrumentors.mistral.extractors import field

Message = dict[str, Any]
Part = dict[str, Any]


def _sequence(value: Any) -> list[Any] | tuple[Any, ...]:
    """Only lists and tuples are read: iterating a generator would consume the caller's input."""
    return value if isinstance(value, (list, tuple)) else ()


def input_messages(messages: Any) -> list[Message]:
    """The ``messages`` parameter of ``chat.complete`` / ``chat.stream``."""
    return [_message(m) for m in _sequence(messages)]


def _message(message: Any) -> Message:
    role = str(field(message, "role") or "user")
    if role == "tool":
        response = tool_response_part(field(message, "tool_call_id"), plain_text(field(message, "content")))
        return {"role": "tool", "parts": [response]}
    parts = content_parts(field(message, "content"))
    parts.extend(tool_call_parts(field(message, "tool_calls")))
    return {"role": role, "parts": parts}


def plain_text(content: Any) -> Any:
    """A tool result as text: chunk lists are joined, anything else is kept."""
    if isinstance(content, list):
        return "".join(str(field(chunk, "text") or "") for chunk in content)
    return content


def content_parts(content: Any) -> list[Part]:
    """Parts of a message's ``content`` (a string, a list of chunks, or nothing)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)] if content else []
    return [_chunk_part(chunk) for chunk in _sequence(content)]


def _chunk_part(chunk: Any) -> Part:
    kind = field(chunk, "type")
    kind = getattr(kind, "value", kind)
    if kind == "text":
        return text_part(field(chunk, "text") or "")
    if kind == "thinking":
        return {"type": "reasoning", "content": plain_text(field(chunk, "thinking")) or ""}
    if kind in ("image_url", "document_url"):
        target = field(chunk, kind)
        url = target if isinstance(target, str) else field(target, "url")
        return media_part("image" if kind == "image_url" else "document", str(url or ""))
    return {"type": str(kind or "unknown")}


def tool_call_parts(calls: Any) -> list[Part]:
    """``tool_call`` parts of an assistant message's ``tool_calls`` (arguments: JSON text or a dict)."""
    parts = []
    for call in _sequence(calls):
        function = field(call, "function")
        parts.append(tool_call_part(field(call, "id"), field(function, "name"), field(function, "arguments")))
    return parts


def tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    """The ``tools`` parameter (``{"type": "function", "function": {name, description, parameters}}``)."""
    if not isinstance(tools, (list, tuple)):
        return None
    definitions = []
    for tool in tools:
        spec = field(tool, "function")
        definition: dict[str, Any] = {"type": "function", "name": field(spec, "name") or "function"}
        for key in ("description", "parameters"):
            value = field(spec, key)
            if value is not None:
                definition[key] = value
        definitions.append(definition)
    return definitions


def output_messages(choices: Any) -> list[Message]:
    """One output message per choice of a chat response, ordered by index."""
    ordered = sorted((c for c in _sequence(choices) if c is not None), key=lambda c: field(c, "index") or 0)
    messages = []
    for choice in ordered:
        message = field(choice, "message")
        parts = content_parts(field(message, "content")) if message is not None else []
        if message is not None:
            parts.extend(tool_call_parts(field(message, "tool_calls")))
        reason = field(choice, "finish_reason")
        messages.append(
            {"role": "assistant", "parts": parts, "finish_reason": str(getattr(reason, "value", reason) or "error")}
        )
    return messages
