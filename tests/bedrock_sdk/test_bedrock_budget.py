"""Spend budgets refuse Bedrock calls before they are sent, streamed or not, and charge cache
reads and writes at their own prices."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bedrock_support import NOVA, USER

import wikitrace_otel as wt
from wikitrace_otel import budgets
from wikitrace_otel.testing.fake_bedrock import FakeBedrockServer, json_answer, payloads, stream

pytestmark = pytest.mark.usefixtures("instrumented")

# Per million tokens: input 1000, output 4000.
PRICES = {NOVA: {"input": 1000, "output": 4000}}


@pytest.fixture(autouse=True)
def prices() -> Iterator[None]:
    budgets.use_prices(PRICES)
    yield
    budgets.use_prices(None)


def test_a_spent_budget_refuses_the_next_call_without_sending(fake_bedrock: FakeBedrockServer, live: object) -> None:
    fake_bedrock.enqueue(json_answer(payloads.converse_answer(usage_body=payloads.usage(10, 5))))
    with wt.budget(usd=0.02) as b:
        live.converse(modelId=NOVA, messages=USER)  # type: ignore[attr-defined]
        assert b.spent == pytest.approx(0.03)  # 10 * 1000 + 5 * 4000 per million tokens
        assert b.exceeded and b.tokens_used == 15
        with pytest.raises(wt.BudgetExceeded):
            live.converse(modelId=NOVA, messages=USER)  # type: ignore[attr-defined]
        with pytest.raises(wt.BudgetExceeded):
            live.converse_stream(modelId=NOVA, messages=USER)  # type: ignore[attr-defined]
        with pytest.raises(wt.BudgetExceeded):
            live.invoke_model(modelId=NOVA, body=b'{"messages": []}')  # type: ignore[attr-defined]
    assert len(fake_bedrock.requests) == 1


def test_a_stream_is_charged_when_it_ends(fake_bedrock: FakeBedrockServer, live: object) -> None:
    answer = payloads.converse_answer(usage_body=payloads.usage(10, 5))
    fake_bedrock.enqueue(stream(payloads.converse_events(answer)))
    with wt.budget(usd=1.0) as b:
        events = live.converse_stream(modelId=NOVA, messages=USER)["stream"]  # type: ignore[attr-defined]
        assert b.calls == 0
        list(events)
        assert b.calls == 1 and b.spent == pytest.approx(0.03)
