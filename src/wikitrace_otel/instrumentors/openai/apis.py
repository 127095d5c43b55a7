"""The OpenAI API families the instrumentor traces, and how each maps to a span."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.openai import extractors as ex
from wikitrace_otel.instrumentors.openai import messages
from wikitrace_otel.instrumentors.openai.stream import ChatAccumulator, ResponsesAccumulator, responses_result
from wikitrace_otel.semconv import gen_ai as g

Kwargs = dict[str, Any]


@dataclass(frozen=True)
class Api:
    """How one family of OpenAI methods becomes a span.

    Attributes:
        operation: ``gen_ai.operation.name``.
        api_type: ``openai.api.type`` (only for the ``openai`` provider), or None.
        request: adds request attributes: ``(kwargs, attrs, is_openai)``.
        content: the input content (only called when capture is on), or None.
        result: reads a complete, non-streamed result: ``(invocation, result, is_openai)``.
        accumulator: builds the stream accumulator: ``(invocation, is_openai, kwargs)``.
        positional: names of parameters the SDK method takes positionally.
        stream_usage: the API takes ``stream_options.include_usage`` (see ``include_usage``).
    """

    operation: str
    api_type: str | None
    request: Callable[[Kwargs, dict[str, Any], bool], None]
    content: Callable[[Kwargs], dict[str, Any]] | None
    result: Callable[[Invocation, Any, bool], None]
    accumulator: Callable[[Invocation, bool, Kwargs], Accumulator] | None
    positional: tuple[str, ...] = ()
    stream_usage: bool = False


def _chat_content(kwargs: Kwargs) -> dict[str, Any]:
    return {
        g.GEN_AI_INPUT_MESSAGES: messages.chat_input_messages(kwargs.get("messages")),
        g.GEN_AI_TOOL_DEFINITIONS: messages.chat_tool_definitions(kwargs.get("tools")),
    }


def _choices_result(output_messages: Callable[[Any], list[dict[str, Any]]]) -> Callable[[Invocation, Any, bool], None]:
    """Result reader for APIs that answer with ``choices`` (Chat Completions, legacy Completions)."""

    def read(invocation: Invocation, result: Any, is_openai: bool) -> None:
        response = invocation.response
        ex.identity_attributes(result, response, is_openai)
        get = ex.getter(result)
        invocation.audio_tokens = ex.usage_attributes(get("usage", None), response)
        choices = get("choices", None)
        response[g.GEN_AI_RESPONSE_FINISH_REASONS] = ex.choice_finish_reasons(choices)
        if invocation.content is not None:
            invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = output_messages(choices)

    return read


def _chat_accumulator(invocation: Invocation, is_openai: bool, kwargs: Kwargs) -> Accumulator:
    n = kwargs.get("n")
    return ChatAccumulator(invocation, is_openai, n if isinstance(n, int) and n > 0 else 1)


def _responses_content(kwargs: Kwargs) -> dict[str, Any]:
    return {
        g.GEN_AI_INPUT_MESSAGES: messages.responses_input_messages(kwargs.get("input")),
        g.GEN_AI_SYSTEM_INSTRUCTIONS: messages.system_instructions(kwargs.get("instructions")),
        g.GEN_AI_TOOL_DEFINITIONS: messages.responses_tool_definitions(kwargs.get("tools")),
    }


def _responses_accumulator(invocation: Invocation, is_openai: bool, kwargs: Kwargs) -> Accumulator:
    return ResponsesAccumulator(invocation, is_openai)


def _fetch_request(kwargs: Kwargs, attrs: dict[str, Any], is_openai: bool) -> None:
    ex.fetch_request(kwargs, attrs, is_openai)
    response_id = kwargs.get("response_id")
    if isinstance(response_id, str) and response_id:
        attrs[g.GEN_AI_RESPONSE_ID] = response_id


def _completion_content(kwargs: Kwargs) -> dict[str, Any]:
    return {g.GEN_AI_INPUT_MESSAGES: messages.prompt_input_messages(kwargs.get("prompt"))}


def _embeddings_result(invocation: Invocation, result: Any, is_openai: bool) -> None:
    response = invocation.response
    get = ex.getter(result)
    model = get("model", None)
    if isinstance(model, str) and model:
        response[g.GEN_AI_RESPONSE_MODEL] = model
    usage = get("usage", None)
    tokens = ex.getter(usage)("prompt_tokens", None) if usage is not None else None
    if isinstance(tokens, int):
        response[g.GEN_AI_USAGE_INPUT_TOKENS] = tokens


CHAT = Api(
    operation=g.Operation.CHAT.value,
    api_type=g.OpenAIApiType.CHAT_COMPLETIONS.value,
    request=ex.chat_request,
    content=_chat_content,
    result=_choices_result(messages.chat_output_messages),
    accumulator=_chat_accumulator,
    stream_usage=True,
)
RESPONSES = Api(
    operation=g.Operation.CHAT.value,
    api_type=g.OpenAIApiType.RESPONSES.value,
    request=ex.responses_request,
    content=_responses_content,
    result=responses_result,
    accumulator=_responses_accumulator,
)
FETCH_RESPONSE = Api(
    operation=g.Operation.FETCH_RESPONSE.value,
    api_type=g.OpenAIApiType.RESPONSES.value,
    request=_fetch_request,
    content=None,
    result=responses_result,
    accumulator=_responses_accumulator,
    positional=("response_id",),
)
TEXT_COMPLETION = Api(
    operation=g.Operation.TEXT_COMPLETION.value,
    api_type=None,
    request=ex.completions_request,
    content=_completion_content,
    result=_choices_result(messages.completion_output_messages),
    accumulator=_chat_accumulator,
    stream_usage=True,
)
EMBEDDINGS = Api(
    operation=g.Operation.EMBEDDINGS.value,
    api_type=None,
    request=ex.embeddings_request,
    content=None,
    result=_embeddings_result,
    accumulator=None,
)
