"""Bedrock's Converse API (``converse`` / ``converse_stream``) → GenAI span attributes and content.

Converse is the same for every model family: ``inferenceConfig`` carries the sampling
parameters, ``usage`` the token counts. Its ``inputTokens`` leaves out the prompt cache (the
``totalTokens`` it reports adds the cache back), so ``gen_ai.usage.input_tokens = inputTokens +
cacheReadInputTokens + cacheWriteInputTokens``, as for Anthropic's own API.

Content blocks → parts: ``text`` → ``text``; ``reasoningContent`` → ``reasoning``; ``toolUse``
→ ``tool_call``; ``toolResult`` → ``tool_call_response``; ``image`` / ``document`` / ``video``
→ ``blob`` (bytes, base64) or ``uri`` (an S3 location); anything else keeps its key as ``type``.
"""

from __future__ import annotations

import base64
from typing import Any

from wikitrace_otel._genai.content import text_part, tool_call_part, tool_response_part
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.semconv import gen_ai as g

Part = dict[str, Any]
Message = dict[str, Any]

# (inferenceConfig key, attribute, accepted types)
_INFERENCE: tuple[tuple[str, str, tuple[type, ...]], ...] = (
    ("maxTokens", g.GEN_AI_REQUEST_MAX_TOKENS, (int,)),
    ("temperature", g.GEN_AI_REQUEST_TEMPERATURE, (int, float)),
    ("topP", g.GEN_AI_REQUEST_TOP_P, (int, float)),
)
_MEDIA = ("image", "document", "video")


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a dict, else an empty one."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any] | tuple[Any, ...]:
    """``value`` when it is a list or tuple, else an empty tuple."""
    return value if isinstance(value, (list, tuple)) else ()


def as_int(value: Any) -> int | None:
    """``value`` when it is an int (and not a bool), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def request_attributes(params: dict[str, Any], attrs: dict[str, Any]) -> None:
    """Sampling attributes of a Converse request."""
    config = as_dict(params.get("inferenceConfig"))
    for key, attribute, types in _INFERENCE:
        value = config.get(key)
        if isinstance(value, types) and not isinstance(value, bool):
            attrs[attribute] = value
    stop = config.get("stopSequences")
    if isinstance(stop, (list, tuple)) and stop:
        attrs[g.GEN_AI_REQUEST_STOP_SEQUENCES] = tuple(str(s) for s in stop)
    extra = as_dict(params.get("additionalModelRequestFields"))
    top_k = as_int(extra.get("top_k", extra.get("topK")))
    if top_k is not None:
        attrs[g.GEN_AI_REQUEST_TOP_K] = top_k


def usage_attributes(usage: Any, response: dict[str, Any]) -> None:
    """Token usage of a Converse ``usage`` object (also Nova's ``invoke_model`` usage)."""
    usage = as_dict(usage)
    uncached = as_int(usage.get("inputTokens"))
    cache_read = as_int(usage.get("cacheReadInputTokens", usage.get("cacheReadInputTokenCount")))
    cache_write = as_int(usage.get("cacheWriteInputTokens", usage.get("cacheWriteInputTokenCount")))
    if uncached is not None:
        response[g.GEN_AI_USAGE_INPUT_TOKENS] = uncached + (cache_read or 0) + (cache_write or 0)
    if cache_read is not None:
        response[g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = cache_read
    if cache_write is not None:
        response[g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS] = cache_write
    output = as_int(usage.get("outputTokens"))
    if output is not None:
        response[g.GEN_AI_USAGE_OUTPUT_TOKENS] = output


def finish_reasons(stop_reason: Any) -> tuple[str, ...]:
    """The one finish reason (``error`` when none came)."""
    return (stop_reason,) if isinstance(stop_reason, str) and stop_reason else ("error",)


def content(params: dict[str, Any]) -> dict[str, Any]:
    """Input content of a Converse request (only read when capture is on, or by a budget check)."""
    return {
        g.GEN_AI_INPUT_MESSAGES: input_messages(params.get("messages")),
        g.GEN_AI_SYSTEM_INSTRUCTIONS: system_instructions(params.get("system")),
        g.GEN_AI_TOOL_DEFINITIONS: tool_definitions(params.get("toolConfig")),
    }


def input_messages(messages: Any) -> list[Message]:
    """The ``messages`` parameter (Converse and Nova bodies)."""
    return [
        {"role": str(as_dict(m).get("role") or "user"), "parts": content_parts(as_dict(m).get("content"))}
        for m in as_list(messages)
    ]


def system_instructions(system: Any) -> list[Part] | None:
    """Text blocks of the ``system`` parameter; None when there are none."""
    parts = [text_part(str(b["text"])) for b in as_list(system) if isinstance(b, dict) and "text" in b]
    return parts or None


def tool_definitions(tool_config: Any) -> list[dict[str, Any]] | None:
    """``toolConfig.tools[].toolSpec`` as function definitions."""
    definitions = []
    for tool in as_list(as_dict(tool_config).get("tools")):
        spec = as_dict(as_dict(tool).get("toolSpec"))
        if not spec:
            continue
        definition: dict[str, Any] = {"type": "function", "name": spec.get("name")}
        if spec.get("description") is not None:
            definition["description"] = spec["description"]
        schema = as_dict(spec.get("inputSchema")).get("json")
        if schema is not None:
            definition["parameters"] = schema
        definitions.append(definition)
    return definitions or None


def output_messages(message: Any, stop_reason: Any) -> list[Message]:
    """The one output message."""
    role = str(as_dict(message).get("role") or "assistant")
    parts = content_parts(as_dict(message).get("content"))
    return [{"role": role, "parts": parts, "finish_reason": finish_reasons(stop_reason)[0]}]


def content_parts(blocks: Any) -> list[Part]:
    """A message's content blocks as parts."""
    if isinstance(blocks, str):
        return [text_part(blocks)]
    return [block_part(b) for b in as_list(blocks) if isinstance(b, dict)]


def block_part(block: dict[str, Any]) -> Part:
    """One content block as a part."""
    if "text" in block:
        return text_part(str(block["text"]))
    if "reasoningContent" in block:
        reasoning = as_dict(block["reasoningContent"])
        return {"type": "reasoning", "content": str(as_dict(reasoning.get("reasoningText")).get("text") or "")}
    if "toolUse" in block:
        use = as_dict(block["toolUse"])
        return tool_call_part(use.get("toolUseId"), use.get("name"), use.get("input"))
    if "toolResult" in block:
        result = as_dict(block["toolResult"])
        return tool_response_part(result.get("toolUseId"), _result_content(result.get("content")))
    for modality in _MEDIA:
        if modality in block:
            return _media_part(modality, as_dict(block[modality]))
    return {"type": next(iter(block), "unknown")}


def _result_content(blocks: Any) -> Any:
    items = [b for b in as_list(blocks) if isinstance(b, dict)]
    if items and all("text" in b for b in items):
        return "".join(str(b["text"]) for b in items)
    return [b.get("json") if "json" in b else block_part(b) for b in items]


def _media_part(modality: str, media: dict[str, Any]) -> Part:
    source = as_dict(media.get("source"))
    fmt = media.get("format")
    part: Part
    if isinstance(source.get("bytes"), (bytes, bytearray)):
        part = {"type": "blob", "modality": modality, "content": base64.b64encode(source["bytes"]).decode("ascii")}
    elif "s3Location" in source:
        part = {"type": "uri", "modality": modality, "uri": as_dict(source["s3Location"]).get("uri")}
    else:
        return {"type": modality, "modality": modality}
    if isinstance(fmt, str) and fmt:
        part["mime_type"] = f"{'application' if modality == 'document' else modality}/{fmt}"
    return part


def result(invocation: Invocation, answer: Any) -> None:
    """Read a complete ``converse`` answer."""
    answer = as_dict(answer)
    response = invocation.response
    usage_attributes(answer.get("usage"), response)
    stop_reason = answer.get("stopReason")
    response[g.GEN_AI_RESPONSE_FINISH_REASONS] = finish_reasons(stop_reason)
    if invocation.content is not None:
        message = as_dict(answer.get("output")).get("message")
        invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = output_messages(message, stop_reason)


class _Block:
    """One streamed content block: its start and the text gathered from its deltas."""

    __slots__ = ("kind", "start", "pieces")

    def __init__(self, kind: str, start: dict[str, Any]) -> None:
        self.kind, self.start = kind, start
        self.pieces: list[str] = []

    def part(self) -> Part:
        text = "".join(self.pieces)
        if self.kind == "toolUse":
            return tool_call_part(self.start.get("toolUseId"), self.start.get("name"), text)
        if self.kind == "reasoningContent":
            return {"type": "reasoning", "content": text}
        return text_part(text)


class ConverseStreamAccumulator(Accumulator):
    """``converse_stream`` events → response attributes (and output content when captured).

    Events are one-key dicts: ``messageStart``, ``contentBlockStart``, ``contentBlockDelta``,
    ``contentBlockStop``, ``messageStop`` (``stopReason``) and ``metadata`` (``usage``).
    Deltas are only gathered when content capture is on.
    """

    __slots__ = ("capture", "role", "stop_reason", "usage", "blocks")

    def __init__(self, invocation: Invocation) -> None:
        super().__init__(invocation)
        self.capture = invocation.content is not None
        self.role = "assistant"
        self.stop_reason: Any = None
        self.usage: Any = None
        self.blocks: dict[int, _Block] = {}

    def on_chunk(self, chunk: Any) -> None:
        if not isinstance(chunk, dict):
            return
        if "messageStop" in chunk:
            self.stop_reason = as_dict(chunk["messageStop"]).get("stopReason")
        elif "metadata" in chunk:
            self.usage = as_dict(chunk["metadata"]).get("usage")
        elif self.capture:
            self._gather(chunk)

    def _gather(self, chunk: dict[str, Any]) -> None:
        if "contentBlockDelta" in chunk:
            event = as_dict(chunk["contentBlockDelta"])
            delta = as_dict(event.get("delta"))
            index = as_int(event.get("contentBlockIndex")) or 0
            kind, text = _delta_text(delta)
            self.blocks.setdefault(index, _Block(kind, {})).pieces.append(text)
        elif "contentBlockStart" in chunk:
            event = as_dict(chunk["contentBlockStart"])
            start = as_dict(event.get("start"))
            kind = next(iter(start), "text")
            self.blocks[as_int(event.get("contentBlockIndex")) or 0] = _Block(kind, as_dict(start.get(kind)))
        elif "messageStart" in chunk:
            self.role = str(as_dict(chunk["messageStart"]).get("role") or "assistant")

    def finish(self, complete: bool) -> None:
        invocation = self.invocation
        usage_attributes(self.usage, invocation.response)
        reasons = finish_reasons(self.stop_reason)
        invocation.response[g.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
        if invocation.content is not None:
            parts = [self.blocks[i].part() for i in sorted(self.blocks)]
            invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = [
                {"role": self.role, "parts": parts, "finish_reason": reasons[0]}
            ]


def _delta_text(delta: dict[str, Any]) -> tuple[str, str]:
    if "toolUse" in delta:
        return "toolUse", str(as_dict(delta["toolUse"]).get("input") or "")
    if "reasoningContent" in delta:
        return "reasoningContent", str(as_dict(delta["reasoningContent"]).get("text") or "")
    return "text", str(delta.get("text") or "")
