"""``model_call()``: a framework learns whether a provider instrumentor traced its call."""

from __future__ import annotations

import asyncio
from typing import Any

import wikitrace_otel as wt


def _chat(client: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])


def test_an_instrumented_call_claims_the_framework_call(instrumented: Any, client: Any) -> None:
    with wt.model_call("router") as call:
        assert not call.traced
        _chat(client)
    assert call.traced and call.claims == 1 and call.name == "router"
    assert wt._genai.claims.current_model_call() is None


def test_an_uninstrumented_call_is_left_to_the_framework(client: Any) -> None:
    with wt.model_call() as call:
        _chat(client)
    assert not call.traced


def test_calls_outside_any_scope_claim_nothing(instrumented: Any, client: Any) -> None:
    _chat(client)  # no scope: nothing to claim, nothing fails


def test_the_innermost_scope_is_claimed(instrumented: Any, client: Any) -> None:
    with wt.model_call("outer") as outer:
        with wt.model_call("inner") as inner:
            _chat(client)
        assert inner.traced and not outer.traced


async def test_child_tasks_claim_the_scope_they_were_created_in(instrumented: Any, async_client: Any) -> None:
    with wt.model_call() as call:
        await asyncio.gather(
            asyncio.create_task(async_client.embeddings.create(model="text-embedding-3-small", input="a")),
            asyncio.create_task(async_client.embeddings.create(model="text-embedding-3-small", input="b")),
        )
    assert call.claims == 2
