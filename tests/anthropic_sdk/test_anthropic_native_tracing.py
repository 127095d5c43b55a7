"""SDKs that trace themselves: exactly one span per traced call, ours, on every SDK release.

The SDK's own spans are observed through its ``open_telemetry={"tracer_provider": ...}`` client
option (the same path as the global provider, without setting the process-wide one); the
global-provider path is exercised under ``install()`` in a subprocess.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anthropic_support import MODEL, SCOPE, SDK_SCOPE, USER

from wikitrace_otel.instrumentors.anthropic.native import sdk_traces_itself
from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, FakeResponse, payloads, stream

KWARGS: dict[str, Any] = {"model": MODEL, "max_tokens": 16, "messages": USER}


def _sdk_has_tracing_option() -> bool:
    import anthropic

    return "open_telemetry" in inspect.signature(anthropic.Anthropic.__init__).parameters


_SELF_TRACING = pytest.mark.skipif(not _sdk_has_tracing_option(), reason="this SDK release does not trace itself")


def test_self_tracing_is_detected_where_the_sdk_has_it() -> None:
    import anthropic

    # Fails loudly when an SDK release changes how its tracing works: the switch would then
    # silently stop working and every call would get two spans.
    assert sdk_traces_itself() == _sdk_has_tracing_option()
    major_minor = tuple(int(p) for p in anthropic.__version__.split(".")[:2])
    assert sdk_traces_itself() == (major_minor >= (1, 17))


@pytest.fixture
def traced_client(fake_anthropic: FakeAnthropicServer, tracer_provider: Any) -> Iterator[Any]:
    """A client whose SDK tracing (where it has any) uses the test tracer provider."""
    import anthropic

    options: dict[str, Any] = {"api_key": "k", "base_url": fake_anthropic.base_url, "max_retries": 0}
    if _sdk_has_tracing_option():
        options["open_telemetry"] = {"tracer_provider": tracer_provider}
    with anthropic.Anthropic(**options) as client:
        yield client


def _scopes(exporter: Any) -> list[str]:
    return [s.instrumentation_scope.name for s in exporter.get_finished_spans()]


@_SELF_TRACING
def test_the_sdk_emits_its_own_span_when_not_instrumented(traced_client: Any, span_exporter: Any) -> None:
    traced_client.messages.create(**KWARGS)
    assert _scopes(span_exporter) == [SDK_SCOPE]


def _create(client: Any) -> None:
    client.messages.create(**KWARGS)


def _create_stream(client: Any) -> None:
    for _ in client.messages.create(stream=True, **KWARGS):
        pass


def _helper(client: Any) -> None:
    with client.messages.stream(**KWARGS) as helper:
        helper.get_final_text()


def _raw(client: Any) -> None:
    client.messages.with_raw_response.create(**KWARGS).parse()


def _count(client: Any) -> None:
    client.messages.count_tokens(model=MODEL, messages=USER)


def _beta(client: Any) -> None:
    client.beta.messages.create(**KWARGS)


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("call", [_create, _create_stream, _helper, _raw, _count, _beta])
def test_each_traced_call_is_one_span_ours(
    call: Any, traced_client: Any, fake_anthropic: FakeAnthropicServer, span_exporter: Any
) -> None:
    if call in (_create_stream, _helper):
        fake_anthropic.enqueue(stream(payloads.message_events(payloads.message(MODEL))))
    call(traced_client)
    assert _scopes(span_exporter) == [SCOPE]


@_SELF_TRACING
@pytest.mark.usefixtures("instrumented")
def test_calls_we_do_not_trace_keep_the_sdks_span(
    traced_client: Any, fake_anthropic: FakeAnthropicServer, span_exporter: Any
) -> None:
    fake_anthropic.enqueue(FakeResponse.json({"data": [], "has_more": False, "first_id": None, "last_id": None}))
    traced_client.models.list()
    assert _scopes(span_exporter) == [SDK_SCOPE]


@_SELF_TRACING
def test_sdk_spans_true_keeps_them_under_ours(
    instrument_anthropic: Any, traced_client: Any, span_exporter: Any
) -> None:
    instrument_anthropic(sdk_spans=True)
    traced_client.messages.create(**KWARGS)
    spans = {s.instrumentation_scope.name: s for s in span_exporter.get_finished_spans()}
    assert sorted(spans) == sorted([SCOPE, SDK_SCOPE])
    sdk_parent = spans[SDK_SCOPE].parent
    assert sdk_parent is not None and sdk_parent.span_id == spans[SCOPE].context.span_id


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("call", [_create, _helper])
def test_our_span_context_is_propagated_as_the_sdk_would_its_own(
    call: Any, traced_client: Any, fake_anthropic: FakeAnthropicServer, span_exporter: Any
) -> None:
    call(traced_client)
    (span,) = span_exporter.get_finished_spans()
    header = fake_anthropic.requests[-1].headers.get("traceparent")
    if not _sdk_has_tracing_option():
        assert header is None  # an SDK without tracing sends the request unchanged
        return
    assert header is not None
    assert header.split("-")[1:3] == [f"{span.context.trace_id:032x}", f"{span.context.span_id:016x}"]


@_SELF_TRACING
@pytest.mark.usefixtures("instrumented")
def test_the_sdks_propagation_option_is_respected(
    traced_client: Any, fake_anthropic: FakeAnthropicServer, span_exporter: Any
) -> None:
    options = {**traced_client.open_telemetry, "propagation": False}
    traced_client.with_options(open_telemetry=options).messages.create(**KWARGS)
    assert "traceparent" not in fake_anthropic.requests[-1].headers
    assert _scopes(span_exporter) == [SCOPE]


_INSTALL_SCRIPT = r"""
import json, sys
import wikitrace_otel.instrumentors.anthropic
assert "anthropic" not in sys.modules, "importing the instrumentor imported the SDK"
import anthropic
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
import wikitrace_otel
from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, FakeResponse, payloads

exporter = InMemorySpanExporter()
handle = wikitrace_otel.install("native-check", exporter=exporter)
usage = payloads.usage(25, 100, cache_read=1000, cache_write=100)
with FakeAnthropicServer() as server:
    server.enqueue(FakeResponse.json(payloads.message(sys.argv[1], usage_body=usage)))
    with anthropic.Anthropic(api_key="k", base_url=server.base_url, max_retries=0) as client:
        with wikitrace_otel.session(id="s-1", user="alice"):
            with trace.get_tracer("app").start_as_current_span("handler"):
                client.messages.create(model=sys.argv[1], max_tokens=16, messages=[{"role": "user", "content": "Hi"}])
handle.force_flush()
print(json.dumps({
    "instrumented": handle.instrumented,
    "spans": [
        {"name": s.name, "scope": s.instrumentation_scope.name, "parent": s.parent.span_id if s.parent else None,
         "id": s.context.span_id, "attributes": dict(s.attributes)}
        for s in exporter.get_finished_spans()
    ],
}, default=list))
"""


def test_under_install_one_span_with_cost_session_and_user(tmp_path: Path) -> None:
    pytest.importorskip("genai_prices")
    model = "claude-3-5-sonnet-20241022"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "WIKITRACE_", "ANTHROPIC_"))}
    done = subprocess.run(
        [sys.executable, "-c", _INSTALL_SCRIPT, model],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**env, "WIKITRACE_DIR": str(tmp_path / "store")},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert "anthropic" in report["instrumented"]
    spans = {s["scope"]: s for s in report["spans"]}
    assert sorted(spans) == ["app", SCOPE]  # no span of the SDK's own, whatever its release
    chat, handler = spans[SCOPE], spans["app"]
    assert chat["parent"] == handler["id"]
    found = chat["attributes"]
    assert found["session.id"] == "s-1"
    assert found["user.id"] == "alice"
    assert found["gen_ai.usage.input_tokens"] == 1125
    # 25 uncached at $3, 1000 cache reads at $0.30, 100 cache writes at $3.75, 100 out at $15 (per M)
    assert found["gen_ai.usage.cost.amount"] == pytest.approx((25 * 3 + 1000 * 0.3 + 100 * 3.75 + 100 * 15) / 1e6)


_ZERO_CODE_APP = """
import anthropic
with anthropic.Anthropic(api_key="k", base_url="{base_url}", max_retries=0) as client:
    client.messages.create(model="claude-zero", max_tokens=16, messages=[{{"role": "user", "content": "Hi"}}])
"""


def test_zero_code_is_one_span_too(fake_anthropic: FakeAnthropicServer, tmp_path: Path) -> None:
    import shutil

    from wikitrace_otel.store import read_spans

    command = Path(sys.executable).with_name("opentelemetry-instrument")
    if not command.exists():
        command = Path(shutil.which("opentelemetry-instrument") or "opentelemetry-instrument")
    (tmp_path / "app.py").write_text(_ZERO_CODE_APP.format(base_url=fake_anthropic.base_url))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "WIKITRACE_", "ANTHROPIC_"))}
    env.update(WIKITRACE_DIR=str(tmp_path / "store"), OTEL_METRICS_EXPORTER="none", OTEL_LOGS_EXPORTER="none")
    done = subprocess.run(
        [str(command), sys.executable, "app.py"], capture_output=True, text=True, timeout=60, cwd=tmp_path, env=env
    )
    assert done.returncode == 0, done.stderr
    spans = list(read_spans(tmp_path / "store"))
    assert [(s.name, s.attributes.get("gen_ai.provider.name")) for s in spans] == [("chat claude-zero", "anthropic")]
