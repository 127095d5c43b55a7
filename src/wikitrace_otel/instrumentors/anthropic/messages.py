"""Anthropic messages → the conventions' message and part structures (content capture only).

Nothing here runs unless content capture is on. Inputs may be dicts or the SDK's pydantic
objects (a previous response's content appended to the history), hence :func:`field`.

Block → part: ``text`` → ``text``; ``thinking`` → ``reasoning``; ``tool_use`` /
``server_tool_use`` → ``tool_call`` (``arguments`` = the input object); ``tool_result`` →
``tool_call_response``; ``image`` / ``document`` → ``blob`` (base64), ``uri`` (url) or ``file``
(file id); anything else keeps its own ``type``.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel._genai.content import text_part, tool_call_part, tool_response_part
from wikitrace_otel.instrumentors.anthropic.extractors import field, given

Message = dict[str, Any]
Part = dict[str, Any]

_MODALITY = {"image": "image", "document": "document"}


def _sequence(value: Any) -> list[Any] | tuple[Any, ...]:
    """Only lists and tuples are read: iterating a generator would consume the caller's input."""
    return value if isinstance(value, (list, tuple)) else ()


def input_messages(messages: Any) -> list[Message]:
    """The ``messages`` parameter."""
    return [
        {"role": str(field(m, "role") or "user"), "parts": content_parts(field(m, "content"))}
        for m in _sequence(messages)
    ]


def system_instructions(system: Any) -> list[Part] | None:
    """The ``system`` parameter (a string or text blocks) as text parts; None when not given."""
    if not given(system):
        return None
    if isinstance(system, str):
        return [text_part(system)]
    return [text_part(str(field(b, "text") or "")) for b in _sequence(system) if field(b, "type") == "text"]


def tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    """The ``tools`` parameter: client tools become ``function`` definitions; server tools
    (``web_search_...``, ``bash_...``) keep their type."""
    if not given(tools) or not isinstance(tools, (list, tuple)):
        return None
    definitions = []
    for tool in tools:
        kind = field(tool, "type")
        custom = kind in (None, "custom")
        definition: dict[str, Any] = {"type": "function" if custom else str(kind), "name": field(tool, "name") or kind}
        description = field(tool, "description")
        if description is not None:
            definition["description"] = description
        schema = field(tool, "input_schema")
        if schema is not None:
            definition["parameters"] = schema
        definitions.append(definition)
    return definitions


def output_messages(content: Any, stop_reason: Any) -> list[Message]:
    """The one output message of a response."""
    reason = stop_reason if isinstance(stop_reason, str) and stop_reason else "error"
    return [{"role": "assistant", "parts": content_parts(content), "finish_reason": reason}]


def content_parts(content: Any) -> list[Part]:
    """A message's ``content``: a string or a list of blocks."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    return [block_part(b) for b in _sequence(content)]


def block_part(block: Any) -> Part:
    """One content block as a part."""
    kind = field(block, "type")
    if kind == "text":
        return text_part(str(field(block, "text") or ""))
    if kind == "thinking":
        return {"type": "reasoning", "content": field(block, "thinking") or ""}
    if kind in ("tool_use", "server_tool_use"):
        return tool_call_part(field(block, "id"), field(block, "name"), _plain(field(block, "input")))
    if kind == "tool_result":
        return tool_response_part(field(block, "tool_use_id"), _result_content(field(block, "content")))
    if kind in _MODALITY:
        return _media_part(_MODALITY[kind], field(block, "source"))
    return {"type": str(kind)}


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json", exclude_none=True) if callable(dump) else value


def _result_content(content: Any) -> Any:
    """A tool result's content: its text when it is only text, else the parts."""
    if content is None or isinstance(content, str):
        return content
    parts = content_parts(content)
    if all(p["type"] == "text" for p in parts):
        return "".join(p["content"] for p in parts)
    return parts


def _media_part(modality: str, source: Any) -> Part:
    kind = field(source, "type")
    mime = field(source, "media_type")
    part: Part
    if kind == "base64":
        part = {"type": "blob", "modality": modality, "content": field(source, "data")}
    elif kind == "url":
        part = {"type": "uri", "modality": modality, "uri": field(source, "url")}
    elif kind == "file":
        part = {"type": "file", "modality": modality, "file_id": field(source, "file_id")}
    elif kind == "text":
        return text_part(str(field(source, "data") or ""))
    else:
        return {"type": str(kind or modality), "modality": modality}
    if isinstance(mime, str) and mime:
        part["mime_type"] = mime
    return part
