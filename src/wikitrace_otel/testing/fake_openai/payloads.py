"""Deterministic OpenAI wire payloads derived from a request body.

Every builder takes the parsed JSON request body (``dict``) and returns plain
JSON-able dicts shaped exactly like the OpenAI REST API, so the real ``openai``
SDK's models and stream accumulators accept them.  Values are fixed so tests can
assert on them:

* ``model`` echoes the request model plus ``-2026-01-01`` (response model differs
  from request model, as with real dated snapshots).
* ``created`` is 2026-01-01T00:00:00Z.
* Tool calls always target the first requested tool with ``{"city": "Paris"}``.
* Structured output (``json_schema``) always yields ``{"answer": "42"}``.

The Responses API lives in :mod:`responses_api` next to this module.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

JSON = dict[str, Any]

CREATED = 1767225600
MODEL_SUFFIX = "-2026-01-01"
FALLBACK_MODEL = "gpt-fake"
SYSTEM_FINGERPRINT = "fp_fake"
SERVICE_TIER = "default"
TOOL_CALL_ID = "call_fake_1"
TOOL_ARGUMENTS = '{"city": "Paris"}'
STRUCTURED_CONTENT = '{"answer": "42"}'
CHAT_ID = "chatcmpl-fake-1"
COMPLETION_ID = "cmpl-fake-1"
LEGACY_TEXT = "Hello legacy"
DEFAULT_EMBEDDING_DIMENSIONS = 8

CHAT_USAGE: JSON = {
    "prompt_tokens": 11,
    "completion_tokens": 7,
    "total_tokens": 18,
    "prompt_tokens_details": {"cached_tokens": 3, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 2,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}
LEGACY_USAGE: JSON = {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10}
EMBEDDING_USAGE: JSON = {"prompt_tokens": 5, "total_tokens": 5}


# --------------------------------------------------------------------------- helpers


def response_model(body: JSON, fallback: str = FALLBACK_MODEL) -> str:
    """Model name reported back: the request model with a date suffix."""
    model = body.get("model")
    return f"{model if isinstance(model, str) and model else fallback}{MODEL_SUFFIX}"


def first_tool_name(body: JSON) -> str | None:
    """Name of the first function tool, for Chat (``tools[0].function.name``)
    and Responses (``tools[0].name``) request shapes alike."""
    tools = body.get("tools")
    if not isinstance(tools, list) or not tools or not isinstance(tools[0], dict):
        return None
    tool = tools[0]
    function = tool.get("function")
    name = function.get("name") if isinstance(function, dict) else tool.get("name")
    return name if isinstance(name, str) else None


def split_text(text: str, parts: int = 3) -> list[str]:
    """Split ``text`` into ``parts`` contiguous, non-empty (if possible) pieces."""
    size = max(1, -(-len(text) // parts))
    pieces = [text[i : i + size] for i in range(0, len(text), size)]
    return pieces or [""]


def _wants_usage_in_stream(body: JSON) -> bool:
    options = body.get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def _choice_count(body: JSON) -> int:
    n = body.get("n")
    return n if isinstance(n, int) and n > 0 else 1


def error_body(message: str, type_: str, code: str | None, param: str | None = None) -> JSON:
    """OpenAI error envelope: ``{"error": {"message", "type", "param", "code"}}``.

    The SDK unwraps ``body["error"]`` into ``APIStatusError.body`` and copies
    ``code``/``param``/``type`` onto the exception.
    """
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


# --------------------------------------------------------------------------- chat


def _chat_has_tool_call(body: JSON, index: int) -> bool:
    return index == 0 and first_tool_name(body) is not None


def _chat_content(body: JSON, index: int) -> str:
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") == "json_schema":
        return STRUCTURED_CONTENT
    return f"Hello from choice {index}"


def _chat_tool_call(body: JSON) -> JSON:
    return {
        "id": TOOL_CALL_ID,
        "type": "function",
        "function": {"name": first_tool_name(body), "arguments": TOOL_ARGUMENTS},
    }


def _chat_choice(body: JSON, index: int) -> JSON:
    message: JSON = {"role": "assistant", "content": None, "refusal": None, "annotations": []}
    if _chat_has_tool_call(body, index):
        message["tool_calls"] = [_chat_tool_call(body)]
        finish_reason = "tool_calls"
    else:
        message["content"] = _chat_content(body, index)
        finish_reason = "stop"
    return {"index": index, "message": message, "logprobs": None, "finish_reason": finish_reason}


def chat_completion(body: JSON) -> JSON:
    """``POST /chat/completions`` without streaming: a ``chat.completion`` object."""
    return {
        "id": CHAT_ID,
        "object": "chat.completion",
        "created": CREATED,
        "model": response_model(body),
        "choices": [_chat_choice(body, i) for i in range(_choice_count(body))],
        "usage": CHAT_USAGE,
        "service_tier": SERVICE_TIER,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def _chunk(body: JSON, choices: list[JSON]) -> JSON:
    """One ``chat.completion.chunk``. As the real API does, ``usage: null`` is
    present on every chunk when ``stream_options.include_usage`` is set."""
    chunk: JSON = {
        "id": CHAT_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": response_model(body),
        "service_tier": SERVICE_TIER,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": choices,
    }
    if _wants_usage_in_stream(body):
        chunk["usage"] = None
    return chunk


def _delta_choice(index: int, delta: JSON, finish_reason: str | None = None) -> JSON:
    return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def _tool_call_deltas(body: JSON) -> list[JSON]:
    """Tool-call deltas: the first carries ``id``/``type``/``name`` plus the first
    slice of ``arguments``; later ones carry only ``index`` and more arguments."""
    deltas = []
    for position, piece in enumerate(split_text(TOOL_ARGUMENTS)):
        call: JSON = {"index": 0, "function": {"arguments": piece}}
        if position == 0:
            call.update(id=TOOL_CALL_ID, type="function")
            call["function"]["name"] = first_tool_name(body)
        deltas.append({"tool_calls": [call]})
    return deltas


def _choice_deltas(body: JSON, index: int) -> list[JSON]:
    """Deltas for one choice: a role delta, then 3 content (or tool-call) deltas."""
    if _chat_has_tool_call(body, index):
        role: JSON = {"role": "assistant", "content": None, "refusal": None}
        return [role, *_tool_call_deltas(body)]
    role = {"role": "assistant", "content": "", "refusal": None}
    return [role, *({"content": piece} for piece in split_text(_chat_content(body, index)))]


def chat_completion_chunks(body: JSON) -> list[JSON]:
    """``POST /chat/completions`` with ``stream: true``: the chunk sequence.

    Order: per choice (0..n-1) its role delta and 3 content/tool-call deltas; then
    one ``finish_reason`` chunk per choice (empty delta); then, only with
    ``stream_options.include_usage``, a chunk with ``choices: []`` and ``usage``.
    The caller appends ``data: [DONE]``.
    """
    chunks = []
    count = _choice_count(body)
    for index in range(count):
        chunks += [_chunk(body, [_delta_choice(index, d)]) for d in _choice_deltas(body, index)]
    for index in range(count):
        finish_reason = "tool_calls" if _chat_has_tool_call(body, index) else "stop"
        chunks.append(_chunk(body, [_delta_choice(index, {}, finish_reason)]))
    if _wants_usage_in_stream(body):
        chunks.append({**_chunk(body, []), "usage": CHAT_USAGE})
    return chunks


# --------------------------------------------------------------------------- legacy completions


def _legacy_choice(index: int, text: str, finish_reason: str | None) -> JSON:
    return {"index": index, "text": text, "logprobs": None, "finish_reason": finish_reason}


def _legacy_object(body: JSON, choices: list[JSON]) -> JSON:
    return {
        "id": COMPLETION_ID,
        "object": "text_completion",
        "created": CREATED,
        "model": response_model(body),
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": choices,
    }


def completion(body: JSON) -> JSON:
    """``POST /completions`` (legacy): a ``text_completion`` with ``n`` choices,
    each ``"Hello legacy"`` with ``finish_reason: "length"``; usage 4/6/10."""
    choices = [_legacy_choice(i, LEGACY_TEXT, "length") for i in range(_choice_count(body))]
    return {**_legacy_object(body, choices), "usage": LEGACY_USAGE}


def completion_chunks(body: JSON) -> list[JSON]:
    """Legacy streaming: ``text_completion`` objects, 3 text pieces per choice with
    ``finish_reason: null`` (as the real API sends, although the SDK's type says
    non-null), one empty-text chunk per choice with ``"length"``, then a usage
    chunk with ``choices: []`` if ``stream_options.include_usage``."""
    chunks = []
    count = _choice_count(body)
    for index in range(count):
        for piece in split_text(LEGACY_TEXT):
            chunks.append(_legacy_object(body, [_legacy_choice(index, piece, None)]))
    for index in range(count):
        chunks.append(_legacy_object(body, [_legacy_choice(index, "", "length")]))
    if _wants_usage_in_stream(body):
        chunks.append({**_legacy_object(body, []), "usage": LEGACY_USAGE})
    return chunks


# --------------------------------------------------------------------------- embeddings


def embedding_inputs(body: JSON) -> int:
    """Number of inputs: a string or a token array is one input; a list of
    strings or a list of token arrays is one input per element."""
    raw = body.get("input")
    if isinstance(raw, list) and raw and all(isinstance(item, int) for item in raw):
        return 1
    return len(raw) if isinstance(raw, list) else 1


def embedding_vector(index: int, dimensions: int) -> list[float]:
    """Vector for input ``index``: ``[index + (j + 1) / 4 for j in range(d)]``.
    Quarter steps are exact in float32, so base64 round-trips compare equal."""
    return [index + (j + 1) / 4 for j in range(dimensions)]


def _encode_base64(vector: list[float]) -> str:
    """The ``encoding_format: "base64"`` form: little-endian float32 bytes,
    base64-encoded (the SDK decodes with ``array("f")`` or numpy float32)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def embeddings(body: JSON) -> JSON:
    """``POST /embeddings``: one ``embedding`` per input, ``dimensions`` from the
    request (default 8); base64 strings when ``encoding_format`` is "base64"."""
    dims = body.get("dimensions")
    dims = dims if isinstance(dims, int) and dims > 0 else DEFAULT_EMBEDDING_DIMENSIONS
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for index in range(embedding_inputs(body)):
        vector = embedding_vector(index, dims)
        encoded: Any = _encode_base64(vector) if as_base64 else vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    return {"object": "list", "data": data, "model": response_model(body), "usage": EMBEDDING_USAGE}
