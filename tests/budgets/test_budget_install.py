"""``install(budgets=...)`` and alert variables, in fresh interpreters: rules survive a restart
through the local store, and queued alerts are delivered at exit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from budget_support import MODEL, PRICES
from webhook import WebhookServer, webhook_server

from sdk_support import clean_env, instrument_command
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer

APP = """
import json, sys, openai, wikitrace_otel
wikitrace_otel.install("billing-api", store={store!r}, prices={prices!r},
                       budgets=[wikitrace_otel.BudgetRule(usd=0.03, per="user.id", window="1d", name="daily")])
client = openai.OpenAI(base_url={base_url!r}, api_key="sk-test", max_retries=0)
outcome = {{}}
for user in sys.argv[1:]:
    with wikitrace_otel.session(user=user):
        try:
            client.chat.completions.create(model={model!r}, messages=[{{"role": "user", "content": "hi"}}])
            outcome.setdefault(user, []).append("sent")
        except wikitrace_otel.BudgetExceeded:
            outcome.setdefault(user, []).append("refused")
print(json.dumps(outcome))
"""


@pytest.fixture
def hooks() -> Iterator[WebhookServer]:
    with webhook_server() as server:
        yield server


def run(source: str, cwd: Path, env: dict[str, str], *args: str) -> Any:
    script = cwd / "app.py"
    script.write_text(textwrap.dedent(source))
    done = subprocess.run(
        [sys.executable, str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None


def test_daily_spend_survives_a_restart(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    source = APP.format(store=str(tmp_path / "store"), prices=PRICES, base_url=fake_openai.base_url, model=MODEL)
    env = clean_env(fake_openai)
    first = run(source, tmp_path, env, "alice", "alice", "alice", "bob")
    assert first == {"alice": ["sent", "sent", "refused"], "bob": ["sent"]}
    # A new process: alice's $0.036 of today is read back from the store; bob has $0.018.
    second = run(source, tmp_path, env, "alice", "bob", "bob", "carol")
    assert second == {"alice": ["refused"], "bob": ["sent", "refused"], "carol": ["sent"]}
    posts = [r for r in fake_openai.requests if r.method == "POST"]
    assert len(posts) == 5


def test_alert_variables_are_picked_up_and_flushed_at_exit(
    fake_openai: FakeOpenAIServer, tmp_path: Path, hooks: WebhookServer
) -> None:
    source = APP.format(store=str(tmp_path / "store"), prices=PRICES, base_url=fake_openai.base_url, model=MODEL)
    env = clean_env(fake_openai, WIKITRACE_ALERT_WEBHOOK=hooks.url("/hook"), WIKITRACE_ALERT_SECRET="k")
    run(source, tmp_path, env, "dora", "dora")  # exits right after crossing: the alert goes out at exit
    received = hooks.wait_for(1)
    kinds = sorted(r.json["kind"] for r in received)
    assert kinds == ["budget.exceeded"]
    assert received[0].json["service"] == "billing-api" and received[0].json["user"] == "dora"
    from wikitrace_otel import alerts

    assert alerts.verify(received[0].body, received[0].headers, "k")


def test_a_bad_rule_fails_install_before_anything_is_set_up() -> None:
    import wikitrace_otel

    with pytest.raises(ValueError, match="BudgetRule"):
        wikitrace_otel.install(budgets=[{"usd": 5}])  # type: ignore[list-item]


def test_zero_code_picks_up_the_alert_variables(
    fake_openai: FakeOpenAIServer, tmp_path: Path, hooks: WebhookServer
) -> None:
    app = f"""
import openai, wikitrace_otel
client = openai.OpenAI(base_url={fake_openai.base_url!r}, api_key="sk-test", max_retries=0)
with wikitrace_otel.budget(tokens=10, name="zero-code cap", on_exceed="silent"):
    client.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": "hi"}}])
"""
    (tmp_path / "app.py").write_text(textwrap.dedent(app))
    env = clean_env(fake_openai, WIKITRACE_ALERT_WEBHOOK=hooks.url("/hook"), WIKITRACE_DIR=str(tmp_path / "s"))
    done = subprocess.run(
        [*instrument_command(), "app.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    (received,) = hooks.wait_for(1)
    assert received.json["kind"] == "budget.exceeded" and "zero-code cap" in received.json["title"]
