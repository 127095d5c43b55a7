"""Accumulator for Anthropic message streams (``stream=True`` and the ``.stream()`` helper).

The raw events are ``message_start`` (id, model, input and cache usage),
``content_block_start`` / ``content_block_delta`` / ``content_block_stop`` per block,
``message_delta`` (``stop_reason`` and the cumulative usage) and ``message_stop``. Per event
only the two message-level events are read; block deltas are gathered only when content
capture is on.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel._genai.content import text_part, tool_call_part
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.anthropic import extractors as ex
from wikitrace_otel.instrumentors.anthropic import messages
from wikitrace_otel.semconv import gen_ai as g

_USAGE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "output_tokens_details",
)
# Which delta field carries a block's text, by block type.
_DELTA_TEXT = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}


class _Block:
    """One streamed content block: its start object and the text gathered from its deltas."""

    __slots__ = ("start", "pieces")

    def __init__(self, start: Any) -> None:
        self.start = start
        self.pieces: list[str] = []

    def part(self) -> dict[str, Any]:
        kind = ex.field(self.start, "type")
        text = "".join(self.pieces)
        if kind == "text":
            return text_part(text)
        if kind == "thinking":
            return {"type": "reasoning", "content": text}
        if kind in ("tool_use", "server_tool_use"):
            arguments = text if self.pieces else messages.block_part(self.start).get("arguments")
            return tool_call_part(ex.field(self.start, "id"), ex.field(self.start, "name"), arguments)
        return messages.block_part(self.start)


class MessagesAccumulator(Accumulator):
    """Raw message stream events → response attributes (and output content when captured)."""

    __slots__ = ("capture", "message", "usage", "stop_reason", "blocks")

    def __init__(self, invocation: Invocation) -> None:
        super().__init__(invocation)
        self.capture = invocation.content is not None
        self.message: Any = None
        self.usage: dict[str, Any] = {}
        self.stop_reason: Any = None
        self.blocks: dict[int, _Block] = {}

    def on_chunk(self, chunk: Any) -> None:
        kind = getattr(chunk, "type", None)
        if kind == "message_start":
            self.message = chunk.message
            self._merge_usage(getattr(chunk.message, "usage", None))
        elif kind == "message_delta":
            self.stop_reason = getattr(chunk.delta, "stop_reason", None) or self.stop_reason
            self._merge_usage(getattr(chunk, "usage", None))
        elif self.capture:
            self._gather(kind, chunk)

    def _merge_usage(self, usage: Any) -> None:
        if usage is None:
            return
        for name in _USAGE_FIELDS:
            value = getattr(usage, name, None)
            if value is not None:
                self.usage[name] = value

    def _gather(self, kind: Any, chunk: Any) -> None:
        if kind == "content_block_start":
            self.blocks[chunk.index] = _Block(chunk.content_block)
        elif kind == "content_block_delta":
            block = self.blocks.get(chunk.index)
            name = _DELTA_TEXT.get(getattr(chunk.delta, "type", None) or "")
            if block is not None and name is not None:
                block.pieces.append(getattr(chunk.delta, name, None) or "")

    def finish(self, complete: bool) -> None:
        invocation = self.invocation
        response = invocation.response
        if self.message is not None:
            ex.identity_attributes(self.message, response)
        ex.usage_attributes(self.usage or None, response)
        response[g.GEN_AI_RESPONSE_FINISH_REASONS] = ex.finish_reasons(self.stop_reason)
        if invocation.content is not None:
            parts = [self.blocks[i].part() for i in sorted(self.blocks)]
            reason = response[g.GEN_AI_RESPONSE_FINISH_REASONS][0]
            invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = [
                {"role": "assistant", "parts": parts, "finish_reason": reason}
            ]
