"""``google-genai`` contents → the conventions' message and part structures (content capture only).

Nothing here runs unless content capture is on (or a budget needs a size estimate).
``contents`` takes every shape the SDK accepts: a string, a ``Part``, a ``Content``, or a list
mixing them (consecutive strings and parts form one user message, as the SDK sends them);
dicts and the SDK's pydantic objects alike.

Roles: ``model`` → ``assistant``; a ``user`` message made only of function responses → ``tool``.
Part → part: ``text`` → ``text`` (``thought: true`` → ``reasoning``); ``function_call`` →
``tool_call``; ``function_response`` → ``tool_call_response``; ``inline_data`` → ``blob``
(base64); ``file_data`` → ``uri``; anything else (``executable_code``...) keeps its own name as
its type.
"""

from __future__ import annotations

import base64
from typing import Any

from wikitrace_otel._genai.content import text_part, tool_call_part, tool_response_part
from wikitrace_otel.instrumentors.google_genai.extractors import field, finish_reason

Message = dict[str, Any]
Part = dict[str, Any]

_ROLES = {"model": "assistant", "user": "user"}
_OTHER_PARTS = ("executable_code", "code_execution_result", "video_metadata", "tool_call", "tool_response")


def _is_content(item: Any) -> bool:
    """A ``Content`` (role and parts), as opposed to a ``Part`` or a string."""
    if isinstance(item, dict):
        return "parts" in item or "role" in item
    return hasattr(item, "parts") and hasattr(item, "role")


def input_messages(contents: Any) -> list[Message]:
    """The ``contents`` parameter as messages, in order."""
    if contents is None:
        return []
    items = contents if isinstance(contents, (list, tuple)) else [contents]
    messages: list[Message] = []
    loose: list[Part] = []  # strings and parts the SDK gathers into one user message
    for item in items:
        if _is_content(item):
            if loose:
                messages.append({"role": "user", "parts": loose})
                loose = []
            messages.append(content_message(item))
        else:
            loose.append(part_of(item))
    if loose:
        messages.append({"role": "user", "parts": loose})
    return messages


def content_message(content: Any) -> Message:
    """One ``Content`` as a message."""
    parts = [part_of(p) for p in field(content, "parts") or ()]
    role = _ROLES.get(str(field(content, "role") or "user"), str(field(content, "role")))
    if role == "user" and parts and all(p["type"] == "tool_call_response" for p in parts):
        role = "tool"
    return {"role": role, "parts": parts}


def part_of(part: Any) -> Part:
    """One part (a string counts as a text part)."""
    if isinstance(part, str):
        return text_part(part)
    text = field(part, "text")
    if isinstance(text, str):
        return {"type": "reasoning", "content": text} if field(part, "thought") else text_part(text)
    call = field(part, "function_call")
    if call is not None:
        return tool_call_part(field(call, "id"), field(call, "name"), _plain(field(call, "args")))
    answer = field(part, "function_response")
    if answer is not None:
        return tool_response_part(field(answer, "id"), _plain(field(answer, "response")))
    media = _media(part)
    if media is not None:
        return media
    for name in _OTHER_PARTS:
        if field(part, name) is not None:
            return {"type": name}
    return {"type": type(part).__name__ if not isinstance(part, dict) else "unknown"}


def _media(part: Any) -> Part | None:
    inline = field(part, "inline_data")
    if inline is not None:
        mime = field(inline, "mime_type")
        data = field(inline, "data")
        if isinstance(data, (bytes, bytearray)):
            data = base64.b64encode(data).decode("ascii")
        return _with_mime({"type": "blob", "modality": _modality(mime), "content": data}, mime)
    file_data = field(part, "file_data")
    if file_data is not None:
        mime = field(file_data, "mime_type")
        return _with_mime({"type": "uri", "modality": _modality(mime), "uri": field(file_data, "file_uri")}, mime)
    return None


def _modality(mime: Any) -> str:
    kind = mime.split("/", 1)[0] if isinstance(mime, str) else ""
    return kind if kind in ("image", "audio", "video") else "document"


def _with_mime(part: Part, mime: Any) -> Part:
    if isinstance(mime, str) and mime:
        part["mime_type"] = mime
    return part


def _plain(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    return dump(mode="json", exclude_none=True) if callable(dump) else value


def system_instructions(instruction: Any) -> list[Part] | None:
    """``config.system_instruction`` (a string, part, content or list) as text parts; None when not given."""
    if instruction is None:
        return None
    if isinstance(instruction, str):
        return [text_part(instruction)]
    if _is_content(instruction):
        items = field(instruction, "parts") or ()
    else:
        items = instruction if isinstance(instruction, (list, tuple)) else [instruction]
    parts = [part_of(p) for p in items]
    return [p for p in parts if p["type"] == "text"]


def tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    """``config.tools``: function declarations (and Python functions, which the SDK declares for
    automatic function calling) become ``function`` definitions; built-in tools
    (``google_search``, ``code_execution``...) keep their name as their type."""
    if not isinstance(tools, (list, tuple)) or not tools:
        return None
    definitions: list[dict[str, Any]] = []
    for tool in tools:
        if callable(tool) and not hasattr(tool, "function_declarations"):
            definitions.append(_function(getattr(tool, "__name__", None), getattr(tool, "__doc__", None), None))
            continue
        declarations = field(tool, "function_declarations")
        for declaration in declarations or ():
            schema = field(declaration, "parameters_json_schema") or field(declaration, "parameters")
            definitions.append(_function(field(declaration, "name"), field(declaration, "description"), schema))
        definitions.extend({"type": kind} for kind in _builtin_tools(tool))
    return definitions


def _function(name: Any, description: Any, schema: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": "function", "name": name}
    if isinstance(description, str) and description:
        definition["description"] = description.strip()
    if schema is not None:
        definition["parameters"] = _plain(schema)
    return definition


def _builtin_tools(tool: Any) -> list[str]:
    if isinstance(tool, dict):
        values = list(tool.items())
    else:
        values = [(k, getattr(tool, k, None)) for k in getattr(type(tool), "model_fields", {})]
    return [k for k, v in values if v is not None and k not in ("function_declarations", "functionDeclarations")]


def output_messages(candidates: Any) -> list[Message]:
    """One assistant message per candidate."""
    return [
        {
            "role": "assistant",
            "parts": [part_of(p) for p in field(field(c, "content"), "parts") or ()],
            "finish_reason": finish_reason(c),
        }
        for c in candidates or ()
    ]
