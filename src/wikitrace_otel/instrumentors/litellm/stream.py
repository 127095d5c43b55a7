"""Accumulator for LiteLLM's ``CustomStreamWrapper`` chunks (``ModelResponseStream``).

LiteLLM turns every provider's stream into OpenAI-style chunks: ``choices[i].delta`` with
``content`` / ``tool_calls`` / ``reasoning_content``, ``finish_reason`` on a choice's last
chunk, and ``usage`` on a chunk of its own at the end when the call asked for it
(``stream_options={"include_usage": True}``). Text is gathered only when content capture is on.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel._genai.content import text_part, tool_call_part
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.litellm import extractors as ex
from wikitrace_otel.semconv import gen_ai as g


class _Choice:
    """What one streamed choice carried: its text, tool-call fragments and finish reason."""

    __slots__ = ("finish_reason", "text", "reasoning", "tools")

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.tools: dict[int, list[Any]] = {}  # index -> [id, name, argument fragments...]

    def gather(self, delta: Any) -> None:
        for name, into in (("content", self.text), ("reasoning_content", self.reasoning)):
            piece = ex.field(delta, name)
            if isinstance(piece, str) and piece:
                into.append(piece)
        for call in ex.field(delta, "tool_calls") or ():
            entry = self.tools.setdefault(ex.field(call, "index") or 0, [None, None])
            function = ex.field(call, "function")
            entry[0] = ex.field(call, "id") or entry[0]
            entry[1] = ex.field(function, "name") or entry[1]
            arguments = ex.field(function, "arguments")
            if isinstance(arguments, str):
                entry.append(arguments)

    def message(self) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        if self.reasoning:
            parts.append({"type": "reasoning", "content": "".join(self.reasoning)})
        if self.text:
            parts.append(text_part("".join(self.text)))
        for index in sorted(self.tools):
            call_id, name, *fragments = self.tools[index]
            parts.append(tool_call_part(call_id, name, "".join(fragments)))
        return {"role": "assistant", "parts": parts, "finish_reason": self.finish_reason or "error"}


class ChatStreamAccumulator(Accumulator):
    """``ModelResponseStream`` chunks → response attributes (and output content when captured)."""

    __slots__ = ("capture", "identity", "usage", "choices")

    def __init__(self, invocation: Invocation) -> None:
        super().__init__(invocation)
        self.capture = invocation.content is not None
        self.identity: dict[str, Any] = {}
        self.usage: Any = None
        self.choices: dict[int, _Choice] = {}

    def on_chunk(self, chunk: Any) -> None:
        if not self.identity:
            ex.identity_attributes(chunk, self.identity)
        usage = ex.field(chunk, "usage")
        if usage is not None:
            self.usage = usage
        for choice in ex.field(chunk, "choices") or ():
            state = self.choices.get(ex.field(choice, "index") or 0)
            if state is None:
                state = self.choices[ex.field(choice, "index") or 0] = _Choice()
            reason = ex.field(choice, "finish_reason")
            if reason:
                state.finish_reason = str(reason)
            if self.capture:
                state.gather(ex.field(choice, "delta"))

    def finish(self, complete: bool) -> None:
        invocation = self.invocation
        response = invocation.response
        response.update(self.identity)
        ex.usage_attributes(self.usage, response)
        ordered = [self.choices[i] for i in sorted(self.choices)] or [_Choice()]
        response[g.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(c.finish_reason or "error" for c in ordered)
        if invocation.content is not None:
            invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = [c.message() for c in ordered]
