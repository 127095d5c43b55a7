"""OpenAI messages → the conventions' message and part structures (content capture only).

Nothing here runs unless content capture is on. Inputs may be dicts or the SDK's pydantic
objects (a previous response's message appended to the history), hence :func:`field`.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel._genai.content import media_part, text_part, tool_call_part, tool_response_part
from wikitrace_otel.instrumentors.openai.extractors import field

Message = dict[str, Any]


def _sequence(value: Any) -> list[Any] | tuple[Any, ...]:
    """Only lists and tuples are read: iterating a generator would consume the caller's input."""
    return value if isinstance(value, (list, tuple)) else ()


# --- Chat Completions -----------------------------------------------------------------


def chat_input_messages(messages: Any) -> list[Message]:
    """The ``messages`` parameter of Chat Completions."""
    return [_chat_message(m) for m in _sequence(messages)]


def _chat_message(message: Any) -> Message:
    role = field(message, "role") or "user"
    if role == "tool" or role == "function":
        response = tool_response_part(field(message, "tool_call_id"), _plain_content(field(message, "content")))
        return {"role": "tool", "parts": [response]}
    parts = _chat_content_parts(field(message, "content"))
    for call in field(message, "tool_calls") or ():
        function = field(call, "function")
        if function is not None:
            parts.append(tool_call_part(field(call, "id"), field(function, "name"), field(function, "arguments")))
        else:
            parts.append({"type": field(call, "type") or "tool_call", "id": field(call, "id")})
    legacy_call = field(message, "function_call")
    if legacy_call is not None:
        parts.append(tool_call_part(None, field(legacy_call, "name"), field(legacy_call, "arguments")))
    result: Message = {"role": role, "parts": parts}
    name = field(message, "name")
    if isinstance(name, str) and name:
        result["name"] = name
    return result


def _plain_content(content: Any) -> Any:
    if isinstance(content, list):
        return "".join(str(field(p, "text") or "") for p in content)
    return content


def _chat_content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [text_part(content)]
    return [_chat_part(p) for p in content]


def _chat_part(part: Any) -> dict[str, Any]:
    kind = field(part, "type")
    if kind == "text":
        return text_part(field(part, "text") or "")
    if kind == "image_url":
        return media_part("image", str(field(field(part, "image_url"), "url") or ""))
    if kind == "input_audio":
        audio = field(part, "input_audio")
        return {
            "type": "blob",
            "modality": "audio",
            "mime_type": f"audio/{field(audio, 'format')}",
            "content": field(audio, "data"),
        }
    if kind == "file":
        file = field(part, "file")
        file_id = field(file, "file_id")
        if file_id:
            return {"type": "file", "modality": "document", "file_id": file_id}
        return {"type": "blob", "modality": "document", "content": field(file, "file_data")}
    if kind == "refusal":
        return {"type": "refusal", "content": field(part, "refusal")}
    return {"type": str(kind)}


def chat_tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    """The ``tools`` parameter of Chat Completions (``{"type": "function", "function": {...}}``)."""
    if not isinstance(tools, (list, tuple)):
        return None
    definitions = []
    for tool in tools:
        kind = field(tool, "type") or "function"
        spec = field(tool, kind) or field(tool, "function") or {}
        definitions.append(_definition(kind, spec))
    return definitions


def _definition(kind: str, spec: Any) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": kind, "name": field(spec, "name") or kind}
    for key in ("description", "parameters"):
        value = field(spec, key)
        if value is not None:
            definition[key] = value
    return definition


def chat_output_messages(choices: Any) -> list[Message]:
    """One output message per choice of a Chat Completions response, ordered by index."""
    ordered = sorted(choices or (), key=lambda c: field(c, "index") or 0)
    return [_output_message(field(c, "message"), field(c, "finish_reason")) for c in ordered]


def _output_message(message: Any, finish_reason: Any) -> Message:
    output = _chat_message(message) if message is not None else {"role": "assistant", "parts": []}
    output["role"] = "assistant"
    refusal = field(message, "refusal") if message is not None else None
    if isinstance(refusal, str) and refusal:
        output["parts"].append({"type": "refusal", "content": refusal})
    audio = field(message, "audio") if message is not None else None
    transcript = field(audio, "transcript") if audio is not None else None
    if transcript:
        output["parts"].append(
            {"type": "blob", "modality": "audio", "content": field(audio, "data") or "", "transcript": transcript}
        )
    output["finish_reason"] = str(finish_reason or "error")
    return output


def completion_output_messages(choices: Any) -> list[Message]:
    """One output message per choice of a legacy Completions response."""
    ordered = sorted(choices or (), key=lambda c: field(c, "index") or 0)
    return [
        {
            "role": "assistant",
            "parts": [text_part(field(c, "text") or "")],
            "finish_reason": str(field(c, "finish_reason") or "error"),
        }
        for c in ordered
    ]


def prompt_input_messages(prompt: Any) -> list[Message]:
    """The ``prompt`` of legacy Completions as user messages."""
    if isinstance(prompt, str):
        return [{"role": "user", "parts": [text_part(prompt)]}]
    if isinstance(prompt, list) and all(isinstance(p, str) for p in prompt):
        return [{"role": "user", "parts": [text_part(p)]} for p in prompt]
    return []


# --- Responses ------------------------------------------------------------------------


def responses_input_messages(items: Any) -> list[Message]:
    """The ``input`` parameter of the Responses API (a string or a list of items)."""
    if isinstance(items, str):
        return [{"role": "user", "parts": [text_part(items)]}]
    messages: list[Message] = []
    for item in _sequence(items):
        kind = field(item, "type") or "message"
        if kind == "message":
            messages.append({"role": field(item, "role") or "user", "parts": _responses_parts(field(item, "content"))})
        elif kind == "function_call_output":
            messages.append(
                {"role": "tool", "parts": [tool_response_part(field(item, "call_id"), field(item, "output"))]}
            )
        else:
            messages.append({"role": "assistant", "parts": [_responses_item_part(item, kind)]})
    return messages


def _responses_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [text_part(content)]
    parts = []
    for part in content or ():
        kind = field(part, "type")
        if kind in ("input_text", "output_text", "text"):
            parts.append(text_part(field(part, "text") or ""))
        elif kind == "input_image":
            parts.append(_image_part(part))
        elif kind == "input_file":
            parts.append(
                {"type": "file", "modality": "document", "file_id": field(part, "file_id") or field(part, "filename")}
            )
        elif kind == "refusal":
            parts.append({"type": "refusal", "content": field(part, "refusal")})
        else:
            parts.append({"type": str(kind)})
    return parts


def _image_part(part: Any) -> dict[str, Any]:
    url = field(part, "image_url")
    if url:
        return media_part("image", str(url))
    return {"type": "file", "modality": "image", "file_id": field(part, "file_id")}


def _responses_item_part(item: Any, kind: str) -> dict[str, Any]:
    if kind == "function_call":
        return tool_call_part(field(item, "call_id"), field(item, "name"), field(item, "arguments"))
    if kind == "reasoning":
        summary = field(item, "summary") or ()
        return {"type": "reasoning", "content": "\n".join(str(field(s, "text") or "") for s in summary)}
    return {"type": kind}


def system_instructions(instructions: Any) -> list[dict[str, Any]] | None:
    """The Responses ``instructions`` parameter as system-instruction parts."""
    if isinstance(instructions, str) and instructions:
        return [text_part(instructions)]
    return None


def responses_tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    """The Responses ``tools`` parameter (function tools are flat; built-in tools keep their type)."""
    if not isinstance(tools, (list, tuple)):
        return None
    return [_definition(field(tool, "type") or "function", tool) for tool in tools]


def responses_output_messages(response: Any) -> list[Message]:
    """The output items of a Responses ``response`` as one assistant message."""
    parts: list[dict[str, Any]] = []
    for item in field(response, "output") or ():
        kind = field(item, "type")
        if kind == "message":
            parts.extend(_responses_parts(field(item, "content")))
        else:
            parts.append(_responses_item_part(item, str(kind)))
    return [{"role": "assistant", "parts": parts}]
