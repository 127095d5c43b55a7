"""Alerts: what fires, what each alert says, Slack and JSON formats, signatures, delivery."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import wrapt
from budget_support import MODEL, chat
from opentelemetry.instrumentation.utils import is_http_instrumentation_enabled, is_instrumentation_enabled
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import StatusCode
from webhook import WebhookServer, webhook_server

import wikitrace_otel as wt
from wikitrace_otel import alerts
from wikitrace_otel.semconv import gen_ai as g


@pytest.fixture
def hooks() -> Iterator[WebhookServer]:
    with webhook_server() as server:
        yield server


def test_a_crossed_budget_alerts_slack_and_the_webhook_once(
    instrumented: Any, client: Any, hooks: WebhookServer, span_exporter: Any
) -> None:
    alerts.enable(slack_webhook=hooks.url("/slack"), webhook=hooks.url("/hook"))
    with wt.session(id="s-9", user="alice"), wt.budget(usd=0.03, name="nightly", warn_at=None):
        chat(client)
        chat(client)  # crosses
        with pytest.raises(wt.BudgetExceeded):
            chat(client)
    assert alerts.flush(5)
    received = hooks.wait_for(2)
    assert len(received) == 2 and alerts.stats()["sent"] == 2
    slack = next(r for r in received if r.path == "/slack").json
    assert "nightly" in slack["text"] and "user=alice" in slack["text"]
    assert slack["blocks"][0]["text"]["type"] == "mrkdwn"
    body = next(r for r in received if r.path == "/hook").json
    crossing = span_exporter.get_finished_spans()[1]
    assert body["kind"] == "budget.exceeded" and body["severity"] == "critical"
    assert body["user"] == "alice" and body["session"] == "s-9" and body["model"].startswith(MODEL)
    assert body["details"]["spent_usd"] == pytest.approx(0.036) and body["details"]["limit_usd"] == 0.03
    assert body["trace_id"] == f"{crossing.context.trace_id:032x}"
    assert body["source"] == "wikitrace-otel"


def test_the_warning_line_fires_before_the_limit(instrumented: Any, client: Any, hooks: WebhookServer) -> None:
    alerts.enable(webhook=hooks.url("/hook"))
    with wt.budget(usd=0.04, warn_at=0.5, on_exceed="silent"):
        chat(client)  # 45 %
        chat(client)  # 90 %: warning
        chat(client)  # 135 %: exceeded
        chat(client)  # nothing new
    alerts.flush(5)
    kinds = [r.json["kind"] for r in hooks.wait_for(2)]
    assert kinds == ["budget.warning", "budget.exceeded"]


def test_rule_crossings_alert_once_per_key(instrumented: Any, client: Any, hooks: WebhookServer) -> None:
    from wikitrace_otel.budgets._gatekeeper import ensure_gate

    ensure_gate().set_rules([wt.BudgetRule(usd=0.01, per="user.id", on_exceed="warn")], {"service.name": "svc"})
    alerts.enable(webhook=hooks.url("/hook"))
    for user in ("u1", "u1", "u2"):
        with wt.session(user=user):
            chat(client)
    alerts.flush(5)
    bodies = [r.json for r in hooks.wait_for(2)]
    assert sorted(b["user"] for b in bodies) == ["u1", "u2"]
    assert {b["service"] for b in bodies} == {"svc"}
    assert alerts.stats()["sent"] == 2


def test_signed_requests_verify_with_the_secret(hooks: WebhookServer) -> None:
    alerts.enable(webhook=hooks.url("/hook"), secret="s3cret")
    assert alerts.test_alert("checking the pipes")
    alerts.flush(5)
    (received,) = hooks.wait_for(1)
    assert received.json["title"] == "checking the pipes"
    assert alerts.verify(received.body, received.headers, "s3cret")
    assert not alerts.verify(received.body, received.headers, "wrong")
    assert not alerts.verify(received.body + b" ", received.headers, "s3cret")


def test_delivery_retries_server_errors_then_succeeds(hooks: WebhookServer) -> None:
    hooks.statuses.extend([503, 500])
    alerts.enable(webhook=hooks.url("/hook"), backoff=0.01)
    alerts.test_alert()
    assert alerts.flush(5)
    assert len(hooks.wait_for(1)) == 1
    assert alerts.stats() == {"sent": 1, "failed": 0, "dropped": 0, "duplicates": 0, "queued": 0}


def test_client_errors_are_not_retried_and_unreachable_hosts_fail(hooks: WebhookServer) -> None:
    hooks.statuses.append(404)
    alerts.enable(webhook=hooks.url("/hook"), backoff=0.01, retries=2)
    alerts.test_alert()
    alerts.flush(5)
    assert alerts.stats()["failed"] == 1 and not hooks.received
    alerts.enable(webhook="http://127.0.0.1:9/nothing-listens", backoff=0.01, retries=1, timeout=1)
    alerts.test_alert()
    alerts.flush(10)
    assert alerts.stats()["failed"] == 1


def test_a_full_queue_drops_and_counts_and_duplicates_are_suppressed(hooks: WebhookServer) -> None:
    hooks.delay = 0.3
    alerts.enable(webhook=hooks.url("/hook"), queue_size=1)
    results = [alerts.publish(alerts.Alert(kind="test", title=f"#{i}", key=f"k{i}")) for i in range(5)]
    assert results.count(True) in (1, 2)  # one queued, maybe one already taken by the thread
    assert alerts.publish(alerts.Alert(kind="test", title="again", key="k0")) is False
    alerts.flush(5)
    stats = alerts.stats()
    assert stats["dropped"] == 5 - results.count(True) and stats["duplicates"] == 1
    assert stats["sent"] == results.count(True) and stats["queued"] == 0


def test_delivery_is_not_traced(hooks: WebhookServer) -> None:
    seen: list[tuple[bool, bool]] = []

    # What an HTTP client instrumentation does first: ask whether instrumentation is on.
    def observe(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        seen.append((is_instrumentation_enabled(), is_http_instrumentation_enabled()))
        return wrapped(*args, **kwargs)

    import urllib.request

    original = urllib.request.urlopen
    wrapt.wrap_function_wrapper(urllib.request, "urlopen", observe)
    try:
        alerts.enable(webhook=hooks.url("/hook"))
        alerts.test_alert()
        alerts.flush(5)
    finally:
        urllib.request.urlopen = original
    assert seen == [(False, False)]


def test_error_rate_over_a_window(tracer_provider: TracerProvider, hooks: WebhookServer) -> None:
    tracer_provider.add_span_processor(alerts.span_processor())
    alerts.enable(webhook=hooks.url("/hook"), error_rate=0.5, min_calls=4, error_window="1m")
    tracer = tracer_provider.get_tracer("test")
    for failed in (False, True, False, True, True, True):
        with tracer.start_as_current_span("chat m", attributes={g.GEN_AI_OPERATION_NAME: "chat"}) as span:
            if failed:
                span.set_status(StatusCode.ERROR)
                span.set_attribute(g.ERROR_TYPE, "RateLimitError")
    alerts.flush(5)
    (received,) = hooks.wait_for(1)
    body = received.json
    assert body["kind"] == "error_rate" and body["details"]["calls"] == 4 and body["details"]["errors"] == 2
    assert body["details"]["last_error"] == "RateLimitError"
    assert len(hooks.received) == 1  # one alert per window, not one per error


def test_slow_calls_alert_once_per_model(tracer_provider: TracerProvider, hooks: WebhookServer) -> None:
    tracer_provider.add_span_processor(alerts.span_processor())
    alerts.enable(webhook=hooks.url("/hook"), latency_threshold=0.5, error_rate=None)
    tracer = tracer_provider.get_tracer("test")
    for duration_s in (0.1, 2.0, 3.0):
        span = tracer.start_span("chat m", attributes={g.GEN_AI_OPERATION_NAME: "chat", g.GEN_AI_REQUEST_MODEL: "m"})
        span.end(end_time=span.start_time + int(duration_s * 1e9))
    alerts.flush(5)
    (received,) = hooks.wait_for(1)
    assert received.json["kind"] == "latency" and received.json["details"]["duration_s"] == pytest.approx(2.0)
    assert alerts.stats()["duplicates"] == 1


def test_alerts_off_cost_nothing_and_report_zero() -> None:
    assert not alerts.enabled()
    assert alerts.test_alert() is False
    assert alerts.stats()["sent"] == 0
    assert alerts.flush(0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs a destination"),
        ({"webhook": "ftp://example/x"}, "http"),
        ({"webhook": "http://127.0.0.1/x", "error_rate": 2}, "error_rate"),
        ({"webhook": "http://127.0.0.1/x", "latency_threshold": 0}, "latency_threshold"),
    ],
)
def test_bad_configuration(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        alerts.enable(**kwargs)
