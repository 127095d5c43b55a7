"""Gemini API JSON bodies in the REST wire format (camelCase), for the fake server and tests.

A ``GenerateContentResponse`` is ``{"candidates": [...], "usageMetadata": {...},
"modelVersion", "responseId"}``; each candidate is ``{"content": {"role": "model", "parts":
[...]}, "finishReason": "STOP", "index": i}``. A streamed answer
(``:streamGenerateContent?alt=sse``) is a series of such responses, each carrying the new
parts only; the last one carries the finish reasons and the usage.
"""

from __future__ import annotations

from typing import Any

JSON = dict[str, Any]

DEFAULT_TEXT = "Hello from the fake Gemini."
EMBEDDING_SIZE = 4


def text_part(text: str) -> JSON:
    """A ``text`` part."""
    return {"text": text}


def thought_part(text: str) -> JSON:
    """A thought summary part (``"thought": true``)."""
    return {"text": text, "thought": True}


def function_call_part(name: str, args: JSON, call_id: str | None = None) -> JSON:
    """A ``functionCall`` part."""
    call: JSON = {"name": name, "args": args}
    if call_id is not None:
        call["id"] = call_id
    return {"functionCall": call}


def candidate(parts: list[JSON], finish_reason: str | None = "STOP", index: int = 0) -> JSON:
    """One candidate; ``finish_reason=None`` leaves the field out (a stream's middle chunk)."""
    found: JSON = {"content": {"role": "model", "parts": parts}, "index": index}
    if finish_reason is not None:
        found["finishReason"] = finish_reason
    return found


def usage(prompt: int, candidates: int, cached: int | None = None, thoughts: int | None = None) -> JSON:
    """``usageMetadata``: ``promptTokenCount`` includes ``cachedContentTokenCount``."""
    body: JSON = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + (thoughts or 0),
    }
    if cached is not None:
        body["cachedContentTokenCount"] = cached
    if thoughts is not None:
        body["thoughtsTokenCount"] = thoughts
    return body


def response(
    model: str,
    candidates: list[JSON] | None = None,
    usage_body: JSON | None = None,
    response_id: str = "resp_fake_1",
) -> JSON:
    """A complete ``GenerateContentResponse``."""
    return {
        "candidates": candidates if candidates is not None else [candidate([text_part(DEFAULT_TEXT)])],
        "usageMetadata": usage_body if usage_body is not None else usage(5, 6),
        "modelVersion": model,
        "responseId": response_id,
    }


def stream_chunks(answer: JSON) -> list[JSON]:
    """``answer`` as stream chunks: one per part of each candidate, then a last chunk with the
    finish reasons and the usage (as the API sends them)."""
    head = {"modelVersion": answer.get("modelVersion"), "responseId": answer.get("responseId")}
    chunks: list[JSON] = []
    candidates = answer.get("candidates") or []
    for cand in candidates:
        for part in cand["content"]["parts"]:
            chunks.append({**head, "candidates": [candidate([part], None, cand.get("index", 0))]})
    last: JSON = {**head, "usageMetadata": answer.get("usageMetadata")}
    last["candidates"] = [
        {**candidate([], cand.get("finishReason"), cand.get("index", 0)), "content": {"role": "model", "parts": []}}
        for cand in candidates
    ]
    chunks.append(last)
    return chunks


def _vector(seed: int) -> list[float]:
    return [round(0.1 * (seed + i + 1), 3) for i in range(EMBEDDING_SIZE)]


def batch_embeddings(body: JSON) -> JSON:
    """Answer to ``:batchEmbedContents``: one embedding per request."""
    return {"embeddings": [{"values": _vector(i)} for i, _ in enumerate(body.get("requests") or [])]}


def embedding(body: JSON) -> JSON:
    """Answer to ``:embedContent``."""
    return {"embedding": {"values": _vector(0)}, "usageMetadata": {"promptTokenCount": 3, "totalTokenCount": 3}}


def predictions(body: JSON) -> JSON:
    """Answer to Vertex ``:predict`` for text embedding models (token counts per instance)."""
    instances = body.get("instances") or []
    return {
        "predictions": [
            {"embeddings": {"values": _vector(i), "statistics": {"token_count": 3, "truncated": False}}}
            for i, _ in enumerate(instances)
        ],
        "metadata": {"billableCharacterCount": 10 * len(instances)},
    }


def error_body(code: int, message: str, status: str) -> JSON:
    """Google's error JSON: ``{"error": {"code", "message", "status"}}``."""
    return {"error": {"code": code, "message": message, "status": status}}
