"""Budgets: every model call made through LangChain is charged once, whichever span records it
(the OpenAI instrumentor's, charged by the instrumentor; the handler's, charged by the
BudgetSpanProcessor like any other instrumentation's span)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_support import CannedChatModel, support_chain

import wikitrace_otel as wt
from wikitrace_otel import budgets
from wikitrace_otel.budgets import BudgetSpanProcessor
from wikitrace_otel.budgets._gatekeeper import ensure_gate

PRICES = {
    "gpt-4o-mini": {"input": 1000, "output": 1000, "cache_read": 1000},
    "canned-1": {"input": 1000, "output": 1000},
}


@pytest.fixture(autouse=True)
def budget_state(tracer_provider: Any) -> Iterator[None]:
    budgets.use_prices(PRICES)
    tracer_provider.add_span_processor(BudgetSpanProcessor())
    yield
    gate = ensure_gate()
    gate.set_rules([], {})
    gate.prices = None


def test_each_model_call_is_charged_once(handler: Any, chat_model: Any, openai_on: bool) -> None:
    with wt.budget(usd=10.0) as b:
        support_chain(chat_model).invoke("Paris?", config={"callbacks": [handler]})
    assert b.calls == 2
    assert b.spent == pytest.approx(2 * 18 * 0.001)


def test_the_handlers_span_counts_towards_the_next_refusal(
    handler: Any, chat_model: Any, instrument: Any, fake_openai: Any, span_exporter: Any
) -> None:
    instrument()
    with wt.budget(usd=0.001) as b:
        CannedChatModel().invoke("hi", config={"callbacks": [handler]})  # no SDK: the handler's span is charged
        assert b.exceeded and b.calls == 1
        with pytest.raises(wt.BudgetExceeded):
            chat_model.invoke("hi", config={"callbacks": [handler]})  # refused before it is sent
    assert fake_openai.requests == []
    # The refused call has no inference span, as with the instrumentor alone.
    assert [span.name for span in span_exporter.get_finished_spans()] == ["chat canned-1"]
