"""What the content-capture tests share: attribute keys, tools, and expected message builders."""

from __future__ import annotations

from typing import Any

INPUT = "gen_ai.input.messages"
OUTPUT = "gen_ai.output.messages"
SYSTEM = "gen_ai.system_instructions"
TOOL_DEFS = "gen_ai.tool.definitions"
CONTENT_KEYS = (INPUT, OUTPUT, SYSTEM, TOOL_DEFS)

PARAMETERS = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
RESPONSES_TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": PARAMETERS,
        "strict": True,
    }
]
TOOL_DEFINITIONS = [
    {"type": "function", "name": "get_weather", "description": "Weather in a city", "parameters": PARAMETERS}
]


def text(role: str, content: str) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": content}]}


def answer(content: str, finish_reason: str = "stop") -> dict[str, Any]:
    return {**text("assistant", content), "finish_reason": finish_reason}


def tool_call(call_id: str = "call_fake_1") -> dict[str, Any]:
    return {"type": "tool_call", "id": call_id, "name": "get_weather", "arguments": {"city": "Paris"}}
