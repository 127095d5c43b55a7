"""A small RAG pipeline: each step is a span, the LLM calls carry tokens and cost.

Run: ``OPENAI_API_KEY=... python examples/rag.py``. The trace holds
``invoke_workflow answer`` > ``retrieval handbook`` > ``embeddings ...``, then ``chat ...``.
"""

from __future__ import annotations

import math

import openai

import wikitrace_otel
from wikitrace_otel.decorators import retrieval, workflow

DOCUMENTS = [
    "Our office is closed on public holidays.",
    "Invoices are sent on the first business day of each month.",
    "The VPN must be used on public networks.",
]

client = openai.OpenAI()


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


@retrieval(data_source="handbook")
def retrieve(question: str) -> list[str]:
    vectors = [
        d.embedding for d in client.embeddings.create(model="text-embedding-3-small", input=[question, *DOCUMENTS]).data
    ]
    ranked = sorted(zip(DOCUMENTS, vectors[1:], strict=False), key=lambda pair: -_cosine(vectors[0], pair[1]))
    return [text for text, _ in ranked[:2]]


@workflow(name="answer")
def answer(question: str) -> str:
    context = "\n".join(retrieve(question))
    reply = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": f"Answer from:\n{context}"}, {"role": "user", "content": question}],
    )
    return reply.choices[0].message.content or ""


if __name__ == "__main__":
    wikitrace_otel.install("rag-example")
    print(answer("When are invoices sent?"))
