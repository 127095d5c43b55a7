"""The ``google-genai`` methods the instrumentor traces, and how each maps to a span."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.google_genai import extractors as ex
from wikitrace_otel.instrumentors.google_genai import messages
from wikitrace_otel.instrumentors.google_genai.stream import GenerateContentAccumulator
from wikitrace_otel.semconv import gen_ai as g

Kwargs = dict[str, Any]


@dataclass(frozen=True)
class Api:
    """How one family of methods becomes a span.

    Attributes:
        operation: ``gen_ai.operation.name``.
        request: adds request attributes: ``(kwargs, attrs)``.
        content: the input content (called only when capture is on).
        prompt: the input for a budget's size estimate.
        result: reads a complete, non-streamed result: ``(invocation, result)``.
        accumulator: builds the stream accumulator, or None for a method that does not stream.
    """

    operation: str
    request: Callable[[Kwargs, dict[str, Any]], None]
    content: Callable[[Kwargs], dict[str, Any]] | None
    prompt: Callable[[Kwargs], Any]
    result: Callable[[Invocation, Any], None]
    accumulator: Callable[[Invocation], Accumulator] | None


def _generation_content(kwargs: Kwargs) -> dict[str, Any]:
    config = kwargs.get("config")
    return {
        g.GEN_AI_INPUT_MESSAGES: messages.input_messages(kwargs.get("contents")),
        g.GEN_AI_SYSTEM_INSTRUCTIONS: messages.system_instructions(ex.field(config, "system_instruction")),
        g.GEN_AI_TOOL_DEFINITIONS: messages.tool_definitions(ex.field(config, "tools")),
    }


def _generation_prompt(kwargs: Kwargs) -> Any:
    config = kwargs.get("config")
    return [
        messages.system_instructions(ex.field(config, "system_instruction")),
        messages.input_messages(kwargs.get("contents")),
    ]


def _generation_result(invocation: Invocation, result: Any) -> None:
    response = invocation.response
    ex.identity_attributes(result, response)
    ex.usage_attributes(ex.field(result, "usage_metadata"), response)
    candidates = ex.field(result, "candidates")
    response[g.GEN_AI_RESPONSE_FINISH_REASONS] = ex.finish_reasons(candidates)
    if invocation.content is not None:
        invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = messages.output_messages(candidates)


def _embedding_prompt(kwargs: Kwargs) -> Any:
    return messages.input_messages(kwargs.get("contents"))


def _embedding_result(invocation: Invocation, result: Any) -> None:
    ex.embedding_usage(result, invocation.response)


GENERATE_CONTENT = Api(
    operation=g.Operation.GENERATE_CONTENT.value,
    request=ex.generation_request,
    content=_generation_content,
    prompt=_generation_prompt,
    result=_generation_result,
    accumulator=GenerateContentAccumulator,
)
EMBED_CONTENT = Api(
    operation=g.Operation.EMBEDDINGS.value,
    request=ex.embedding_request,
    content=None,
    prompt=_embedding_prompt,
    result=_embedding_result,
    accumulator=None,
)
