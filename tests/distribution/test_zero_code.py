"""opentelemetry-instrument with no code change: same spans, cost and store as install()."""

from __future__ import annotations

from pathlib import Path

from support import app_source, clean_env, exported_spans, otlp_collector, run

from sdk_support import instrument_command
from wikitrace_otel.store import read_spans
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer


def test_plain_program_is_traced_into_the_local_store(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(app_source(fake_openai))
    store = tmp_path / "traces"
    env = clean_env(fake_openai, WIKITRACE_DIR=str(store), OTEL_SERVICE_NAME="zero-code")

    run([*instrument_command(), "app.py"], tmp_path, env)

    spans = {span.name: span for span in read_spans(store)}
    assert set(spans) == {"chat gpt-4o", "embeddings text-embedding-3-small"}
    chat = spans["chat gpt-4o"]
    assert chat.resource["service.name"] == "zero-code"
    assert chat.attributes["gen_ai.provider.name"] == "openai"
    assert chat.attributes["gen_ai.usage.cost.amount"] > 0


def test_sessions_work_under_zero_code(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    source = app_source(fake_openai, "import wikitrace_otel", 'wikitrace_otel.session(user="bob")')
    (tmp_path / "app.py").write_text(source)
    env = clean_env(fake_openai, WIKITRACE_DIR=str(tmp_path / "traces"))

    run([*instrument_command(), "app.py"], tmp_path, env)

    assert {span.attributes.get("user.id") for span in read_spans(tmp_path / "traces")} == {"bob"}


def test_otlp_endpoint_sends_there_instead(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(app_source(fake_openai))
    with otlp_collector() as collector:
        env = clean_env(
            fake_openai,
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector.server_address[1]}",
            OTEL_METRICS_EXPORTER="none",
            OTEL_LOGS_EXPORTER="none",
        )
        done = run([*instrument_command(), "app.py"], tmp_path, env)
        names = sorted(span.name for span in exported_spans(collector))

    assert names == ["chat gpt-4o", "embeddings text-embedding-3-small"]
    assert not (tmp_path / ".wikitrace").exists()
    assert "Traceback" not in done.stderr
