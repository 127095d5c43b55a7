"""Spend budgets refuse Gemini calls before they are sent, streamed or not, and charge cached
input at its own price."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gemini_support import MODEL, GeminiSdk

import wikitrace_otel as wt
from wikitrace_otel import budgets
from wikitrace_otel.testing.fake_gemini import FakeGeminiServer, FakeResponse, payloads, stream

pytestmark = pytest.mark.usefixtures("instrumented")

# Per million tokens: input 1000, cache read 100, output 4000.
PRICES = {MODEL: {"input": 1000, "cache_read": 100, "output": 4000}}


@pytest.fixture(autouse=True)
def prices() -> Iterator[None]:
    budgets.use_prices(PRICES)
    yield
    budgets.use_prices(None)


def _answer(cached: int | None = None) -> dict[str, Any]:
    return payloads.response(MODEL, usage_body=payloads.usage(110, 3, cached=cached, thoughts=2))


async def test_a_spent_budget_refuses_the_next_call_without_sending(
    sdk: GeminiSdk, fake_gemini: FakeGeminiServer
) -> None:
    fake_gemini.enqueue(FakeResponse.json(_answer(cached=100)))
    with wt.budget(usd=0.01) as b:
        await sdk.call("generate_content", model=MODEL, contents="Hi")
        # 10 * 1000 + 100 * 100 + (3 + 2) * 4000 = 40,000 per million tokens
        assert b.spent == pytest.approx(0.04)
        assert b.exceeded and b.tokens_used == 115
        with pytest.raises(wt.BudgetExceeded):
            await sdk.call("generate_content", model=MODEL, contents="Hi")
        with pytest.raises(wt.BudgetExceeded):
            await sdk.call("generate_content_stream", model=MODEL, contents="Hi")
        with pytest.raises(wt.BudgetExceeded):
            await sdk.call("embed_content", model=MODEL, contents="Hi")
    assert len(fake_gemini.requests) == 1


async def test_a_stream_is_charged_when_it_ends(sdk: GeminiSdk, fake_gemini: FakeGeminiServer) -> None:
    fake_gemini.enqueue(stream(payloads.stream_chunks(_answer())))
    with wt.budget(usd=1.0) as b:
        chunks = await sdk.call("generate_content_stream", model=MODEL, contents="Hi")
        assert b.calls == 0
        await sdk.drain(chunks)
        assert b.calls == 1 and b.spent == pytest.approx(0.13)  # 110 * 1000 + 5 * 4000
