"""Accumulators for OpenAI streams: Chat Completions chunks, legacy Completions chunks and
Responses events. Each keeps per chunk only what the span needs; text and tool-call
fragments are reassembled only when content capture is on.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel._genai.content import text_part, tool_call_part
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.openai import extractors as ex
from wikitrace_otel.instrumentors.openai import messages
from wikitrace_otel.semconv import gen_ai as g


class _Choice:
    """What one streamed choice has said so far."""

    __slots__ = ("finish_reason", "text", "tool_calls")

    def __init__(self) -> None:
        self.finish_reason: str | None = None
        self.text: list[str] = []
        self.tool_calls: dict[int, list[Any]] = {}  # index -> [id, name, [argument fragments]]


class ChatAccumulator(Accumulator):
    """Chat Completions (and legacy Completions) chunks."""

    __slots__ = ("is_openai", "capture", "expected", "choices", "usage", "identity")

    def __init__(self, invocation: Invocation, is_openai: bool, expected_choices: int) -> None:
        super().__init__(invocation)
        self.is_openai = is_openai
        self.capture = invocation.content is not None
        self.expected = expected_choices
        self.choices: dict[int, _Choice] = {}
        self.usage: Any = None
        self.identity: Any = None

    def on_chunk(self, chunk: Any) -> None:
        if self.identity is None:
            self.identity = chunk
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self.usage = usage
        for delta_choice in getattr(chunk, "choices", None) or ():
            index = delta_choice.index or 0
            choice = self.choices.get(index)
            if choice is None:
                choice = self.choices[index] = _Choice()
            reason = delta_choice.finish_reason
            if reason:
                choice.finish_reason = reason
            if self.capture:
                _gather(choice, delta_choice)

    def finish(self, complete: bool) -> None:
        invocation = self.invocation
        response = invocation.response
        if self.identity is not None:
            ex.identity_attributes(self.identity, response, self.is_openai)
        invocation.audio_tokens = ex.usage_attributes(self.usage, response)
        count = max(self.expected, (max(self.choices) + 1) if self.choices else 0)
        reasons = []
        for index in range(count):
            choice = self.choices.get(index)
            reasons.append(choice.finish_reason if choice and choice.finish_reason else "error")
        if reasons:
            response[g.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(reasons)
        if invocation.content is not None:
            invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = [
                _output_message(self.choices.get(i), reason) for i, reason in enumerate(reasons)
            ]


def _gather(choice: _Choice, delta_choice: Any) -> None:
    delta = getattr(delta_choice, "delta", None)
    if delta is None:  # legacy Completions chunk
        text = getattr(delta_choice, "text", None)
        if text:
            choice.text.append(text)
        return
    if delta.content:
        choice.text.append(delta.content)
    for call in getattr(delta, "tool_calls", None) or ():
        slot = choice.tool_calls.setdefault(call.index or 0, [None, None, []])
        if call.id:
            slot[0] = call.id
        function = call.function
        if function is not None:
            if function.name:
                slot[1] = function.name
            if function.arguments:
                slot[2].append(function.arguments)


def _output_message(choice: _Choice | None, reason: str) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    if choice is not None:
        if choice.text:
            parts.append(text_part("".join(choice.text)))
        for _, (call_id, name, fragments) in sorted(choice.tool_calls.items()):
            parts.append(tool_call_part(call_id, name, "".join(fragments)))
    return {"role": "assistant", "parts": parts, "finish_reason": reason}


_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


class ResponsesAccumulator(Accumulator):
    """Responses API stream events; the final event carries the whole response."""

    __slots__ = ("is_openai", "capture", "final", "started", "text")

    def __init__(self, invocation: Invocation, is_openai: bool) -> None:
        super().__init__(invocation)
        self.is_openai = is_openai
        self.capture = invocation.content is not None
        self.final: Any = None
        self.started: Any = None
        self.text: list[str] = []

    def on_chunk(self, chunk: Any) -> None:
        kind = getattr(chunk, "type", None)
        if kind == "response.output_text.delta":
            if self.capture:
                self.text.append(chunk.delta)
        elif kind in _FINAL_EVENTS:
            self.final = chunk.response
        elif kind == "response.created":
            self.started = chunk.response

    def finish(self, complete: bool) -> None:
        invocation = self.invocation
        if self.final is not None:
            responses_result(invocation, self.final, self.is_openai)
            return
        if self.started is not None:
            ex.identity_attributes(self.started, invocation.response, self.is_openai)
        invocation.response[g.GEN_AI_RESPONSE_FINISH_REASONS] = ("error",)
        if invocation.content is not None:
            parts = [text_part("".join(self.text))] if self.text else []
            invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = [
                {"role": "assistant", "parts": parts, "finish_reason": "error"}
            ]


def responses_result(invocation: Invocation, result: Any, is_openai: bool) -> None:
    """Span attributes and output content of a complete Responses ``response`` object."""
    response = invocation.response
    ex.identity_attributes(result, response, is_openai)
    reason = ex.responses_finish_reason(result)
    if invocation.operation == g.Operation.FETCH_RESPONSE.value:
        # A fetch performs no inference: its usage was counted when the response was made.
        status = ex.field(result, "status")
        if isinstance(status, str):
            response[g.GEN_AI_RESPONSE_STATUS] = status
    else:
        invocation.audio_tokens = ex.usage_attributes(ex.field(result, "usage"), response)
        response[g.GEN_AI_RESPONSE_FINISH_REASONS] = (reason,)
    if invocation.content is not None:
        output = messages.responses_output_messages(result)
        output[0]["finish_reason"] = reason
        invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = output
