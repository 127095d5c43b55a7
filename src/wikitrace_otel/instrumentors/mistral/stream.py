"""Accumulator for Mistral chat streams (``chat.stream`` / ``chat.stream_async``).

The SDK yields ``CompletionEvent`` objects whose ``data`` is an OpenAI-like chunk: ``id``,
``model``, ``choices[{index, delta{content, tool_calls}, finish_reason}]`` and, on the last
chunk, ``usage``. The server ends the stream with ``data: [DONE]``, which the SDK swallows.
Per chunk only identity, usage and finish reasons are read; text, reasoning and tool-call
pieces are gathered only when content capture is on.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel._genai.content import text_part, tool_call_part
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.mistral import extractors as ex
from wikitrace_otel.semconv import gen_ai as g


class _Choice:
    """What one streamed choice has said so far."""

    __slots__ = ("finish_reason", "text", "reasoning", "tool_calls")

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.text: list[str] = []
        self.reasoning: list[str] = []
        self.tool_calls: dict[int, list[Any]] = {}  # index -> [id, name, argument fragments or a dict]

    def gather(self, delta: Any) -> None:
        content = ex.field(delta, "content")
        if isinstance(content, str):
            self.text.append(content)
        elif isinstance(content, list):
            for chunk in content:
                kind = ex.field(chunk, "type")
                if kind == "text":
                    self.text.append(ex.field(chunk, "text") or "")
                elif kind == "thinking":
                    self.reasoning.extend(str(ex.field(t, "text") or "") for t in ex.field(chunk, "thinking") or ())
        for position, call in enumerate(ex.field(delta, "tool_calls") or ()):
            index = ex.as_int(ex.field(call, "index"))
            slot = self.tool_calls.setdefault(position if index is None else index, [None, None, []])
            slot[0] = ex.field(call, "id") or slot[0]
            function = ex.field(call, "function")
            slot[1] = ex.field(function, "name") or slot[1]
            arguments = ex.field(function, "arguments")
            if isinstance(arguments, str):
                slot[2].append(arguments)
            elif arguments is not None:
                slot[2] = arguments  # already an object: sent whole

    def message(self, reason: str) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        if self.reasoning:
            parts.append({"type": "reasoning", "content": "".join(self.reasoning)})
        if self.text:
            parts.append(text_part("".join(self.text)))
        for _, (call_id, name, arguments) in sorted(self.tool_calls.items()):
            parts.append(
                tool_call_part(call_id, name, "".join(arguments) if isinstance(arguments, list) else arguments)
            )
        return {"role": "assistant", "parts": parts, "finish_reason": reason}


class ChatAccumulator(Accumulator):
    """Mistral ``CompletionEvent`` objects → response attributes (and output content when captured)."""

    __slots__ = ("capture", "expected", "choices", "usage", "identity")

    def __init__(self, invocation: Invocation, expected_choices: int) -> None:
        super().__init__(invocation)
        self.capture = invocation.content is not None
        self.expected = expected_choices
        self.choices: dict[int, _Choice] = {}
        self.usage: Any = None
        self.identity: Any = None

    def on_chunk(self, chunk: Any) -> None:
        # Per chunk, so plain getattr on the SDK's models: ``usage`` and ``finish_reason`` are
        # None (not ``UNSET``) when absent, and ``index`` is always an int.
        data = getattr(chunk, "data", chunk)
        if self.identity is None:
            self.identity = data
        usage = getattr(data, "usage", None)
        if usage is not None:
            self.usage = usage
        for streamed in getattr(data, "choices", None) or ():
            index = getattr(streamed, "index", 0)
            choice = self.choices.get(index)
            if choice is None:
                choice = self.choices[index] = _Choice()
            reason = getattr(streamed, "finish_reason", None)
            if reason and isinstance(reason, str):
                choice.finish_reason = reason
            if self.capture:
                choice.gather(ex.field(streamed, "delta"))

    def finish(self, complete: bool) -> None:
        invocation = self.invocation
        response = invocation.response
        if self.identity is not None:
            ex.response_attributes(
                {"id": ex.field(self.identity, "id"), "model": ex.field(self.identity, "model"), "usage": self.usage},
                response,
            )
        count = max(self.expected, (max(self.choices) + 1) if self.choices else 0)
        reasons = tuple(
            (choice.finish_reason if (choice := self.choices.get(i)) and choice.finish_reason else "error")
            for i in range(count)
        )
        response[g.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
        if invocation.content is not None:
            invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = [
                (self.choices.get(i) or _Choice()).message(reason) for i, reason in enumerate(reasons)
            ]
