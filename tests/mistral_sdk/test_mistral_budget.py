"""Spend budgets refuse Mistral calls before they are sent, streamed or not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mistral_support import EMBED_MODEL, MODEL, USER, MistralSdk

import wikitrace_otel as wt
from wikitrace_otel import budgets
from wikitrace_otel.testing.fake_mistral import FakeMistralServer, FakeResponse, payloads, stream

pytestmark = pytest.mark.usefixtures("instrumented")

# Per million tokens.
PRICES = {MODEL: {"input": 1000, "output": 4000}, EMBED_MODEL: {"input": 100, "output": 0}}


@pytest.fixture(autouse=True)
def prices() -> Iterator[None]:
    budgets.use_prices(PRICES)
    yield
    budgets.use_prices(None)


def _posts(server: FakeMistralServer) -> int:
    return sum(1 for request in server.requests if request.method == "POST")


async def test_a_spent_budget_refuses_the_next_call_without_sending(
    sdk: MistralSdk, fake_mistral: FakeMistralServer
) -> None:
    fake_mistral.enqueue(FakeResponse.json(payloads.chat_completion(MODEL, "Hi", usage_body=payloads.usage(20, 10))))
    with wt.budget(usd=0.05) as b:
        await sdk.call("chat.complete", model=MODEL, messages=USER)
        # 20 * 1000 + 10 * 4000 = 60,000 per million tokens
        assert b.spent == pytest.approx(0.06)
        assert b.exceeded and b.tokens_used == 30
        with pytest.raises(wt.BudgetExceeded):
            await sdk.call("chat.complete", model=MODEL, messages=USER)
        with pytest.raises(wt.BudgetExceeded):
            await sdk.call("chat.stream", model=MODEL, messages=USER)
        with pytest.raises(wt.BudgetExceeded):
            await sdk.call("embeddings.create", model=EMBED_MODEL, inputs=["x"])
    assert _posts(fake_mistral) == 1


async def test_a_stream_is_charged_when_it_ends(sdk: MistralSdk, fake_mistral: FakeMistralServer) -> None:
    answer = payloads.chat_completion(MODEL, "Hi", usage_body=payloads.usage(10, 5))
    fake_mistral.enqueue(stream(payloads.chat_chunks(answer)))
    with wt.budget(usd=1.0) as b:
        events = await sdk.call("chat.stream", model=MODEL, messages=USER)
        assert b.calls == 0
        await sdk.drain(events)
        assert b.calls == 1 and b.spent == pytest.approx(0.03)
