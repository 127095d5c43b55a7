"""Anthropic Messages API bodies and stream events, as the API documents them.

Builders return plain dicts (the JSON the server sends). A test composes an answer from
blocks (:func:`text_block`, :func:`thinking_block`, :func:`tool_use_block`), a :func:`usage`
and :func:`message`, then sends it whole or as events (:func:`message_events`).

Stream events, in the API's order: ``message_start`` (the message with empty ``content`` and
the input usage), then per block ``content_block_start`` / ``content_block_delta``... /
``content_block_stop`` (text as ``text_delta``, thinking as ``thinking_delta`` then
``signature_delta``, tool input as ``input_json_delta`` fragments), a ``ping``,
``message_delta`` (``stop_reason`` and the cumulative usage) and ``message_stop``.
"""

from __future__ import annotations

import json
from typing import Any

JSON = dict[str, Any]

DEFAULT_TEXT = "Hello from the fake Anthropic server."


def text_block(text: str) -> JSON:
    """A ``text`` content block."""
    return {"type": "text", "text": text}


def thinking_block(thinking: str, signature: str = "sig-fake") -> JSON:
    """A ``thinking`` content block (extended thinking)."""
    return {"type": "thinking", "thinking": thinking, "signature": signature}


def tool_use_block(tool_id: str, name: str, tool_input: JSON) -> JSON:
    """A ``tool_use`` content block."""
    return {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input}


def usage(
    input_tokens: int,
    output_tokens: int,
    cache_read: int | None = None,
    cache_write: int | None = None,
    thinking_tokens: int | None = None,
) -> JSON:
    """A ``usage`` object. ``input_tokens`` excludes the cached tokens, as in the API."""
    body: JSON = {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_read_input_tokens": cache_read,
        "cache_creation_input_tokens": cache_write,
    }
    if thinking_tokens is not None:
        body["output_tokens_details"] = {"thinking_tokens": thinking_tokens}
    return body


def message(
    model: str,
    content: list[JSON] | None = None,
    stop_reason: str | None = "end_turn",
    usage_body: JSON | None = None,
    message_id: str = "msg_fake_1",
) -> JSON:
    """A complete ``message`` object."""
    blocks = content if content is not None else [text_block(DEFAULT_TEXT)]
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage_body if usage_body is not None else usage(10, _words(blocks)),
    }


def _words(blocks: list[JSON]) -> int:
    return sum(len(str(b.get("text") or b.get("thinking") or "").split()) for b in blocks) or 1


def message_events(body: JSON, ping: bool = True) -> list[JSON]:
    """The stream events that deliver ``body`` (a :func:`message`)."""
    start_usage = {**body["usage"], "output_tokens": 1}
    start_usage.pop("output_tokens_details", None)
    started = {**body, "content": [], "stop_reason": None, "usage": start_usage}
    events: list[JSON] = [{"type": "message_start", "message": started}]
    for index, block in enumerate(body["content"]):
        events.extend(_block_events(index, block))
        if ping and index == 0:
            events.append({"type": "ping"})
    delta_usage = {k: v for k, v in body["usage"].items() if v is not None}
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": body["stop_reason"], "stop_sequence": body.get("stop_sequence")},
            "usage": delta_usage,
        }
    )
    events.append({"type": "message_stop"})
    return events


def _block_events(index: int, block: JSON) -> list[JSON]:
    kind = block["type"]
    if kind == "text":
        empty, deltas = (
            {"type": "text", "text": ""},
            [{"type": "text_delta", "text": t} for t in _pieces(block["text"])],
        )
    elif kind == "thinking":
        empty = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": t} for t in _pieces(block["thinking"])]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    elif kind == "tool_use":
        empty = {**block, "input": {}}
        text = json.dumps(block["input"])
        deltas = [{"type": "input_json_delta", "partial_json": text[i : i + 8]} for i in range(0, len(text), 8)]
    else:
        empty, deltas = block, []
    return [
        {"type": "content_block_start", "index": index, "content_block": empty},
        *({"type": "content_block_delta", "index": index, "delta": d} for d in deltas),
        {"type": "content_block_stop", "index": index},
    ]


def _pieces(text: str) -> list[str]:
    """Text split into word-sized deltas, whitespace kept (joining them gives ``text``)."""
    pieces, current = [], ""
    for char in text:
        current += char
        if char == " ":
            pieces.append(current)
            current = ""
    if current or not pieces:
        pieces.append(current)
    return pieces


def error_event(error_type: str = "overloaded_error", text: str = "Overloaded") -> JSON:
    """An ``error`` event inside a stream (the HTTP status was already 200)."""
    return {"type": "error", "error": {"type": error_type, "message": text}}


def error_body(error_type: str, text: str, request_id: str = "req_fake") -> JSON:
    """The API's error JSON: ``{"type": "error", "error": {"type", "message"}, "request_id"}``."""
    return {"type": "error", "error": {"type": error_type, "message": text}, "request_id": request_id}


def count_tokens(body: JSON) -> JSON:
    """The answer of ``/v1/messages/count_tokens``: a deterministic count of the request's words."""
    text = json.dumps([body.get("system"), body.get("messages"), body.get("tools")])
    return {"input_tokens": max(1, len(text.split()))}
