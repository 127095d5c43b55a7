"""Bedrock Runtime answers in the documented wire format, for the fake server and for stubs."""

from __future__ import annotations

from typing import Any

from .eventstream import Frame, chunk, event

JSON = dict[str, Any]


def usage(
    input_tokens: int = 12, output_tokens: int = 7, cache_read: int | None = None, cache_write: int | None = None
) -> JSON:
    """A Converse ``usage`` (``totalTokens`` counts cached input too, as Bedrock's does)."""
    body: JSON = {"inputTokens": input_tokens, "outputTokens": output_tokens}
    total = input_tokens + output_tokens
    if cache_read is not None:
        body["cacheReadInputTokens"] = cache_read
        total += cache_read
    if cache_write is not None:
        body["cacheWriteInputTokens"] = cache_write
        total += cache_write
    body["totalTokens"] = total
    return body


def converse_answer(
    text: str = "Hello from Bedrock.",
    stop_reason: str = "end_turn",
    usage_body: JSON | None = None,
    content: list[JSON] | None = None,
) -> JSON:
    """A ``converse`` answer."""
    return {
        "output": {"message": {"role": "assistant", "content": content if content is not None else [{"text": text}]}},
        "stopReason": stop_reason,
        "usage": usage_body if usage_body is not None else usage(),
        "metrics": {"latencyMs": 42},
    }


def converse_events(answer: JSON) -> list[Frame]:
    """The ``converse_stream`` events of ``answer``: text split in two deltas, tool input in one."""
    message = answer["output"]["message"]
    frames = [event("messageStart", {"role": message["role"]})]
    for index, block in enumerate(message["content"]):
        if "toolUse" in block:
            use = block["toolUse"]
            start = {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}
            frames.append(event("contentBlockStart", {"start": start, "contentBlockIndex": index}))
            delta = {"toolUse": {"input": _json_text(use["input"])}}
            frames.append(event("contentBlockDelta", {"delta": delta, "contentBlockIndex": index}))
        else:
            text = block.get("text", "")
            half = len(text) // 2
            for piece in (text[:half], text[half:]):
                frames.append(event("contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": index}))
        frames.append(event("contentBlockStop", {"contentBlockIndex": index}))
    frames.append(event("messageStop", {"stopReason": answer["stopReason"]}))
    frames.append(event("metadata", {"usage": answer["usage"], "metrics": answer.get("metrics", {"latencyMs": 42})}))
    return frames


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


def anthropic_message(
    model: str = "claude-fake",
    text: str = "Hi there.",
    stop_reason: str = "end_turn",
    input_tokens: int = 10,
    output_tokens: int = 5,
    cache_read: int | None = None,
    cache_write: int | None = None,
) -> JSON:
    """An Anthropic messages answer, as ``invoke_model`` returns it for Claude models."""
    usage_body: JSON = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    if cache_read is not None:
        usage_body["cache_read_input_tokens"] = cache_read
    if cache_write is not None:
        usage_body["cache_creation_input_tokens"] = cache_write
    return {
        "id": "msg_bdrk_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage_body,
    }


def invocation_metrics(input_tokens: int, output_tokens: int) -> JSON:
    """The ``amazon-bedrock-invocationMetrics`` Bedrock adds to the last streamed chunk."""
    return {
        "inputTokenCount": input_tokens,
        "outputTokenCount": output_tokens,
        "invocationLatency": 40,
        "firstByteLatency": 10,
    }


def anthropic_chunks(answer: JSON) -> list[Frame]:
    """``invoke_model_with_response_stream`` chunks of an Anthropic answer."""
    start = {**answer, "content": [], "stop_reason": None, "usage": {**answer["usage"], "output_tokens": 1}}
    text = answer["content"][0]["text"]
    half = len(text) // 2
    bodies: list[JSON] = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text[:half]}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text[half:]}},
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": answer["stop_reason"], "stop_sequence": None},
            "usage": {"output_tokens": answer["usage"]["output_tokens"]},
        },
        {
            "type": "message_stop",
            "amazon-bedrock-invocationMetrics": invocation_metrics(
                answer["usage"]["input_tokens"], answer["usage"]["output_tokens"]
            ),
        },
    ]
    return [chunk(b) for b in bodies]


def titan_chunks(text: str = "Titan says hi.", input_tokens: int = 6, output_tokens: int = 4) -> list[Frame]:
    """``invoke_model_with_response_stream`` chunks of an Amazon Titan text answer."""
    half = len(text) // 2
    return [
        chunk(
            {
                "outputText": text[:half],
                "index": 0,
                "totalOutputTextTokenCount": 2,
                "completionReason": None,
                "inputTextTokenCount": input_tokens,
            }
        ),
        chunk(
            {
                "outputText": text[half:],
                "index": 0,
                "totalOutputTextTokenCount": output_tokens,
                "completionReason": "FINISH",
                "amazon-bedrock-invocationMetrics": invocation_metrics(input_tokens, output_tokens),
            }
        ),
    ]
