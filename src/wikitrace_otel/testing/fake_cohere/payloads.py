"""Cohere v2 API bodies and stream events, as the API documents them.

Builders return plain dicts (the JSON the server sends).

- Chat: ``{"id", "finish_reason", "message": {"role": "assistant", "content": [{"type":
  "text", "text"}], "tool_plan"?, "tool_calls"?}, "usage": {"billed_units": {"input_tokens",
  "output_tokens"}, "tokens": {"input_tokens", "output_tokens"}, "cached_tokens"?}}``.
- Chat stream events (:func:`chat_events`), each with its ``type``: ``message-start``,
  ``content-start`` / ``content-delta``... / ``content-end``, ``tool-plan-delta``,
  ``tool-call-start`` / ``tool-call-delta`` / ``tool-call-end``, ``message-end`` (finish reason
  and usage). The stream then simply ends (no ``[DONE]``).
- Embed: ``{"id", "embeddings": {"float": [[...]]}, "texts", "meta": {"billed_units":
  {"input_tokens"}}, "response_type": "embeddings_by_type"}``.
- Rerank: ``{"id", "results": [{"index", "relevance_score"}], "meta": {"billed_units":
  {"search_units"}}}``.
- Errors: ``{"message": ...}`` with the HTTP status.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

DEFAULT_TEXT = "Hello from the fake Cohere server."


def usage(
    billed_input: int,
    billed_output: int,
    raw_input: int | None = None,
    raw_output: int | None = None,
    cached: int | None = None,
) -> JSON:
    """A chat ``usage``: billed units, and raw token counts (by default billed + 100 input)."""
    body: JSON = {
        "billed_units": {"input_tokens": billed_input, "output_tokens": billed_output},
        "tokens": {
            "input_tokens": raw_input if raw_input is not None else billed_input + 100,
            "output_tokens": raw_output if raw_output is not None else billed_output,
        },
    }
    if cached is not None:
        body["cached_tokens"] = cached
    return body


def tool_call(call_id: str, name: str, arguments: str) -> JSON:
    """A ``function`` tool call (arguments are JSON text)."""
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def chat_response(
    text: str | None = DEFAULT_TEXT,
    tool_calls: list[JSON] | None = None,
    tool_plan: str | None = None,
    thinking: str | None = None,
    finish_reason: str = "COMPLETE",
    usage_body: JSON | None = None,
    response_id: str = "co-fake-1",
) -> JSON:
    """A v2 chat response."""
    content: list[JSON] = []
    if thinking is not None:
        content.append({"type": "thinking", "thinking": thinking})
    if text is not None:
        content.append({"type": "text", "text": text})
    message: JSON = {"role": "assistant", "content": content}
    if tool_plan is not None:
        message["tool_plan"] = tool_plan
    if tool_calls:
        message["tool_calls"] = tool_calls
    return {
        "id": response_id,
        "finish_reason": finish_reason,
        "message": message,
        "usage": usage_body if usage_body is not None else usage(8, 6),
    }


def chat_events(response: JSON, pieces: int = 3) -> list[JSON]:
    """A chat response as v2 stream events."""
    message = response["message"]
    events: list[JSON] = [{"type": "message-start", "id": response["id"], "delta": {"message": {"role": "assistant"}}}]
    if message.get("tool_plan"):
        events.append({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": message["tool_plan"]}}})
    for index, block in enumerate(message["content"]):
        key = "thinking" if block["type"] == "thinking" else "text"
        whole = block[key]
        step = max(1, -(-len(whole) // pieces))
        events.append(
            {
                "type": "content-start",
                "index": index,
                "delta": {"message": {"content": {"type": block["type"], key: ""}}},
            }
        )
        for i in range(0, len(whole), step):
            events.append(
                {"type": "content-delta", "index": index, "delta": {"message": {"content": {key: whole[i : i + step]}}}}
            )
        events.append({"type": "content-end", "index": index})
    for index, call in enumerate(message.get("tool_calls") or ()):
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        start = {
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": arguments[:half]},
        }
        events.append({"type": "tool-call-start", "index": index, "delta": {"message": {"tool_calls": start}}})
        events.append(
            {
                "type": "tool-call-delta",
                "index": index,
                "delta": {"message": {"tool_calls": {"function": {"arguments": arguments[half:]}}}},
            }
        )
        events.append({"type": "tool-call-end", "index": index})
    events.append(
        {"type": "message-end", "delta": {"finish_reason": response["finish_reason"], "usage": response["usage"]}}
    )
    return events


def embed_response(texts: list[str], dimensions: int = 4, billed_input: int | None = None) -> JSON:
    """An embed answer: one float vector per text."""
    tokens = billed_input if billed_input is not None else sum(len(t.split()) for t in texts)
    return {
        "id": "embed-fake-1",
        "embeddings": {"float": [[0.1 * (k + 1) for k in range(dimensions)] for _ in texts]},
        "texts": texts,
        "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": tokens}},
        "response_type": "embeddings_by_type",
    }


def rerank_response(documents: int, top_n: int | None = None, search_units: int = 1) -> JSON:
    """A rerank answer: documents in reverse order, scores falling."""
    order = list(reversed(range(documents)))[: top_n or documents]
    return {
        "id": "rerank-fake-1",
        "results": [{"index": i, "relevance_score": round(0.9 - 0.1 * rank, 3)} for rank, i in enumerate(order)],
        "meta": {"api_version": {"version": "2"}, "billed_units": {"search_units": search_units}},
    }


def error_body(message: str) -> JSON:
    """Cohere's error JSON."""
    return {"message": message}
