"""Budget rules: limits per user, session, service or attribute, over rolling windows."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from budget_support import COST_PER_CALL, MODEL, chat
from opentelemetry.sdk.trace import TracerProvider

import wikitrace_otel as wt
from wikitrace_otel.budgets import BudgetSpanProcessor
from wikitrace_otel.budgets._gatekeeper import ensure_gate
from wikitrace_otel.budgets._rules import RuleBook, parse_window
from wikitrace_otel.semconv import gen_ai as g


def rules(*given: wt.BudgetRule, service: str = "billing-api") -> RuleBook:
    """Install rules the way install(budgets=...) does."""
    book = ensure_gate().set_rules(list(given), {"service.name": service})
    assert book is not None
    return book


def test_a_user_over_the_limit_is_refused_and_others_are_not(instrumented: Any, client: Any, fake_openai: Any) -> None:
    rules(wt.BudgetRule(usd=0.03, per="user.id", window="1d", name="daily"))
    with wt.session(user="alice"):
        chat(client)
        chat(client)  # crosses alice's limit, returns normally
        with pytest.raises(wt.BudgetExceeded) as refused:
            chat(client)
    assert refused.value.key == "alice" and refused.value.name == "daily"
    with wt.session(user="bob"):
        chat(client)
    chat(client)  # no user: the rule does not apply
    assert sum(1 for r in fake_openai.requests if r.method == "POST") == 4


def test_per_session_per_service_and_global_rules(instrumented: Any, client: Any) -> None:
    rules(
        wt.BudgetRule(usd=1.0, per="session.id", window=None),
        wt.BudgetRule(usd=0.02, per="service.name", window="1h", name="service cap"),
    )
    with wt.session(id="s-1"):
        chat(client)
        chat(client)
        with pytest.raises(wt.BudgetExceeded, match="service cap"):
            chat(client)
    rules(wt.BudgetRule(tokens=18, per=None, window="30d", name="process cap"))
    chat(client)
    with pytest.raises(wt.BudgetExceeded, match="process cap"):
        chat(client)


def test_rules_on_request_attributes_and_session_properties(instrumented: Any, client: Any) -> None:
    rules(
        wt.BudgetRule(usd=0.01, per=g.GEN_AI_REQUEST_MODEL, window="1d"),
        wt.BudgetRule(usd=100, per="wikitrace.property.plan", window="1d"),
    )
    with wt.session(properties={"plan": "free"}):
        chat(client)
        with pytest.raises(wt.BudgetExceeded) as refused:
            chat(client)
    assert refused.value.key == MODEL
    client.chat.completions.create(model="other-model", messages=[{"role": "user", "content": "hi"}])


def test_warn_rules_let_calls_through(instrumented: Any, client: Any) -> None:
    rules(wt.BudgetRule(usd=0.01, per="user.id", on_exceed="warn"))
    with wt.session(user="carol"):
        for _ in range(3):
            chat(client)


def test_the_crossing_call_is_marked_on_its_span(instrumented: Any, client: Any, span_exporter: Any) -> None:
    rules(wt.BudgetRule(usd=0.01, per="user.id", name="tiny"))
    with wt.session(user="dave"):
        chat(client)
    (span,) = span_exporter.get_finished_spans()
    assert span.attributes["wikitrace.budget.exceeded"] is True
    assert span.attributes["wikitrace.budget.name"] == "tiny"


def test_a_rolling_window_forgets_old_spend() -> None:
    book = RuleBook([wt.BudgetRule(usd=1.0, per="user.id", window="1h")])
    now = time.time()
    keys = book.keys({"user.id": "erin"})
    book.charge(keys, 0.7, 10, at=now - 3500)  # inside the window, near its start
    book.charge(keys, 0.2, 5, at=now)
    assert book.spent(0, "erin", now=now) == (pytest.approx(0.9), 15)
    assert book.spent(0, "erin", now=now + 300) == (pytest.approx(0.2), 5)
    book.charge(keys, 5.0, 0, at=now - 7200)  # older than the window: ignored
    assert book.spent(0, "erin", now=now + 300)[0] == pytest.approx(0.2)


def test_spend_sums_are_exact_over_many_small_charges() -> None:
    book = RuleBook([wt.BudgetRule(usd=100.0, per="user.id", window="1d"), wt.BudgetRule(usd=100.0, per="user.id")])
    now = time.time()
    keys = book.keys({"user.id": "gina"})
    for second in range(1000):
        book.charge(keys, 0.001, 1, at=now - 1000 + second)
    # A float sum of a thousand 0.001s is 1.0000000000000007; whole pico-dollars give exactly 1.
    assert book.spent(0, "gina", now=now) == (1.0, 1000)
    assert book.spent(1, "gina", now=now) == (1.0, 1000)


def test_a_key_back_under_its_limit_may_spend_again() -> None:
    book = RuleBook([wt.BudgetRule(usd=1.0, per="user.id", window="1h")])
    now = time.time()
    keys = book.keys({"user.id": "frank"})
    crossings, over = book.charge(keys, 1.5, 0, at=now - 3500)
    assert over is not None
    assert [c.exceeded for c in crossings] == [True]
    with pytest.raises(wt.BudgetExceeded):
        book.admit(keys, now=now)
    book.admit(keys, now=now + 300)  # the spend left the window


def test_rule_keys_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    from wikitrace_otel.budgets import _rules

    monkeypatch.setattr(_rules, "MAX_KEYS_PER_RULE", 3)
    book = RuleBook([wt.BudgetRule(usd=1.0, per="user.id")])
    for user in "abcde":
        book.charge(book.keys({"user.id": user}), 0.1, 1)
    assert book.evicted_keys == 2
    assert book.spent(0, "a") == (0.0, 0) and book.spent(0, "e")[0] == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("window", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("1h", 3600),
        ("1d", 86400),
        ("30d", 2592000),
        (timedelta(hours=2), 7200),
        (None, None),
    ],
)
def test_windows(window: Any, seconds: float | None) -> None:
    assert parse_window(window) == seconds


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"usd": 1, "window": "1 fortnight"}, "duration"),
        ({"usd": 1, "window": "0h"}, "longer than zero"),
        ({"usd": 1, "per": ""}, "attribute name"),
        ({"per": "user.id"}, "needs a limit"),
    ],
)
def test_bad_rules(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        wt.BudgetRule(**kwargs)


def test_spans_of_other_instrumentations_are_charged(
    instrumented: Any, client: Any, fake_openai: Any, tracer_provider: TracerProvider
) -> None:
    tracer_provider.add_span_processor(BudgetSpanProcessor())
    other = tracer_provider.get_tracer("com.example.sdk")
    with wt.budget(usd=0.05) as b:
        with other.start_as_current_span(
            "chat claude",
            attributes={
                g.GEN_AI_OPERATION_NAME: "chat",
                g.GEN_AI_PROVIDER_NAME: "openai",
                g.GEN_AI_REQUEST_MODEL: MODEL,
                g.GEN_AI_USAGE_INPUT_TOKENS: 40,
                g.GEN_AI_USAGE_OUTPUT_TOKENS: 10,
            },
        ):
            pass
        assert b.spent == pytest.approx(0.05) and b.exceeded and b.calls == 1
        with pytest.raises(wt.BudgetExceeded):
            chat(client)  # the next call through our instrumentor is refused
    assert not [r for r in fake_openai.requests if r.method == "POST"]


def test_our_own_spans_are_not_charged_twice(instrumented: Any, client: Any, tracer_provider: TracerProvider) -> None:
    tracer_provider.add_span_processor(BudgetSpanProcessor())
    with wt.budget(usd=1.0) as b:
        chat(client)
    assert b.calls == 1 and b.spent == pytest.approx(COST_PER_CALL)


def test_charges_of_other_instrumentations_are_queued_and_applied_before_they_matter(
    instrumented: Any, client: Any, tracer_provider: TracerProvider, fake_openai: Any
) -> None:
    tracer_provider.add_span_processor(BudgetSpanProcessor())
    other = tracer_provider.get_tracer("com.example.sdk")
    usage = {
        g.GEN_AI_OPERATION_NAME: "chat",
        g.GEN_AI_PROVIDER_NAME: "openai",
        g.GEN_AI_REQUEST_MODEL: MODEL,
        g.GEN_AI_USAGE_INPUT_TOKENS: 1,
        g.GEN_AI_USAGE_OUTPUT_TOKENS: 0,
    }
    with wt.budget(usd=1.4) as b:
        for _ in range(1500):  # more than the queue holds: part is applied inline, the rest later
            other.start_span("chat", attributes=usage).end()
        assert b.calls == 1500 and b.spent == 1.5 and b.exceeded  # exact: no float drift over 1,500 charges
        with pytest.raises(wt.BudgetExceeded):
            chat(client)
    assert not [r for r in fake_openai.requests if r.method == "POST"]
