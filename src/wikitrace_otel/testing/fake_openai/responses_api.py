"""Responses API payloads (``/responses``): the ``response`` object and its
streaming event sequence.

Non-streaming: one ``response`` object whose ``output`` holds, in order,

* a ``reasoning`` item (only if the request carried ``reasoning``) with one
  ``summary_text``;
* a ``function_call`` item (if the request carried ``tools``), or else a
  ``message`` item with one ``output_text`` part: "Hello from responses", or
  ``{"answer": "42"}`` when ``text.format.type`` is "json_schema".

Streaming (``stream: true``) uses named SSE events (``event: <type>`` plus
``data: <json>``), each with a ``sequence_number`` counting from 0::

    response.created, response.in_progress        (status in_progress, output [])
    per output item, at output_index i:
      response.output_item.added                  (item without content)
      message:   response.content_part.added, response.output_text.delta x3,
                 response.output_text.done, response.content_part.done
      function:  response.function_call_arguments.delta x2,
                 response.function_call_arguments.done
      reasoning: response.reasoning_summary_part.added,
                 response.reasoning_summary_text.delta x2,
                 response.reasoning_summary_text.done,
                 response.reasoning_summary_part.done
      response.output_item.done                   (complete item)
    response.completed                            (the full response object)

The SDK's ``ResponseStreamState`` needs ``response.created`` first, contiguous
output indexes, every added item completed (newer SDKs check identities) and
``response.completed`` for ``get_final_response()``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .payloads import (
    CREATED,
    SERVICE_TIER,
    STRUCTURED_CONTENT,
    TOOL_ARGUMENTS,
    TOOL_CALL_ID,
    first_tool_name,
    response_model,
    split_text,
)

JSON = dict[str, Any]

RESPONSE_ID = "resp_fake_1"
MESSAGE_ID = "msg_fake_1"
FUNCTION_CALL_ID = "fc_fake_1"
REASONING_ID = "rs_fake_1"
RESPONSE_TEXT = "Hello from responses"
REASONING_SUMMARY = "Thinking about the answer."
RESPONSE_USAGE: JSON = {
    "input_tokens": 13,
    "input_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 0},
    "output_tokens": 9,
    "output_tokens_details": {"reasoning_tokens": 5},
    "total_tokens": 22,
}


def _wants_json(body: JSON) -> bool:
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    return isinstance(fmt, dict) and fmt.get("type") == "json_schema"


def _message_item(body: JSON) -> JSON:
    text = STRUCTURED_CONTENT if _wants_json(body) else RESPONSE_TEXT
    part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
    return {"id": MESSAGE_ID, "type": "message", "role": "assistant", "status": "completed", "content": [part]}


def _function_call_item(body: JSON) -> JSON:
    return {
        "id": FUNCTION_CALL_ID,
        "type": "function_call",
        "call_id": TOOL_CALL_ID,
        "name": first_tool_name(body),
        "arguments": TOOL_ARGUMENTS,
        "status": "completed",
    }


def _reasoning_item() -> JSON:
    return {"id": REASONING_ID, "type": "reasoning", "summary": [{"type": "summary_text", "text": REASONING_SUMMARY}]}


def output_items(body: JSON) -> list[JSON]:
    """Completed output items for a request (see module docstring)."""
    items = [_reasoning_item()] if body.get("reasoning") else []
    items.append(_function_call_item(body) if first_tool_name(body) else _message_item(body))
    return items


def response_object(body: JSON, response_id: str = RESPONSE_ID) -> JSON:
    """A completed ``response`` object; request settings are echoed back."""
    tools = body.get("tools")
    return {
        "id": response_id,
        "object": "response",
        "created_at": CREATED,
        "completed_at": CREATED + 1,
        "status": "completed",
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "metadata": body.get("metadata") or {},
        "model": response_model(body),
        "output": output_items(body),
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
        "service_tier": SERVICE_TIER,
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": tools if isinstance(tools, list) else [],
        "top_p": body.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": RESPONSE_USAGE,
    }


# --------------------------------------------------------------------------- streaming

ItemEvents = Callable[[int, JSON], list[JSON]]


def _message_events(index: int, item: JSON) -> list[JSON]:
    part = item["content"][0]
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    deltas = [
        {"type": "response.output_text.delta", **where, "delta": piece, "logprobs": []}
        for piece in split_text(part["text"])
    ]
    return [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**item, "status": "in_progress", "content": []},
        },
        {"type": "response.content_part.added", **where, "part": {**part, "text": ""}},
        *deltas,
        {"type": "response.output_text.done", **where, "text": part["text"], "logprobs": []},
        {"type": "response.content_part.done", **where, "part": part},
    ]


def _function_call_events(index: int, item: JSON) -> list[JSON]:
    where = {"item_id": item["id"], "output_index": index}
    deltas = [
        {"type": "response.function_call_arguments.delta", **where, "delta": piece}
        for piece in split_text(item["arguments"], 2)
    ]
    return [
        {
            "type": "response.output_item.added",
            "output_index": index,
            "item": {**item, "status": "in_progress", "arguments": ""},
        },
        *deltas,
        {"type": "response.function_call_arguments.done", **where, "arguments": item["arguments"]},
    ]


def _reasoning_events(index: int, item: JSON) -> list[JSON]:
    part = item["summary"][0]
    where = {"item_id": item["id"], "output_index": index, "summary_index": 0}
    deltas = [
        {"type": "response.reasoning_summary_text.delta", **where, "delta": piece}
        for piece in split_text(part["text"], 2)
    ]
    return [
        {"type": "response.output_item.added", "output_index": index, "item": {**item, "summary": []}},
        {"type": "response.reasoning_summary_part.added", **where, "part": {**part, "text": ""}},
        *deltas,
        {"type": "response.reasoning_summary_text.done", **where, "text": part["text"]},
        {"type": "response.reasoning_summary_part.done", **where, "part": part},
    ]


_ITEM_EVENTS: dict[str, ItemEvents] = {
    "message": _message_events,
    "function_call": _function_call_events,
    "reasoning": _reasoning_events,
}


def response_events(response: JSON) -> list[JSON]:
    """The full streaming event sequence for a completed ``response`` object."""
    started = {**response, "status": "in_progress", "completed_at": None, "output": [], "usage": None}
    events: list[JSON] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
    ]
    for index, item in enumerate(response["output"]):
        events += _ITEM_EVENTS[item["type"]](index, item)
        events.append({"type": "response.output_item.done", "output_index": index, "item": item})
    events.append({"type": "response.completed", "response": response})
    return [{**event, "sequence_number": number} for number, event in enumerate(events)]
