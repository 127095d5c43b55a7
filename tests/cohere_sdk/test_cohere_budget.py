"""Spend budgets refuse Cohere calls before they are sent, and charge the billed units."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cohere_support import EMBED_MODEL, MODEL, RERANK_MODEL, USER, CohereSdk

import wikitrace_otel as wt
from wikitrace_otel import budgets
from wikitrace_otel.testing.fake_cohere import FakeCohereServer, FakeResponse, payloads, stream

pytestmark = pytest.mark.usefixtures("instrumented")

# Per million tokens.
PRICES = {MODEL: {"input": 1000, "output": 4000}, EMBED_MODEL: {"input": 100, "output": 0}}


@pytest.fixture(autouse=True)
def prices() -> Iterator[None]:
    budgets.use_prices(PRICES)
    yield
    budgets.use_prices(None)


async def test_a_spent_budget_refuses_the_next_call_without_sending(
    sdk: CohereSdk, fake_cohere: FakeCohereServer
) -> None:
    # 500 raw input tokens, 20 billed: the billed units are charged
    usage = payloads.usage(20, 10, raw_input=500)
    fake_cohere.enqueue(FakeResponse.json(payloads.chat_response("Hi", usage_body=usage)))
    with wt.budget(usd=0.05) as b:
        await sdk.call("chat", model=MODEL, messages=USER)
        assert b.spent == pytest.approx(0.06)  # 20 * 1000 + 10 * 4000 per million
        assert b.exceeded and b.tokens_used == 30
        with pytest.raises(wt.BudgetExceeded):
            await sdk.call("chat", model=MODEL, messages=USER)
        with pytest.raises(wt.BudgetExceeded):
            sdk.stream(model=MODEL, messages=USER)
        with pytest.raises(wt.BudgetExceeded):
            await sdk.call(
                "embed", model=EMBED_MODEL, texts=["x"], input_type="search_query", embedding_types=["float"]
            )
        with pytest.raises(wt.BudgetExceeded):
            await sdk.call("rerank", model=RERANK_MODEL, query="q", documents=["a"])
    assert len(fake_cohere.requests) == 1


async def test_a_stream_is_charged_when_it_ends(sdk: CohereSdk, fake_cohere: FakeCohereServer) -> None:
    fake_cohere.enqueue(stream(payloads.chat_events(payloads.chat_response("Hi", usage_body=payloads.usage(10, 5)))))
    with wt.budget(usd=1.0) as b:
        events = sdk.stream(model=MODEL, messages=USER)
        await sdk.drain(events, limit=1)
        assert b.calls == 0
        await sdk.drain(events)
        assert b.calls == 1 and b.spent == pytest.approx(0.03)
