"""Spend budgets refuse Anthropic calls before they are sent, streamed or not, and charge
cache reads and writes at their own prices."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from anthropic_support import MODEL, USER, AnthropicSdk

import wikitrace_otel as wt
from wikitrace_otel import budgets
from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, FakeResponse, payloads, stream

pytestmark = pytest.mark.usefixtures("instrumented")

# Per million tokens: input 1000, cache write 2000, cache read 100, output 4000.
PRICES = {MODEL: {"input": 1000, "cache_write": 2000, "cache_read": 100, "output": 4000}}


@pytest.fixture(autouse=True)
def prices() -> Iterator[None]:
    budgets.use_prices(PRICES)
    yield
    budgets.use_prices(None)


def _message(cache_read: int = 0, cache_write: int = 0) -> dict[str, Any]:
    return payloads.message(
        MODEL, [payloads.text_block("Hi")], usage_body=payloads.usage(10, 5, cache_read, cache_write)
    )


def _posts(server: FakeAnthropicServer) -> int:
    return sum(1 for request in server.requests if request.path.endswith("/messages"))


async def test_a_spent_budget_refuses_the_next_message_without_sending(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer
) -> None:
    fake_anthropic.enqueue(FakeResponse.json(_message(cache_read=100, cache_write=20)))
    with wt.budget(usd=0.05) as b:
        await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=USER)
        # 10 * 1000 + 100 * 100 + 20 * 2000 + 5 * 4000 = 80,000 per million tokens
        assert b.spent == pytest.approx(0.08)
        assert b.exceeded and b.tokens_used == 135
        with pytest.raises(wt.BudgetExceeded):
            await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=USER)
        with pytest.raises(wt.BudgetExceeded):
            await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=USER, stream=True)
    assert _posts(fake_anthropic) == 1


async def test_a_stream_is_charged_when_it_ends(sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(_message())))
    with wt.budget(usd=1.0) as b:
        events = await sdk.call("messages.create", model=MODEL, max_tokens=64, messages=USER, stream=True)
        assert b.calls == 0
        await sdk.drain(events)
        assert b.calls == 1 and b.spent == pytest.approx(0.03)
