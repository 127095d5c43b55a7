"""install(): a fresh interpreter, one line, and the spans land in the local store with cost,
session and user; or go where the standard OTLP variables say."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from support import app_source, clean_env, exported_spans, otlp_collector, python

from wikitrace_otel import install
from wikitrace_otel.store import read_spans
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer

SETUP = 'import wikitrace_otel\nwikitrace_otel.install("billing-api", store="{store}", service_version="1.2.3")'
SESSION = 'wikitrace_otel.session(id="s-1", user="alice", tags=["beta"])'


def by_name(spans: list) -> dict:
    return {span.name: span for span in spans}


def test_install_stores_spans_with_cost_session_and_user(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    store = tmp_path / "store"
    python(app_source(fake_openai, SETUP.format(store=store), SESSION), tmp_path, clean_env(fake_openai))

    spans = by_name(list(read_spans(store)))

    chat = spans["chat gpt-4o"]
    assert chat.resource["service.name"] == "billing-api"
    assert chat.resource["service.version"] == "1.2.3"
    assert chat.attributes["session.id"] == "s-1"
    assert chat.attributes["user.id"] == "alice"
    assert chat.attributes["wikitrace.tags"] == ["beta"]
    assert chat.attributes["gen_ai.usage.input_tokens"] == 11
    assert chat.attributes["gen_ai.usage.cost.currency"] == "USD"
    assert chat.attributes["gen_ai.usage.cost.source"] == "local"
    assert chat.attributes["gen_ai.usage.cost.amount"] > 0
    assert chat.attributes["gen_ai.usage.cost"] == chat.attributes["gen_ai.usage.cost.amount"]
    assert spans["embeddings text-embedding-3-small"].attributes["gen_ai.usage.cost.amount"] > 0


def test_otlp_variables_win_over_the_local_store(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    store = tmp_path / "store"
    with otlp_collector() as collector:
        endpoint = f"http://127.0.0.1:{collector.server_address[1]}"
        env = clean_env(fake_openai, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_METRICS_EXPORTER="none")
        python(app_source(fake_openai, SETUP.format(store=store), SESSION), tmp_path, env)
        spans = {span.name: span for span in exported_spans(collector)}

    assert set(spans) == {"chat gpt-4o", "embeddings text-embedding-3-small"}
    attributes = {a.key: a.value for a in spans["chat gpt-4o"].attributes}
    assert attributes["user.id"].string_value == "alice"
    assert attributes["gen_ai.usage.cost.amount"].double_value > 0
    assert not store.exists() or not list(read_spans(store))


def test_a_second_install_warns_and_returns_the_same_handle(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    source = f"""
import warnings, wikitrace_otel
first = wikitrace_otel.install(store="{tmp_path / "s"}")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    second = wikitrace_otel.install(exporter="console")
assert first is second, "a new installation"
assert any("already" in str(w.message) for w in caught), caught
first.shutdown()
first.shutdown()
print("ok")
"""
    assert python(source, tmp_path, clean_env(fake_openai)).stdout.strip() == "ok"


def test_an_application_provider_is_kept_and_enriched(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    setup = """
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
import atexit, wikitrace_otel
memory = InMemorySpanExporter()
mine = TracerProvider(resource=Resource.create({"service.name": "mine"}))
mine.add_span_processor(SimpleSpanProcessor(memory))
trace.set_tracer_provider(mine)
handle = wikitrace_otel.install("ignored")
assert handle.tracer_provider is mine
def report():
    for span in memory.get_finished_spans():
        print(span.name, span.resource.attributes["service.name"], span.attributes.get("user.id"))
atexit.register(report)
"""
    output = python(app_source(fake_openai, setup, SESSION), tmp_path, clean_env(fake_openai)).stdout

    assert "chat gpt-4o mine alice" in output.splitlines()
    assert not (tmp_path / ".wikitrace").exists()  # nothing asked for the store: the app's exporters decide


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"exporter": "zipkin"}, "not a known preset"),
        ({"exporter": 42}, "expected a preset name"),
        ({"exporter": "honeycomb"}, "HONEYCOMB_API_KEY"),
        ({"exporter": "langfuse"}, "LANGFUSE_PUBLIC_KEY"),
        ({"instrument": ["openai", "palm"]}, "unknown"),
        ({"capture_content": "LOUD"}, "capture_content"),
        ({"prices": {"gpt-x": {"input": "cheap"}}}, "gpt-x"),
    ],
)
def test_bad_arguments_raise_before_anything_is_set_up(kwargs: dict, message: str) -> None:
    from opentelemetry import trace

    before = trace.get_tracer_provider()
    with pytest.raises(ValueError, match=message):
        install(**kwargs)
    assert trace.get_tracer_provider() is before


def test_the_otlp_preset_sends_to_the_standard_endpoint(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    with otlp_collector() as collector:
        base = f"http://127.0.0.1:{collector.server_address[1]}"
        setup = 'import wikitrace_otel\nwikitrace_otel.install(exporter="phoenix")'
        env = clean_env(fake_openai, PHOENIX_COLLECTOR_ENDPOINT=base)
        python(app_source(fake_openai, setup), tmp_path, env)
        names = sorted(span.name for span in exported_spans(collector))

    assert names == ["chat gpt-4o", "embeddings text-embedding-3-small"]


def test_demo_runs_and_prints_the_trace(tmp_path: Path) -> None:
    from support import run

    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("OTEL_", "WIKITRACE_"))}
    output = run([sys.executable, "-m", "wikitrace_otel", "demo", "--store", str(tmp_path)], tmp_path, env).stdout

    assert "invoke_agent support-agent" in output
    assert "execute_tool find_store" in output
    assert "retrieval handbook" in output
    names = {span.name for span in read_spans(tmp_path)}
    assert {"invoke_agent support-agent", "chat gpt-4o-mini", "embeddings text-embedding-3-small"} <= names
    assert all("gen_ai.usage.cost.amount" in s.attributes for s in read_spans(tmp_path) if s.name.startswith("chat"))


def test_an_unusable_store_argument_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ValueError, match="cannot be used"):
        install(store=blocker)


def test_an_unusable_default_store_does_not_stop_the_application(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    setup = "import wikitrace_otel\nwikitrace_otel.install()"
    done = python(app_source(fake_openai, setup), tmp_path, clean_env(fake_openai, WIKITRACE_DIR=str(blocker)))

    assert "local store unavailable" in done.stderr


def test_a_backend_that_is_down_is_counted_not_raised(fake_openai: FakeOpenAIServer, tmp_path: Path) -> None:
    source = (
        app_source(
            fake_openai,
            'import wikitrace_otel\nhandle = wikitrace_otel.install(exporter="otlp")',
        )
        + "\nhandle.force_flush()\nprint(handle.exported_spans, handle.failed_spans)\n"
    )
    # Nothing listens on port 9 (discard) of 127.0.0.1: the OTLP exporter's requests fail.
    env = clean_env(
        fake_openai,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT="http://127.0.0.1:9/v1/traces",
        OTEL_EXPORTER_OTLP_TIMEOUT="1",
        OTEL_METRICS_EXPORTER="none",
    )
    done = python(source, tmp_path, env)

    assert done.stdout.split()[-2:] == ["0", "2"]
