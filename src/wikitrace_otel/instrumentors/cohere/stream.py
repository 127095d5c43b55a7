"""Accumulator for Cohere v2 chat streams (``chat_stream``).

Events, by ``type``: ``message-start`` (the response ``id``), ``content-start`` /
``content-delta`` / ``content-end`` per content block (text or thinking), ``tool-plan-delta``,
``tool-call-start`` (id, name, first argument text) / ``tool-call-delta`` (more argument text)
/ ``tool-call-end``, ``citation-start`` / ``citation-end``, and ``message-end`` with
``delta.finish_reason`` and ``delta.usage``. Per event only ``message-start`` and
``message-end`` are read; the rest is gathered only when content capture is on.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel._genai.content import text_part, tool_call_part
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.cohere import extractors as ex
from wikitrace_otel.instrumentors.mistral.extractors import field
from wikitrace_otel.semconv import gen_ai as g


def _event_type(event: Any) -> Any:
    """The event's ``type``, cheaply. Newer SDKs keep it among the model's extra fields, where
    plain attribute access costs several µs per chunk (pydantic's fallback lookup)."""
    extra = getattr(event, "__pydantic_extra__", None)
    kind = extra.get("type") if isinstance(extra, dict) else None
    return kind if kind is not None else getattr(event, "type", None)


def _message_delta(event: Any) -> Any:
    delta = field(event, "delta")
    return field(delta, "message") if delta is not None else None


class ChatStreamAccumulator(Accumulator):
    """Cohere v2 stream events → response attributes (and output content when captured)."""

    __slots__ = ("capture", "response_id", "finish_reason", "usage", "plan", "blocks", "calls")

    def __init__(self, invocation: Invocation) -> None:
        super().__init__(invocation)
        self.capture = invocation.content is not None
        self.response_id: Any = None
        self.finish_reason: Any = None
        self.usage: Any = None
        self.plan: list[str] = []
        self.blocks: dict[int, list[Any]] = {}  # index -> [kind, text pieces]
        self.calls: dict[int, list[Any]] = {}  # index -> [id, name, argument pieces]

    def on_chunk(self, chunk: Any) -> None:
        kind = _event_type(chunk)
        if kind == "message-start":
            self.response_id = field(chunk, "id")
        elif kind == "message-end":
            delta = field(chunk, "delta")
            self.finish_reason = field(delta, "finish_reason")
            self.usage = field(delta, "usage")
        elif self.capture:
            self._gather(kind, chunk)

    def _gather(self, kind: Any, chunk: Any) -> None:
        message = _message_delta(chunk)
        index = ex.count(field(chunk, "index")) or 0
        if kind in ("content-start", "content-delta"):
            content = field(message, "content")
            block = self.blocks.setdefault(index, ["text", []])
            if field(content, "type") == "thinking" or field(content, "thinking") is not None:
                block[0] = "thinking"
            block[1].append(field(content, "text") or field(content, "thinking") or "")
        elif kind == "tool-plan-delta":
            self.plan.append(field(message, "tool_plan") or "")
        elif kind in ("tool-call-start", "tool-call-delta"):
            call = field(message, "tool_calls")
            slot = self.calls.setdefault(index, [None, None, []])
            slot[0] = field(call, "id") or slot[0]
            function = field(call, "function")
            slot[1] = field(function, "name") or slot[1]
            slot[2].append(field(function, "arguments") or "")

    def finish(self, complete: bool) -> None:
        invocation = self.invocation
        response = invocation.response
        ex.response_id({"id": self.response_id}, response)
        ex.usage_attributes(self.usage, response)
        reasons = ex.finish_reasons(self.finish_reason)
        response[g.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
        if invocation.content is not None:
            invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = [
                {"role": "assistant", "parts": self._parts(), "finish_reason": reasons[0]}
            ]

    def _parts(self) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        if self.plan:
            parts.append({"type": "reasoning", "content": "".join(self.plan)})
        for _, (kind, pieces) in sorted(self.blocks.items()):
            text = "".join(pieces)
            parts.append({"type": "reasoning", "content": text} if kind == "thinking" else text_part(text))
        for _, (call_id, name, pieces) in sorted(self.calls.items()):
            parts.append(tool_call_part(call_id, name, "".join(pieces)))
        return parts
