"""Bedrock's ``invoke_model`` bodies → GenAI span attributes and content, per model family.

``invoke_model`` sends the model vendor's own JSON and answers with it, so each family (see
:mod:`.models`) is read its own way:

=============  ====================================================  ==================================
Family         Request parameters                                    Usage in the answer
=============  ====================================================  ==================================
Anthropic      ``max_tokens``, ``temperature``, ``top_p``, ``top_k``  ``usage`` (cache read/write added to
               ``stop_sequences``                                    input, as for Anthropic's API)
Nova           ``inferenceConfig.max_new_tokens`` ...                ``usage`` (Converse names)
Titan text     ``textGenerationConfig.maxTokenCount`` ...            ``inputTextTokenCount``,
                                                                     ``results[].tokenCount``
Titan embed    ``dimensions``                                        ``inputTextTokenCount``
Llama          ``max_gen_len``, ``temperature``, ``top_p``           ``prompt_token_count``,
                                                                     ``generation_token_count``
Mistral        ``max_tokens``, ``temperature``, ``top_p``, ``top_k`` headers (below)
Cohere         ``max_tokens``, ``temperature``, ``p``, ``k`` ...     headers (below)
OpenAI-style   ``max_tokens``, ``temperature``, ``top_p``, ``stop``  ``usage.prompt_tokens`` / ...
=============  ====================================================  ==================================

Where the body carries no usage, Bedrock's ``x-amzn-bedrock-input-token-count`` /
``-output-token-count`` response headers give it; streamed answers carry the same counts in
their last chunk's ``amazon-bedrock-invocationMetrics``.
"""

from __future__ import annotations

import json
from typing import Any

from wikitrace_otel._genai.content import text_part
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.anthropic import extractors as anthropic_ex
from wikitrace_otel.instrumentors.anthropic import messages as anthropic_messages
from wikitrace_otel.instrumentors.bedrock import converse
from wikitrace_otel.instrumentors.bedrock import models as m
from wikitrace_otel.semconv import gen_ai as g

_dict, _list, as_int = converse.as_dict, converse.as_list, converse.as_int

_MAX, _TEMP, _TOP_P, _TOP_K = (
    g.GEN_AI_REQUEST_MAX_TOKENS,
    g.GEN_AI_REQUEST_TEMPERATURE,
    g.GEN_AI_REQUEST_TOP_P,
    g.GEN_AI_REQUEST_TOP_K,
)
_STOP, _SEED = g.GEN_AI_REQUEST_STOP_SEQUENCES, g.GEN_AI_REQUEST_SEED
# family -> ((path in the body, attribute), ...)
_REQUEST: dict[str, tuple[tuple[tuple[str, ...], str], ...]] = {
    m.ANTHROPIC: ((("max_tokens",), _MAX), (("temperature",), _TEMP), (("top_p",), _TOP_P), (("top_k",), _TOP_K)),
    m.NOVA: tuple(
        (("inferenceConfig", key), attribute)
        for key, attribute in (("max_new_tokens", _MAX), ("temperature", _TEMP), ("top_p", _TOP_P), ("top_k", _TOP_K))
    ),
    m.TITAN_TEXT: tuple(
        (("textGenerationConfig", key), attribute)
        for key, attribute in (("maxTokenCount", _MAX), ("temperature", _TEMP), ("topP", _TOP_P))
    ),
    m.LLAMA: ((("max_gen_len",), _MAX), (("temperature",), _TEMP), (("top_p",), _TOP_P)),
    m.MISTRAL: ((("max_tokens",), _MAX), (("temperature",), _TEMP), (("top_p",), _TOP_P), (("top_k",), _TOP_K)),
    m.COHERE_CHAT: ((("max_tokens",), _MAX), (("temperature",), _TEMP), (("p",), _TOP_P), (("k",), _TOP_K)),
    m.OPENAI_STYLE: ((("max_tokens",), _MAX), (("temperature",), _TEMP), (("top_p",), _TOP_P), (("seed",), _SEED)),
    m.TITAN_EMBED: ((("dimensions",), g.GEN_AI_EMBEDDINGS_DIMENSION_COUNT),),
    m.COHERE_EMBED: ((("output_dimension",), g.GEN_AI_EMBEDDINGS_DIMENSION_COUNT),),
}
_STOP_KEYS: dict[str, tuple[str, ...]] = {
    m.ANTHROPIC: ("stop_sequences",),
    m.NOVA: ("inferenceConfig", "stopSequences"),
    m.TITAN_TEXT: ("textGenerationConfig", "stopSequences"),
    m.MISTRAL: ("stop",),
    m.COHERE_CHAT: ("stop_sequences",),
    m.OPENAI_STYLE: ("stop",),
}
_INT_ATTRIBUTES = frozenset({_MAX, _TOP_K, _SEED, g.GEN_AI_EMBEDDINGS_DIMENSION_COUNT})
_HEADER_IN, _HEADER_OUT = "x-amzn-bedrock-input-token-count", "x-amzn-bedrock-output-token-count"
_METRICS = "amazon-bedrock-invocationMetrics"


def parse_body(body: Any) -> dict[str, Any] | None:
    """The request body as JSON, when it is bytes or text (a file object is left unread)."""
    if isinstance(body, (bytes, bytearray, str)):
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _at(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = body
    for key in path:
        value = _dict(value).get(key)
    return value


def request_attributes(family: str | None, body: dict[str, Any] | None, attrs: dict[str, Any]) -> None:
    """Sampling attributes of an ``invoke_model`` body."""
    if family is None or body is None:
        return
    for path, attribute in _REQUEST.get(family, ()):
        value = _at(body, path)
        wanted = (int,) if attribute in _INT_ATTRIBUTES else (int, float)
        if isinstance(value, wanted) and not isinstance(value, bool):
            attrs[attribute] = value
    stop = _at(body, _STOP_KEYS[family]) if family in _STOP_KEYS else None
    if isinstance(stop, str) and stop:
        stop = [stop]
    if isinstance(stop, (list, tuple)) and stop:
        attrs[_STOP] = tuple(str(s) for s in stop)


def content(family: str | None, body: dict[str, Any] | None) -> dict[str, Any]:
    """Input content of an ``invoke_model`` body."""
    body = body or {}
    if family == m.ANTHROPIC:
        return {
            g.GEN_AI_INPUT_MESSAGES: anthropic_messages.input_messages(body.get("messages")),
            g.GEN_AI_SYSTEM_INSTRUCTIONS: anthropic_messages.system_instructions(body.get("system")),
            g.GEN_AI_TOOL_DEFINITIONS: anthropic_messages.tool_definitions(body.get("tools")),
        }
    if family == m.NOVA:
        return {
            g.GEN_AI_INPUT_MESSAGES: converse.input_messages(body.get("messages")),
            g.GEN_AI_SYSTEM_INSTRUCTIONS: converse.system_instructions(body.get("system")),
            g.GEN_AI_TOOL_DEFINITIONS: converse.tool_definitions(body.get("toolConfig")),
        }
    if family == m.OPENAI_STYLE:
        return {g.GEN_AI_INPUT_MESSAGES: [_openai_message(x) for x in _list(body.get("messages"))]}
    return {g.GEN_AI_INPUT_MESSAGES: _prompt_messages(body)}


def _openai_message(message: Any) -> dict[str, Any]:
    message = _dict(message)
    text = message.get("content")
    parts = [text_part(text)] if isinstance(text, str) else converse.content_parts(text)
    return {"role": str(message.get("role") or "user"), "parts": parts}


def _prompt_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    history = [
        {"role": str(_dict(turn).get("role") or "user").lower(), "parts": [text_part(str(_dict(turn).get("message")))]}
        for turn in _list(body.get("chat_history"))
    ]
    texts = _list(body.get("texts"))
    for key in ("prompt", "inputText", "message"):
        if isinstance(body.get(key), str):
            texts = [body[key]]
            break
    return [*history, *({"role": "user", "parts": [text_part(str(t))]} for t in texts)]


def read_answer(family: str | None, answer: dict[str, Any], headers: dict[str, Any], invocation: Invocation) -> None:
    """Read a complete ``invoke_model`` answer (its parsed body and its HTTP headers)."""
    response = invocation.response
    texts, reasons = _answer_fields(family, answer, response)
    if family == m.ANTHROPIC:
        anthropic_ex.identity_attributes(answer, response)
        anthropic_ex.usage_attributes(answer.get("usage"), response)
    elif family == m.NOVA:
        converse.usage_attributes(answer.get("usage"), response)
    _header_usage(headers, response)
    if family in m.EMBEDDING_FAMILIES or not reasons:  # nothing generated, or a body not understood
        return
    response[g.GEN_AI_RESPONSE_FINISH_REASONS] = tuple(r if isinstance(r, str) and r else "error" for r in reasons)
    if invocation.content is not None:
        invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = _output(family, answer, texts, reasons)


def _answer_fields(family: str | None, answer: dict[str, Any], response: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """The answer's texts and finish reasons (one per choice), and any usage in family fields."""
    if family == m.ANTHROPIC:
        return [], [answer.get("stop_reason")]
    if family == m.NOVA:
        return [], [answer.get("stopReason")]
    if family in (m.TITAN_TEXT, m.TITAN_EMBED):
        results = [_dict(r) for r in _list(answer.get("results"))]
        _set_usage(response, answer.get("inputTextTokenCount"), _sum(r.get("tokenCount") for r in results))
        return [r.get("outputText") for r in results], [r.get("completionReason") for r in results]
    if family == m.LLAMA:
        _set_usage(response, answer.get("prompt_token_count"), answer.get("generation_token_count"))
        return [answer.get("generation")], [answer.get("stop_reason")]
    if family == m.COHERE_CHAT and "text" in answer:
        _identity(answer.get("response_id") or answer.get("generation_id"), None, response)
        return [answer.get("text")], [answer.get("finish_reason")]
    if family == m.COHERE_EMBED:
        _identity(answer.get("id"), None, response)
        return [], []
    choices = [_dict(c) for c in _list(answer.get("outputs") or answer.get("generations") or answer.get("choices"))]
    usage = _dict(answer.get("usage"))
    _set_usage(response, usage.get("prompt_tokens"), usage.get("completion_tokens"))
    _identity(answer.get("id"), answer.get("model"), response)
    texts = [c.get("text", _dict(c.get("message")).get("content")) for c in choices]
    return texts, [c.get("stop_reason") or c.get("finish_reason") for c in choices]


def _output(family: str | None, answer: dict[str, Any], texts: list[Any], reasons: list[Any]) -> list[Any]:
    if family == m.ANTHROPIC:
        return anthropic_messages.output_messages(answer.get("content"), reasons[0])
    if family == m.NOVA:
        return converse.output_messages(_dict(answer.get("output")).get("message"), reasons[0])
    return [
        {"role": "assistant", "parts": [text_part(str(t or ""))], "finish_reason": r or "error"}
        for t, r in zip(texts, reasons, strict=False)
    ]


def _sum(values: Any) -> int | None:
    counts = [v for v in values if as_int(v) is not None]
    return sum(counts) if counts else None


def _set_usage(response: dict[str, Any], input_tokens: Any, output_tokens: Any) -> None:
    if as_int(input_tokens) is not None:
        response[g.GEN_AI_USAGE_INPUT_TOKENS] = input_tokens
    if as_int(output_tokens) is not None:
        response[g.GEN_AI_USAGE_OUTPUT_TOKENS] = output_tokens


def _identity(response_id: Any, model: Any, response: dict[str, Any]) -> None:
    if isinstance(response_id, str) and response_id:
        response[g.GEN_AI_RESPONSE_ID] = response_id
    if isinstance(model, str) and model:
        response[g.GEN_AI_RESPONSE_MODEL] = model


def _header_usage(headers: dict[str, Any], response: dict[str, Any]) -> None:
    """Bedrock's own token counts, for what the body did not report."""
    for header, key in ((_HEADER_IN, g.GEN_AI_USAGE_INPUT_TOKENS), (_HEADER_OUT, g.GEN_AI_USAGE_OUTPUT_TOKENS)):
        value = headers.get(header)
        if key not in response and isinstance(value, str) and value.isdigit():
            response[key] = int(value)


class InvokeStreamAccumulator(Accumulator):
    """``invoke_model_with_response_stream`` chunks → response attributes (and output text).

    Each event is ``{"chunk": {"bytes": <the family's JSON>}}``. Every chunk is decoded (the
    finish reason and usage can be in any of them); text is only gathered when capture is on.
    """

    __slots__ = ("family", "capture", "texts", "reason", "usage", "metrics", "message")

    def __init__(self, invocation: Invocation, family: str | None) -> None:
        super().__init__(invocation)
        self.family = family
        self.capture = invocation.content is not None
        self.texts: list[str] = []
        self.reason: Any = None
        self.usage: dict[str, Any] = {}
        self.metrics: dict[str, Any] = {}
        self.message: dict[str, Any] = {}

    def on_chunk(self, chunk: Any) -> None:
        data = _dict(_dict(chunk).get("chunk")).get("bytes")
        if not isinstance(data, (bytes, bytearray)):
            return
        event = json.loads(data)
        if not isinstance(event, dict):
            return
        if _METRICS in event:
            self.metrics = _dict(event[_METRICS])
        text, reason = _stream_fields(self, event)
        if reason:
            self.reason = reason
        if self.capture and isinstance(text, str):
            self.texts.append(text)

    def finish(self, complete: bool) -> None:
        response = self.invocation.response
        if self.family == m.ANTHROPIC:
            anthropic_ex.identity_attributes(self.message, response)
            anthropic_ex.usage_attributes(self.usage or None, response)
        elif self.usage:
            converse.usage_attributes(self.usage, response)
        if g.GEN_AI_USAGE_INPUT_TOKENS not in response:
            _set_usage(response, self.metrics.get("inputTokenCount"), self.metrics.get("outputTokenCount"))
        reasons = converse.finish_reasons(self.reason)
        response[g.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
        if self.invocation.content is not None:
            self.invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = [
                {"role": "assistant", "parts": [text_part("".join(self.texts))], "finish_reason": reasons[0]}
            ]


def _stream_fields(acc: InvokeStreamAccumulator, event: dict[str, Any]) -> tuple[Any, Any]:
    """One streamed event's text and finish reason; usage goes into ``acc``."""
    family = acc.family
    if family == m.ANTHROPIC:
        kind = event.get("type")
        if kind == "message_start":
            acc.message = _dict(event.get("message"))
            acc.usage.update(_dict(acc.message.get("usage")))
        elif kind == "message_delta":
            acc.usage.update(_dict(event.get("usage")))
            return None, _dict(event.get("delta")).get("stop_reason")
        elif kind == "content_block_delta":
            return _dict(event.get("delta")).get("text"), None
        return None, None
    if family == m.NOVA:
        if "metadata" in event:
            acc.usage = _dict(_dict(event["metadata"]).get("usage"))
        delta = _dict(_dict(event.get("contentBlockDelta")).get("delta"))
        return delta.get("text"), _dict(event.get("messageStop")).get("stopReason")
    if family == m.TITAN_TEXT:
        return event.get("outputText"), event.get("completionReason")
    if family == m.LLAMA:
        return event.get("generation"), event.get("stop_reason")
    if family == m.COHERE_CHAT and "is_finished" in event:
        return event.get("text"), event.get("finish_reason")
    choice = _dict((_list(event.get("outputs")) or _list(event.get("choices")) or [{}])[0])
    text = choice.get("text", _dict(choice.get("delta")).get("content"))
    return text, choice.get("stop_reason") or choice.get("finish_reason")
