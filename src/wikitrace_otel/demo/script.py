"""What the demo's fake OpenAI server answers, in the order the agent asks.

The fake server's defaults are generic ("Hello from choice 0"); the demo queues answers that
fit its question, built from the same wire-format payloads, so the SDK parses real OpenAI
responses.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel.testing.fake_openai import FakeOpenAIServer, FakeResponse, payloads

ANSWER = (
    "You can pick up your order at our Paris store, 12 Rue de Rivoli (open 10:00-19:00). "
    "Orders ship within two business days."
)


def queue_answers(server: FakeOpenAIServer, model: str, embedding_model: str, passages: int, tools: list[Any]) -> None:
    """Queue the embeddings, the tool-calling reply and the streamed final answer."""
    server.enqueue(FakeResponse.json(payloads.embeddings({"model": embedding_model, "input": ["q"] * passages})))
    server.enqueue(FakeResponse.json(payloads.chat_completion({"model": model, "tools": tools})))
    server.enqueue(FakeResponse.sse(_answer_chunks(model, ANSWER)))


def _answer_chunks(model: str, text: str) -> list[dict[str, Any]]:
    body = {"model": model, "stream": True, "stream_options": {"include_usage": True}}
    template = payloads.chat_completion_chunks(body)
    first, finish, usage = template[0], template[-2], template[-1]
    words = text.split(" ")
    pieces = [word + (" " if i < len(words) - 1 else "") for i, word in enumerate(words)]
    content = [_with_delta(first, {"content": piece}) for piece in pieces]
    usage = {**usage, "usage": {**usage["usage"], "completion_tokens": len(pieces)}}
    usage["usage"]["total_tokens"] = usage["usage"]["prompt_tokens"] + len(pieces)
    return [first, *content, finish, usage]


def _with_delta(chunk: dict[str, Any], delta: dict[str, Any]) -> dict[str, Any]:
    choice = {**chunk["choices"][0], "delta": delta}
    return {**chunk, "choices": [choice]}
