"""Cohere v2 messages → the conventions' message and part structures (content capture only).

Cohere v2 messages have the shape Mistral's do (``role``, ``content`` as a string or a list of
``text`` / ``image_url`` / ``thinking`` / ``document`` chunks, ``tool_calls`` with
``function.name`` / ``arguments``, ``tool_call_id`` on ``tool`` messages), so the Mistral
mapping is reused. Two additions: an assistant's ``tool_plan`` (the plan the model states
before calling tools) becomes a ``reasoning`` part, and a ``thinking`` chunk holds its text
directly.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel.instrumentors.mistral import messages as mistral
from wikitrace_otel.instrumentors.mistral.extractors import field
from wikitrace_otel.instrumentors.mistral.messages import (
    Message,
    Part,
    content_parts,
    tool_call_parts,
    tool_definitions,
)

__all__ = ["input_messages", "output_message", "tool_definitions", "assistant_parts"]


def input_messages(messages: Any) -> list[Message]:
    """The ``messages`` parameter of ``chat`` / ``chat_stream``."""
    mapped = mistral.input_messages(messages)
    for message, result in zip(messages if mapped else (), mapped, strict=True):
        plan = field(message, "tool_plan")
        if isinstance(plan, str) and plan:
            result["parts"].insert(0, {"type": "reasoning", "content": plan})
    return mapped


def assistant_parts(tool_plan: Any, content: Any, tool_calls: Any) -> list[Part]:
    """Parts of an assistant message: its plan, its content, then its tool calls."""
    parts: list[Part] = []
    if isinstance(tool_plan, str) and tool_plan:
        parts.append({"type": "reasoning", "content": tool_plan})
    parts.extend(content_parts(content))
    parts.extend(tool_call_parts(tool_calls))
    return parts


def output_message(message: Any, finish_reason: str) -> list[Message]:
    """The one output message of a chat response."""
    parts = (
        assistant_parts(field(message, "tool_plan"), field(message, "content"), field(message, "tool_calls"))
        if message is not None
        else []
    )
    return [{"role": "assistant", "parts": parts, "finish_reason": finish_reason}]
