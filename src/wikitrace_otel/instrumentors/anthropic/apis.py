"""The Anthropic methods the instrumentor traces, and how each maps to a span."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.anthropic import extractors as ex
from wikitrace_otel.instrumentors.anthropic import messages
from wikitrace_otel.instrumentors.anthropic.stream import MessagesAccumulator
from wikitrace_otel.semconv import gen_ai as g

Kwargs = dict[str, Any]


@dataclass(frozen=True)
class Api:
    """How one family of Anthropic methods becomes a span.

    Attributes:
        operation: ``gen_ai.operation.name``.
        request: adds request attributes: ``(kwargs, attrs)``.
        content: the input content (only called when capture is on, or by a budget check), or
            None for an API whose input is not captured.
        result: reads a complete, non-streamed result: ``(invocation, result)``.
        accumulator: builds the stream accumulator, or None for an API that never streams.
    """

    operation: str
    request: Callable[[Kwargs, dict[str, Any]], None]
    content: Callable[[Kwargs], dict[str, Any]] | None
    result: Callable[[Invocation, Any], None]
    accumulator: Callable[[Invocation], Accumulator] | None


def _messages_content(kwargs: Kwargs) -> dict[str, Any]:
    return {
        g.GEN_AI_INPUT_MESSAGES: messages.input_messages(kwargs.get("messages")),
        g.GEN_AI_SYSTEM_INSTRUCTIONS: messages.system_instructions(kwargs.get("system")),
        g.GEN_AI_TOOL_DEFINITIONS: messages.tool_definitions(kwargs.get("tools")),
    }


def _message_result(invocation: Invocation, result: Any) -> None:
    response = invocation.response
    ex.identity_attributes(result, response)
    ex.usage_attributes(ex.field(result, "usage"), response)
    stop_reason = ex.field(result, "stop_reason")
    response[g.GEN_AI_RESPONSE_FINISH_REASONS] = ex.finish_reasons(stop_reason)
    if invocation.content is not None:
        invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = messages.output_messages(
            ex.field(result, "content"), stop_reason
        )


def _count_result(invocation: Invocation, result: Any) -> None:
    count = ex.as_int(ex.field(result, "input_tokens"))
    if count is not None:
        invocation.response[ex.ANTHROPIC_COUNT_TOKENS_INPUT_TOKENS] = count


MESSAGES = Api(
    operation=g.Operation.CHAT.value,
    request=ex.messages_request,
    content=_messages_content,
    result=_message_result,
    accumulator=MessagesAccumulator,
)
COUNT_TOKENS = Api(
    operation=ex.COUNT_TOKENS_OPERATION,
    request=ex.count_tokens_request,
    content=None,
    result=_count_result,
    accumulator=None,
)
