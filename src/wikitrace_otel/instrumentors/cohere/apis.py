"""The Cohere v2 methods the instrumentor traces, and how each maps to a span.

The table uses the Mistral instrumentor's :class:`~wikitrace_otel.instrumentors.mistral.apis.Api`
shape, so the same tracer and wrappers serve both.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.cohere import extractors as ex
from wikitrace_otel.instrumentors.cohere import messages
from wikitrace_otel.instrumentors.cohere.stream import ChatStreamAccumulator
from wikitrace_otel.instrumentors.mistral.apis import Api
from wikitrace_otel.instrumentors.mistral.extractors import field
from wikitrace_otel.semconv import gen_ai as g

Kwargs = dict[str, Any]

__all__ = ["CHAT", "CHAT_STREAM", "EMBED", "RERANK", "Api"]


def _chat_content(kwargs: Kwargs) -> dict[str, Any]:
    return {
        g.GEN_AI_INPUT_MESSAGES: messages.input_messages(kwargs.get("messages")),
        g.GEN_AI_TOOL_DEFINITIONS: messages.tool_definitions(kwargs.get("tools")),
    }


def _chat_prompt(kwargs: Kwargs) -> Any:
    return messages.input_messages(kwargs.get("messages"))


def _chat_result(invocation: Invocation, result: Any) -> None:
    response = invocation.response
    ex.response_id(result, response)
    ex.usage_attributes(field(result, "usage"), response)
    reasons = ex.finish_reasons(field(result, "finish_reason"))
    response[g.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
    if invocation.content is not None:
        invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = messages.output_message(field(result, "message"), reasons[0])


def _stream_accumulator(invocation: Invocation, kwargs: Kwargs) -> Accumulator:
    return ChatStreamAccumulator(invocation)


def _embed_prompt(kwargs: Kwargs) -> Any:
    # Embeddings input is never captured as content; a budget's pre-flight estimate sizes it.
    texts = kwargs.get("texts")
    return texts if isinstance(texts, (list, tuple)) else None


def _rerank_prompt(kwargs: Kwargs) -> Any:
    documents = kwargs.get("documents")
    return [kwargs.get("query"), *(documents if isinstance(documents, (list, tuple)) else ())]


def _meta_result(invocation: Invocation, result: Any) -> None:
    ex.response_id(result, invocation.response)
    ex.usage_attributes(field(result, "meta"), invocation.response)


CHAT = Api(g.Operation.CHAT.value, False, ex.chat_request, _chat_content, _chat_prompt, _chat_result)
CHAT_STREAM = Api(
    g.Operation.CHAT.value, True, ex.chat_request, _chat_content, _chat_prompt, _chat_result, _stream_accumulator
)
EMBED = Api(g.Operation.EMBEDDINGS.value, False, ex.embed_request, None, _embed_prompt, _meta_result)
RERANK = Api(g.Operation.RERANK.value, False, ex.rerank_request, None, _rerank_prompt, _meta_result)
