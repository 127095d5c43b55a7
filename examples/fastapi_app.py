"""A FastAPI service whose LLM calls carry the caller's session and user.

Run: ``pip install fastapi uvicorn`` then ``OPENAI_API_KEY=... uvicorn examples.fastapi_app:app``.
Every span of a request (the chat call included) gets ``session.id`` and ``user.id`` from the
request headers, so the local store (or your backend) can answer "who spent what".
"""

from __future__ import annotations

import openai
from fastapi import FastAPI, Request

import wikitrace_otel

wikitrace_otel.install("support-api")
app = FastAPI()
client = openai.AsyncOpenAI()


@app.middleware("http")
async def with_session(request: Request, call_next):  # type: ignore[no-untyped-def]
    user = request.headers.get("x-user-id") or None
    session_id = request.headers.get("x-session-id") or None
    # `async with` keeps the session to this request, even with many requests in flight.
    async with wikitrace_otel.session(id=session_id, user=user):
        return await call_next(request)


@app.post("/ask")
async def ask(question: dict[str, str]) -> dict[str, str]:
    reply = await client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": question["text"]}]
    )
    return {"answer": reply.choices[0].message.content or ""}
