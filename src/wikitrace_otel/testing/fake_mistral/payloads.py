"""Mistral API bodies and stream chunks, as the API documents them.

Builders return plain dicts (the JSON the server sends). Chat answers are OpenAI-like:
``{"id", "object": "chat.completion", "model", "created", "choices": [{"index", "message":
{"role": "assistant", "content", "tool_calls"}, "finish_reason"}], "usage": {"prompt_tokens",
"completion_tokens", "total_tokens"}}``. Content is a string, or a list of chunks for
reasoning models (``{"type": "thinking", "thinking": [{"type": "text", "text"}]}`` then
``{"type": "text", "text"}``). Tool-call arguments are JSON text.

Streams (:func:`chat_chunks`) are ``chat.completion.chunk`` objects: the first carries the
role, then one content delta per piece, tool calls whole in one delta, and the last chunk the
``finish_reason`` and ``usage``; the server then sends ``data: [DONE]``. Errors are
``{"object": "error", "message", "type", "param", "code"}``.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

DEFAULT_TEXT = "Hello from the fake Mistral server."


def usage(
    prompt_tokens: int, completion_tokens: int, cached_tokens: int | None = None, reasoning_tokens: int | None = None
) -> JSON:
    """A ``usage`` object; the details appear only when given."""
    body: JSON = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }
    if cached_tokens is not None:
        body["prompt_tokens_details"] = {"cached_tokens": cached_tokens}
    if reasoning_tokens is not None:
        body["completion_tokens_details"] = {"reasoning_tokens": reasoning_tokens}
    return body


def tool_call(call_id: str, name: str, arguments: str, index: int = 0) -> JSON:
    """A ``function`` tool call (arguments are JSON text)."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}, "index": index}


def thinking(text: str) -> JSON:
    """A ``thinking`` content chunk (reasoning models)."""
    return {"type": "thinking", "thinking": [{"type": "text", "text": text}]}


def text(content: str) -> JSON:
    """A ``text`` content chunk."""
    return {"type": "text", "text": content}


def chat_completion(
    model: str,
    content: str | list[JSON] | None = DEFAULT_TEXT,
    tool_calls: list[JSON] | None = None,
    finish_reason: str = "stop",
    usage_body: JSON | None = None,
    completion_id: str = "cmpl-fake-1",
    choices: int = 1,
) -> JSON:
    """A chat completion with ``choices`` identical choices."""
    message: JSON = {"role": "assistant", "content": content, "tool_calls": tool_calls, "prefix": False}
    return {
        "id": completion_id,
        "object": "chat.completion",
        "model": model,
        "created": 1_700_000_000,
        "choices": [{"index": i, "message": message, "finish_reason": finish_reason} for i in range(choices)],
        "usage": usage_body if usage_body is not None else usage(9, 7),
    }


def chat_chunks(completion: JSON, pieces: int = 3) -> list[JSON]:
    """A completion as stream chunks: role, content pieces, tool calls, then reason and usage."""
    base = {"id": completion["id"], "object": "chat.completion.chunk", "model": completion["model"], "created": 1}
    chunks: list[JSON] = []
    for choice in completion["choices"]:
        index, message = choice["index"], choice["message"]
        deltas: list[JSON] = [{"role": "assistant", "content": ""}]
        content = message.get("content")
        if isinstance(content, str):
            step = max(1, -(-len(content) // pieces))
            deltas += [{"content": content[i : i + step]} for i in range(0, len(content), step)]
        elif isinstance(content, list):
            deltas += [{"content": [chunk]} for chunk in content]
        if message.get("tool_calls"):
            deltas.append({"tool_calls": message["tool_calls"]})
        for delta in deltas:
            chunks.append({**base, "choices": [{"index": index, "delta": delta, "finish_reason": None}]})
        chunks.append(
            {**base, "choices": [{"index": index, "delta": {"content": ""}, "finish_reason": choice["finish_reason"]}]}
        )
    chunks[-1]["usage"] = completion["usage"]
    return chunks


def embeddings(model: str, inputs: Any, dimensions: int = 4, prompt_tokens: int | None = None) -> JSON:
    """An embeddings answer: one vector per input."""
    texts = [inputs] if isinstance(inputs, str) else list(inputs or [])
    tokens = prompt_tokens if prompt_tokens is not None else sum(len(str(t).split()) for t in texts)
    return {
        "id": "embd-fake-1",
        "object": "list",
        "model": model,
        "data": [
            {"object": "embedding", "index": i, "embedding": [0.1 * (k + 1) for k in range(dimensions)]}
            for i in range(len(texts))
        ],
        "usage": {"prompt_tokens": tokens, "completion_tokens": 0, "total_tokens": tokens},
    }


def error_body(message: str, error_type: str = "invalid_request_error", code: str | None = None) -> JSON:
    """Mistral's error JSON."""
    return {"object": "error", "message": message, "type": error_type, "param": None, "code": code}
