"""The demo's small support agent: retrieval, a tool call, a streamed answer, embeddings."""

from __future__ import annotations

import json
import math
from typing import Any

from wikitrace_otel.decorators import agent, retrieval, tool

MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"
HANDBOOK = (
    "Orders ship within two business days.",
    "Refunds are issued to the original payment method within five days.",
    "Support is open Monday to Friday, 9:00 to 17:00 CET.",
)
FIND_STORE = {
    "type": "function",
    "function": {
        "name": "find_store",
        "description": "The pick-up store nearest to a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
STORES = {"paris": "12 Rue de Rivoli, open 10:00-19:00", "berlin": "Friedrichstraße 90, open 9:00-18:00"}


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


@retrieval(data_source="handbook")
def retrieve(client: Any, question: str, top: int = 2) -> list[str]:
    """Embed the question and the handbook, return the closest passages."""
    embedded = client.embeddings.create(model=EMBEDDING_MODEL, input=[question, *HANDBOOK], encoding_format="float")
    vectors = [item.embedding for item in embedded.data]
    ranked = sorted(zip(HANDBOOK, vectors[1:], strict=False), key=lambda pair: -_cosine(vectors[0], pair[1]))
    return [passage for passage, _ in ranked[:top]]


@tool(name="find_store", description="The pick-up store nearest to a city")
def find_store(city: str = "") -> dict[str, Any]:
    """A stand-in for a store directory."""
    return {"city": city, "store": STORES.get(city.lower(), "no store in that city")}


@agent(name="support-agent", description="Answers customer questions from the handbook")
def answer(client: Any, question: str, out: Any) -> str:
    """Retrieve context, let the model call a tool, then stream the final answer to ``out``."""
    context = retrieve(client, question)
    messages: list[Any] = [
        {"role": "system", "content": "Answer from this handbook:\n" + "\n".join(context)},
        {"role": "user", "content": question},
    ]
    first = client.chat.completions.create(model=MODEL, messages=messages, tools=[FIND_STORE])
    message = first.choices[0].message
    messages.append(message)
    for call in message.tool_calls or ():
        result = find_store(**json.loads(call.function.arguments or "{}"))
        messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    parts: list[str] = []
    stream = client.chat.completions.create(
        model=MODEL, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    for chunk in stream:
        for choice in chunk.choices:
            if choice.delta.content:
                parts.append(choice.delta.content)
                out.write(choice.delta.content)
                out.flush()
    out.write("\n")
    return "".join(parts)
