"""The LiteLLM functions the instrumentor traces, and how each maps to a span."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.litellm import extractors as ex
from wikitrace_otel.instrumentors.litellm.stream import ChatStreamAccumulator
from wikitrace_otel.instrumentors.openai import messages
from wikitrace_otel.semconv import gen_ai as g

Kwargs = dict[str, Any]


@dataclass(frozen=True)
class Api:
    """How one family of LiteLLM functions becomes a span.

    Attributes:
        operation: ``gen_ai.operation.name``.
        request: adds request attributes: ``(kwargs, attrs)``.
        content: the input content (called only when capture is on, or by a budget check).
        result: reads a complete, non-streamed result: ``(invocation, result)``.
        accumulator: builds the stream accumulator, or None for a function that never streams.
        positional: the names of the function's leading positional parameters.
    """

    operation: str
    request: Callable[[Kwargs, dict[str, Any]], None]
    content: Callable[[Kwargs], dict[str, Any]]
    result: Callable[[Invocation, Any], None]
    accumulator: Callable[[Invocation], Accumulator] | None
    positional: tuple[str, ...]


def _chat_content(kwargs: Kwargs) -> dict[str, Any]:
    return {
        g.GEN_AI_INPUT_MESSAGES: messages.chat_input_messages(kwargs.get("messages")),
        g.GEN_AI_TOOL_DEFINITIONS: messages.chat_tool_definitions(kwargs.get("tools")),
    }


def _chat_result(invocation: Invocation, result: Any) -> None:
    response = invocation.response
    ex.identity_attributes(result, response)
    ex.usage_attributes(ex.field(result, "usage"), response)
    choices = ex.field(result, "choices")
    response[g.GEN_AI_RESPONSE_FINISH_REASONS] = ex.finish_reasons(choices)
    if invocation.content is not None:
        invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = messages.chat_output_messages(choices)


def _embedding_content(kwargs: Kwargs) -> dict[str, Any]:
    # Embeddings input is not message content: only a budget's size estimate reads it.
    return {"input": kwargs.get("input")}


def _embedding_result(invocation: Invocation, result: Any) -> None:
    response = invocation.response
    model = ex.field(result, "model")
    if isinstance(model, str) and model:
        response[g.GEN_AI_RESPONSE_MODEL] = model
    ex.usage_attributes(ex.field(result, "usage"), response)


CHAT = Api(
    operation=g.Operation.CHAT.value,
    request=ex.chat_request,
    content=_chat_content,
    result=_chat_result,
    accumulator=ChatStreamAccumulator,
    positional=("model", "messages"),
)
EMBEDDINGS = Api(
    operation=g.Operation.EMBEDDINGS.value,
    request=ex.embedding_request,
    content=_embedding_content,
    result=_embedding_result,
    accumulator=None,
    positional=("model", "input"),
)
