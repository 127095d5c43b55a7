"""The calls every variant makes: the real OpenAI and Anthropic SDKs over an in-process transport.

``openai`` 3.x and ``anthropic`` 2.x run on ``httpx2``, so a ``httpx2.MockTransport`` answers
with canned bodies (older majors use ``httpx``). The SDKs' own request building, response
parsing and SSE decoding run; no socket is opened. Bodies follow the providers' wire formats.

Cases (name -> what one call does):

- ``chat``: ``client.chat.completions.create`` without streaming;
- ``stream_1`` / ``stream_20``: the same with ``stream=True``, 1 or 20 content chunks, read
  to the end (the per-chunk cost is the slope between them; the stream length travels in a
  request header, since some peers consume ``metadata``);
- ``embeddings``: ``client.embeddings.create``;
- ``messages``: Anthropic ``client.messages.create``;
- ``messages_stream_1`` / ``messages_stream_20``: the same with ``stream=True``, 1 or 20 text
  deltas, read to the end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

OPENAI_CASES = ("chat", "stream_1", "stream_20", "embeddings")
ANTHROPIC_CASES = ("messages", "messages_stream_1", "messages_stream_20")
ALL_CASES = OPENAI_CASES + ANTHROPIC_CASES
CHAT_MODEL = "gpt-4o-mini"
CLAUDE_MODEL = "claude-3-5-haiku-20241022"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]

CHAT_BODY = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_bench",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello there!"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15},
    }
).encode()
EMBEDDING_BODY = json.dumps(
    {
        "object": "list",
        "model": "text-embedding-3-small",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1] * 16}],
        "usage": {"prompt_tokens": 4, "total_tokens": 4},
    }
).encode()
CLAUDE_USAGE = {"input_tokens": 20, "output_tokens": 3, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}
CLAUDE_BODY = json.dumps(
    {
        "id": "msg_bench",
        "type": "message",
        "role": "assistant",
        "model": CLAUDE_MODEL,
        "content": [{"type": "text", "text": "Hello there!"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": CLAUDE_USAGE,
    }
).encode()


def openai_stream_body(chunks: int) -> bytes:
    """An SSE chat stream: a role chunk, ``chunks`` content chunks, a finish chunk, ``[DONE]``."""
    base = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1, "model": CHAT_MODEL}
    events = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}]
    events += [{**base, "choices": [{"index": 0, "delta": {"content": f"w{i} "}}]} for i in range(chunks)]
    events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


def anthropic_stream_body(deltas: int) -> bytes:
    """An SSE Messages stream with ``deltas`` text deltas in one text block."""
    start = json.loads(CLAUDE_BODY)
    start.update(content=[], stop_reason=None, usage={**CLAUDE_USAGE, "output_tokens": 1})
    events: list[dict[str, Any]] = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    delta = {"type": "content_block_delta", "index": 0}
    events += [{**delta, "delta": {"type": "text_delta", "text": f"w{i} "}} for i in range(deltas)]
    events += [
        {"type": "content_block_stop", "index": 0},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"output_tokens": deltas},
        },
        {"type": "message_stop"},
    ]
    return b"".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n".encode() for e in events)


def _http(sdk: Any) -> Any:
    """``httpx2`` for the SDK majors built on it, else ``httpx``."""
    if int(sdk.__version__.split(".", 1)[0]) >= (3 if sdk.__name__ == "openai" else 2):
        import httpx2

        return httpx2
    import httpx

    return httpx


def _openai_handler(http: Any) -> Callable[[Any], Any]:
    streams = {1: openai_stream_body(1), 20: openai_stream_body(20)}
    json_headers = {"content-type": "application/json"}

    def handler(request: Any) -> Any:
        if request.url.path.endswith("/embeddings"):
            return http.Response(200, headers=json_headers, content=EMBEDDING_BODY)
        if chunks := request.headers.get("x-bench-chunks"):
            return http.Response(200, headers={"content-type": "text/event-stream"}, content=streams[int(chunks)])
        return http.Response(200, headers=json_headers, content=CHAT_BODY)

    return handler


def _anthropic_handler(http: Any) -> Callable[[Any], Any]:
    streams = {1: anthropic_stream_body(1), 20: anthropic_stream_body(20)}

    def handler(request: Any) -> Any:
        if deltas := request.headers.get("x-bench-chunks"):
            return http.Response(200, headers={"content-type": "text/event-stream"}, content=streams[int(deltas)])
        return http.Response(200, headers={"content-type": "application/json"}, content=CLAUDE_BODY)

    return handler


def openai_cases(openai_class: Any) -> dict[str, Callable[[], None]]:
    """The OpenAI cases, on a client of ``openai_class`` (``openai.OpenAI`` or a drop-in)."""
    import openai

    http = _http(openai)
    client = openai_class(
        api_key="sk-bench",
        base_url="https://api.openai.com/v1",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(_openai_handler(http))),
    )
    chat = {"model": CHAT_MODEL, "messages": MESSAGES, "temperature": 0.2}

    def stream(chunks: int) -> Callable[[], None]:
        def run() -> None:
            for _ in client.chat.completions.create(**chat, stream=True, extra_headers={"x-bench-chunks": str(chunks)}):
                pass

        return run

    embed = {"model": "text-embedding-3-small", "input": "hello", "encoding_format": "float"}
    return {
        "chat": lambda: client.chat.completions.create(**chat) and None,
        "stream_1": stream(1),
        "stream_20": stream(20),
        "embeddings": lambda: client.embeddings.create(**embed) and None,
    }


def anthropic_cases(open_telemetry: Any = None) -> dict[str, Callable[[], None]]:
    """The Anthropic cases. ``open_telemetry`` is the client option of SDKs that trace themselves."""
    import anthropic

    http = _http(anthropic)
    options: dict[str, Any] = {} if open_telemetry is None else {"open_telemetry": open_telemetry}
    client = anthropic.Anthropic(
        api_key="sk-ant-bench",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(_anthropic_handler(http))),
        **options,
    )
    request = {"model": CLAUDE_MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "Say hello."}]}

    def stream(deltas: int) -> Callable[[], None]:
        def run() -> None:
            for _ in client.messages.create(**request, stream=True, extra_headers={"x-bench-chunks": str(deltas)}):
                pass

        return run

    return {
        "messages": lambda: client.messages.create(**request) and None,
        "messages_stream_1": stream(1),
        "messages_stream_20": stream(20),
    }
