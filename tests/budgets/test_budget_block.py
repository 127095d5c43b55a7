"""``with budget()``: charging, the three ``on_exceed`` modes, refusals that send nothing."""

from __future__ import annotations

import asyncio
import logging
import warnings
from typing import Any

import pytest
from budget_support import COST_PER_CALL, TOKENS_PER_CALL, achat, chat

import wikitrace_otel as wt
from wikitrace_otel.semconv import wikitrace as w


def posts(server: Any) -> int:
    return sum(1 for request in server.requests if request.method == "POST")


def test_raise_lets_the_crossing_call_finish_then_refuses_without_sending(
    instrumented: Any, client: Any, fake_openai: Any, span_exporter: Any
) -> None:
    with wt.budget(usd=0.05, name="summaries") as b:
        for _ in range(3):  # 0.018, 0.036, 0.054: the third call crosses and still returns
            assert chat(client).choices
        assert b.exceeded and b.calls == 3
        with pytest.raises(wt.BudgetExceeded) as refused:
            chat(client)
    assert posts(fake_openai) == 3
    assert refused.value.name == "summaries"
    assert refused.value.limit == 0.05
    assert "was not sent" in str(refused.value)
    assert b.spent == pytest.approx(3 * COST_PER_CALL)
    assert b.remaining == 0.0
    spans = span_exporter.get_finished_spans()
    assert len(spans) == 3  # the refused call has no span: nothing happened
    marked = [s for s in spans if s.attributes.get(w.WIKITRACE_BUDGET_EXCEEDED)]
    assert len(marked) == 1 and marked[0].attributes[w.WIKITRACE_BUDGET_NAME] == "summaries"
    # The spans charged under a budget carry their cost already.
    assert spans[0].attributes[w.GEN_AI_USAGE_COST_AMOUNT] == pytest.approx(COST_PER_CALL)


def test_outside_a_budget_nothing_is_limited(instrumented: Any, client: Any, fake_openai: Any) -> None:
    assert wt.current_cost() is None
    assert wt.budget_remaining() is None
    wt.budget_check()  # no-op
    for _ in range(3):
        chat(client)
    assert posts(fake_openai) == 3


def test_warn_warns_once_and_calls_go_on(
    instrumented: Any, client: Any, fake_openai: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="wikitrace_otel.budgets")
    with (
        pytest.warns(wt.BudgetWarning, match="budget 'soft'") as caught,
        wt.budget(usd=0.02, on_exceed="warn", name="soft") as b,
    ):
        for _ in range(4):
            chat(client)
    assert len([c for c in caught if issubclass(c.category, wt.BudgetWarning)]) == 1
    assert len([r for r in caplog.records if "soft" in r.getMessage()]) == 1
    assert posts(fake_openai) == 4 and b.exceeded and b.calls == 4


def test_silent_only_records(instrumented: Any, client: Any, fake_openai: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with wt.budget(usd=0.02, on_exceed="silent") as b:
            for _ in range(3):
                chat(client)
    assert b.exceeded and b.spent == pytest.approx(3 * COST_PER_CALL) and posts(fake_openai) == 3


def test_token_cap(instrumented: Any, client: Any, fake_openai: Any) -> None:
    with wt.budget(tokens=2 * TOKENS_PER_CALL) as b:
        chat(client)
        assert not b.exceeded and b.remaining_tokens == TOKENS_PER_CALL
        chat(client)
        assert b.exceeded and b.tokens_used == 2 * TOKENS_PER_CALL
        with pytest.raises(wt.BudgetExceeded, match="36 of 36 tokens"):
            chat(client)
    assert b.remaining is None  # no dollar limit
    assert posts(fake_openai) == 2


def test_nested_budgets_charge_every_level(instrumented: Any, client: Any, fake_openai: Any) -> None:
    with wt.budget(usd=1.0, name="suite") as outer:
        with wt.budget(usd=0.03, name="one-test") as inner:
            chat(client)
            assert wt.current_cost() == pytest.approx(COST_PER_CALL)
            chat(client)  # crosses the inner budget only
            with pytest.raises(wt.BudgetExceeded, match="one-test"):
                wt.budget_check()
            with pytest.raises(wt.BudgetExceeded):
                chat(client)
        assert wt.current_cost() == pytest.approx(2 * COST_PER_CALL)  # the outer budget is current again
        chat(client)  # the outer budget still has room
        wt.budget_check()
    assert inner.calls == 2 and outer.calls == 3
    assert outer.spent == pytest.approx(3 * COST_PER_CALL)
    assert wt.budget_remaining() is None


def test_an_exceeded_outer_budget_refuses_inside_a_fresh_inner_one(instrumented: Any, client: Any) -> None:
    with wt.budget(usd=0.01, name="outer"):
        chat(client)
        with wt.budget(usd=10.0, name="inner"), pytest.raises(wt.BudgetExceeded, match="outer"):
            chat(client)


def test_failed_calls_count_as_calls_but_cost_nothing(instrumented: Any, client: Any, fake_openai: Any) -> None:
    from wikitrace_otel.testing.fake_openai import FakeResponse

    fake_openai.enqueue(FakeResponse.error(500, "boom", code="server_error"))
    with wt.budget(usd=1.0) as b:
        with pytest.raises(Exception, match="boom"):
            chat(client)
        assert b.calls == 1 and b.spent == 0.0 and b.in_flight == 0


def test_stream_cost_is_charged_when_the_stream_ends(instrumented: Any, client: Any) -> None:
    with wt.budget(usd=1.0) as b:
        stream = chat(client, stream=True, stream_options={"include_usage": True})
        assert b.calls == 0 and b.in_flight == 1
        list(stream)
        assert b.calls == 1 and b.in_flight == 0
        assert b.spent == pytest.approx(COST_PER_CALL)


def test_unknown_price_counts_tokens_but_no_dollars(instrumented: Any, client: Any) -> None:
    with wt.budget(usd=1.0, tokens=1000) as b:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
    assert b.spent == 0.0 and b.tokens_used == TOKENS_PER_CALL and b.calls == 1


async def test_async_with_and_child_tasks_share_the_budget(
    instrumented: Any, async_client: Any, fake_openai: Any
) -> None:
    async with wt.budget(usd=0.05) as b:
        await asyncio.gather(*(achat(async_client) for _ in range(3)))
        assert b.exceeded
        with pytest.raises(wt.BudgetExceeded):
            await achat(async_client)
    assert b.calls == 3 and posts(fake_openai) == 3


async def test_threads_that_inherit_the_context_are_charged(instrumented: Any, client: Any) -> None:
    with wt.budget(usd=1.0) as b:
        await asyncio.to_thread(chat, client)
        future = wt.sessions.context_submit(_executor(), chat, client)
        future.result()
    assert b.calls == 2


def _executor() -> Any:
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1)


def test_preflight_refuses_a_call_whose_worst_case_does_not_fit(
    instrumented: Any, client: Any, fake_openai: Any
) -> None:
    with wt.budget(usd=0.05, preflight=True) as b:
        with pytest.raises(wt.BudgetExceeded, match="would exceed"):
            chat(client, max_tokens=100)  # 100 output tokens alone cost $0.10
        chat(client, max_tokens=10)  # worst case about $0.02: fits
    assert posts(fake_openai) == 1 and b.calls == 1 and b.in_flight == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs a limit"),
        ({"usd": -1}, "cannot be negative"),
        ({"usd": float("nan")}, "finite"),
        ({"tokens": 1.5}, "whole number"),
        ({"usd": 1, "on_exceed": "explode"}, "on_exceed"),
        ({"usd": 1, "warn_at": 2}, "warn_at"),
    ],
)
def test_bad_budgets_are_refused_up_front(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        wt.budget(**kwargs)


def test_a_budget_object_is_entered_once() -> None:
    b = wt.budget(usd=1)
    with b, pytest.raises(RuntimeError, match="already active"), b:
        pass


def test_refusal_happens_even_with_internal_errors_swallowed(
    instrumented: Any, client: Any, fake_openai: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # In production our own failures are swallowed; a refusal is not a failure and still raises.
    monkeypatch.delenv("WIKITRACE_RAISE_INTERNAL_ERRORS")
    with wt.budget(usd=0.01):
        chat(client)
        with pytest.raises(wt.BudgetExceeded):
            chat(client)
    assert posts(fake_openai) == 1
