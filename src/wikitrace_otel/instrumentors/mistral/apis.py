"""The Mistral methods the instrumentor traces, and how each maps to a span."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.mistral import extractors as ex
from wikitrace_otel.instrumentors.mistral import messages
from wikitrace_otel.instrumentors.mistral.stream import ChatAccumulator
from wikitrace_otel.semconv import gen_ai as g

Kwargs = dict[str, Any]


@dataclass(frozen=True)
class Api:
    """How one Mistral method becomes a span.

    Attributes:
        operation: ``gen_ai.operation.name``.
        streaming: the method returns an event stream (``chat.stream``), not a response.
        request: adds request attributes: ``(kwargs, attrs, streaming)``.
        content: the input content (only called when capture is on), or None when not captured.
        prompt: the request's input for a budget's size estimate (called only when needed).
        result: reads a complete response: ``(invocation, result)``.
        accumulator: builds the stream accumulator (streaming methods only).
    """

    operation: str
    streaming: bool
    request: Callable[[Kwargs, dict[str, Any], bool], None]
    content: Callable[[Kwargs], dict[str, Any]] | None
    prompt: Callable[[Kwargs], Any]
    result: Callable[[Invocation, Any], None]
    accumulator: Callable[[Invocation, Kwargs], Accumulator] | None = None


def _chat_content(kwargs: Kwargs) -> dict[str, Any]:
    return {
        g.GEN_AI_INPUT_MESSAGES: messages.input_messages(kwargs.get("messages")),
        g.GEN_AI_TOOL_DEFINITIONS: messages.tool_definitions(kwargs.get("tools")),
    }


def _chat_result(invocation: Invocation, result: Any) -> None:
    response = invocation.response
    ex.response_attributes(result, response)
    choices = ex.field(result, "choices")
    response[g.GEN_AI_RESPONSE_FINISH_REASONS] = ex.choice_finish_reasons(choices)
    if invocation.content is not None:
        invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = messages.output_messages(choices)


def _chat_accumulator(invocation: Invocation, kwargs: Kwargs) -> Accumulator:
    n = ex.as_int(kwargs.get("n"))
    return ChatAccumulator(invocation, n if n is not None and n > 0 else 1)


def _chat_prompt(kwargs: Kwargs) -> Any:
    return messages.input_messages(kwargs.get("messages"))


def _embeddings_prompt(kwargs: Kwargs) -> Any:
    # Embeddings input is never captured as content (the conventions define no attribute for
    # it), but a budget's pre-flight estimate sizes the request from it.
    inputs = kwargs.get("inputs")
    return inputs if isinstance(inputs, (str, list, tuple)) else None


def _embeddings_result(invocation: Invocation, result: Any) -> None:
    ex.embeddings_result(result, invocation.response)


CHAT = Api(g.Operation.CHAT.value, False, ex.chat_request, _chat_content, _chat_prompt, _chat_result)
CHAT_STREAM = Api(
    g.Operation.CHAT.value, True, ex.chat_request, _chat_content, _chat_prompt, _chat_result, _chat_accumulator
)
EMBEDDINGS = Api(
    g.Operation.EMBEDDINGS.value, False, ex.embeddings_request, None, _embeddings_prompt, _embeddings_result
)
