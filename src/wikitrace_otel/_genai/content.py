"""Message content as the conventions' JSON, kept valid under a size cap.

Content is built as plain Python structures (lists of ``{"role", "parts"}`` dicts) by each
provider's extractors and only serialized here. When the JSON is larger than the cap, long
strings are shortened (each keeps its start and says how much was cut) and, if that is not
enough, the oldest messages are dropped: the attribute is always valid JSON of the same shape.
"""

from __future__ import annotations

import base64
import json
from typing import Any

_MARK = "…[{} chars truncated]"
_MIN_STRING = 16
_SEPARATORS = (",", ":")


def to_json(value: Any) -> str:
    """Serialize compactly; objects JSON cannot represent become their ``str``.

    Unpaired surrogates (valid in a Python str, not in UTF-8) become ``?`` so the text can be
    encoded and exported.
    """
    text = json.dumps(value, separators=_SEPARATORS, ensure_ascii=False, default=_fallback)
    if text.isascii():
        return text
    return text.encode("utf-8", "replace").decode("utf-8")


def capped_json(value: Any, limit: int) -> tuple[str, bool]:
    """Serialize ``value`` in at most ``limit`` bytes of UTF-8.

    Returns:
        The JSON text and whether anything was shortened or dropped.
    """
    text = to_json(value)
    if _size(text) <= limit:
        return text, False
    string_limit = max(len(text) // 2, _MIN_STRING)
    while string_limit > _MIN_STRING:
        text = to_json(_shorten(value, string_limit))
        if _size(text) <= limit:
            return text, True
        string_limit //= 2
    shortened = _shorten(value, _MIN_STRING)
    if isinstance(shortened, list):
        while shortened:
            shortened = shortened[1:]
            text = to_json(shortened)
            if _size(text) <= limit:
                return text, True
        return "[]", True
    return to_json(None), True


def _size(text: str) -> int:
    # Most content is ASCII; only pay for encoding when the length could be over.
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def _shorten(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        if len(value) <= limit:
            return value
        return value[:limit] + _MARK.format(len(value) - limit)
    if isinstance(value, dict):
        return {k: _shorten(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shorten(v, limit) for v in value]
    return value


def _fallback(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json", exclude_none=True)
        except Exception:  # noqa: BLE001 - any failure falls back to str()
            pass
    return str(value)


def parse_arguments(arguments: Any) -> Any:
    """Tool-call arguments as an object when they are JSON text, else unchanged."""
    if isinstance(arguments, str):
        try:
            return json.loads(arguments)
        except ValueError:
            return arguments
    return arguments


def text_part(content: str) -> dict[str, Any]:
    """A ``text`` part."""
    return {"type": "text", "content": content}


def tool_call_part(call_id: Any, name: Any, arguments: Any) -> dict[str, Any]:
    """A ``tool_call`` part with its arguments parsed when they are JSON."""
    part: dict[str, Any] = {"type": "tool_call", "name": name, "arguments": parse_arguments(arguments)}
    if call_id:
        part["id"] = call_id
    return part


def tool_response_part(call_id: Any, response: Any) -> dict[str, Any]:
    """A ``tool_call_response`` part."""
    part: dict[str, Any] = {"type": "tool_call_response", "response": response}
    if call_id:
        part["id"] = call_id
    return part


def media_part(modality: str, url: str, mime_type: str | None = None) -> dict[str, Any]:
    """A ``blob`` part for a base64 ``data:`` URL, else a ``uri`` part."""
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        mime = header[5:].split(";", 1)[0] or mime_type
        part: dict[str, Any] = {"type": "blob", "modality": modality, "content": data}
        if mime:
            part["mime_type"] = mime
        return part
    part = {"type": "uri", "modality": modality, "uri": url}
    if mime_type:
        part["mime_type"] = mime_type
    return part
