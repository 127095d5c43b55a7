"""The instrumentor's life cycle: wrapping, exact unwrapping, idempotence, discovery, and how
its spans sit in the context (current during the SDK's HTTP request, one per logical call)."""

from __future__ import annotations

import importlib
import logging
import subprocess
import sys
from importlib.metadata import entry_points
from typing import Any

import pytest
import wrapt
from opentelemetry import trace
from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

from otel_helpers import attributes, only_span
from wikitrace_otel.instrumentors.openai import _METHODS, OpenAIInstrumentor

MESSAGES = [{"role": "user", "content": "Hi"}]


def sdk_methods() -> dict[tuple[type, str], Any]:
    """``(class, method) -> cls.__dict__[method]`` for every method the instrumentor wraps."""
    found = {}
    for module_name, sync_name, async_name, method, _ in _METHODS:
        module = importlib.import_module(module_name)
        for class_name in (sync_name, async_name):
            cls = getattr(module, class_name)
            found[(cls, method)] = cls.__dict__[method]
    return found


@pytest.fixture
def originals() -> Any:
    """The SDK's own methods, captured before the test instruments anything."""
    found = sdk_methods()
    leaked = [f"{cls.__name__}.{name}" for (cls, name), value in found.items() if isinstance(value, wrapt.ObjectProxy)]
    assert not leaked, f"an earlier test left these wrapped: {leaked}"
    yield found
    # Whatever a failing test left wrapped is put back, so the tests after it start clean.
    for (cls, name), original in found.items():
        if cls.__dict__[name] is not original:
            setattr(cls, name, original)


def http_module() -> Any:
    """The HTTP library under the SDK: ``httpx`` for openai 1.x, ``httpx2`` after."""
    import openai

    return importlib.import_module("httpx" if openai.__version__.startswith("1.") else "httpx2")


def unwrapped(found: dict[tuple[type, str], Any]) -> list[str]:
    return [f"{cls.__name__}.{name}" for (cls, name), original in found.items() if cls.__dict__[name] is not original]


# --- wrapping and unwrapping ----------------------------------------------------------


def test_every_listed_method_exists_in_this_sdk(originals) -> None:
    assert len(originals) == 2 * len(_METHODS)


def test_instrument_wraps_and_uninstrument_restores_exactly(originals, instrument, client, span_exporter) -> None:
    instrumentor = instrument()

    assert sorted(unwrapped(originals)) == sorted(f"{cls.__name__}.{name}" for cls, name in originals)
    for cls, name in originals:
        assert isinstance(cls.__dict__[name], wrapt.FunctionWrapper), (cls, name)

    instrumentor.uninstrument()

    assert unwrapped(originals) == []
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    client.responses.create(model="gpt-4o", input="Hi")
    client.embeddings.create(model="text-embedding-3-small", input="x")
    assert span_exporter.get_finished_spans() == ()


def test_instrument_uninstrument_instrument(originals, instrument, client, span_exporter) -> None:
    instrument().uninstrument()
    instrument()

    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert only_span(span_exporter).name == "chat gpt-4o"
    assert all(isinstance(cls.__dict__[name], wrapt.FunctionWrapper) for cls, name in originals)


def test_instrument_twice_warns_and_does_not_double_wrap(
    originals, instrument, tracer_provider, meter_provider, client, span_exporter, caplog
) -> None:
    instrumentor = instrument()
    wrapped = sdk_methods()

    with caplog.at_level(logging.WARNING, logger="opentelemetry.instrumentation.instrumentor"):
        instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)

    assert "Attempting to instrument while already instrumented" in caplog.messages
    assert sdk_methods() == wrapped
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert len(span_exporter.get_finished_spans()) == 1
    instrumentor.uninstrument()
    assert unwrapped(originals) == []


def test_uninstrument_through_a_new_handle(originals, instrument) -> None:
    # The documented usage: OpenAIInstrumentor().instrument() ... OpenAIInstrumentor().uninstrument().
    instrument()

    OpenAIInstrumentor().uninstrument()

    assert unwrapped(originals) == []


# --- discovery ------------------------------------------------------------------------


def test_entry_point_resolves_to_the_instrumentor() -> None:
    (entry_point,) = entry_points(group="opentelemetry_instrumentor", name="openai")

    assert entry_point.value == "wikitrace_otel.instrumentors.openai:OpenAIInstrumentor"
    assert entry_point.load() is OpenAIInstrumentor
    assert entry_point.dist is not None
    assert entry_point.dist.name.replace("_", "-") == "wikitrace-otel"


def test_instrumentation_dependencies() -> None:
    dependencies = OpenAIInstrumentor().instrumentation_dependencies()

    assert tuple(dependencies) == ("openai >= 1.99.0, < 4",)
    # The installed SDK satisfies them, so instrument() does not refuse to run.
    assert get_dependency_conflicts(dependencies) is None


def test_importing_the_package_does_not_import_the_sdk() -> None:
    code = (
        "import sys\n"
        "import wikitrace_otel, wikitrace_otel.instrumentors, wikitrace_otel.instrumentors.openai\n"
        "print(sorted(m for m in sys.modules if m == 'openai' or m.startswith('openai.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- context --------------------------------------------------------------------------


def test_nested_traced_call_gives_one_span(instrumented, client, fake_openai, span_exporter) -> None:
    import openai

    httpx = http_module()
    inner: list[Any] = []

    class NestingTransport(httpx.HTTPTransport):
        def handle_request(self, request: Any) -> Any:
            # Another traced SDK method, called while the outer traced call is in flight.
            inner.append(client.embeddings.create(model="text-embedding-3-small", input="x"))
            return super().handle_request(request)

    with (
        httpx.Client(transport=NestingTransport()) as http,
        openai.OpenAI(api_key="k", base_url=fake_openai.base_url, max_retries=0, http_client=http) as outer,
    ):
        outer.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert [r.model for r in inner] == ["text-embedding-3-small-2026-01-01"]
    assert [r.path for r in fake_openai.requests] == ["/v1/embeddings", "/v1/chat/completions"]
    assert only_span(span_exporter).name == "chat gpt-4o"


def test_span_is_current_during_the_http_request(instrumented, fake_openai, span_exporter) -> None:
    import openai

    httpx = http_module()
    seen: list[trace.SpanContext] = []

    class RecordingTransport(httpx.HTTPTransport):
        def handle_request(self, request: Any) -> Any:
            seen.append(trace.get_current_span().get_span_context())
            return super().handle_request(request)

    with (
        httpx.Client(transport=RecordingTransport()) as http,
        openai.OpenAI(api_key="k", base_url=fake_openai.base_url, max_retries=0, http_client=http) as sdk,
    ):
        sdk.responses.create(model="gpt-4o", input="Hi")

    assert seen == [only_span(span_exporter).context]
    assert not trace.get_current_span().get_span_context().is_valid  # detached afterwards


async def test_span_is_current_during_the_async_http_request(instrumented, fake_openai, span_exporter) -> None:
    import openai

    httpx = http_module()
    seen: list[trace.SpanContext] = []

    class RecordingTransport(httpx.AsyncHTTPTransport):
        async def handle_async_request(self, request: Any) -> Any:
            seen.append(trace.get_current_span().get_span_context())
            return await super().handle_async_request(request)

    async with httpx.AsyncClient(transport=RecordingTransport()) as http:
        sdk = openai.AsyncOpenAI(api_key="k", base_url=fake_openai.base_url, max_retries=0, http_client=http)
        await sdk.chat.completions.create(model="gpt-4o", messages=MESSAGES)
        await sdk.close()

    assert seen == [only_span(span_exporter).context]
    assert not trace.get_current_span().get_span_context().is_valid


def test_span_is_a_child_of_the_current_span(instrumented, client, tracer_provider, span_exporter) -> None:
    with tracer_provider.get_tracer("app").start_as_current_span("handle request") as outer:
        client.embeddings.create(model="text-embedding-3-small", input="x")

    genai, app = span_exporter.get_finished_spans()
    assert app.name == "handle request"
    assert genai.parent is not None
    assert genai.parent.span_id == outer.get_span_context().span_id
    assert genai.context.trace_id == outer.get_span_context().trace_id


# --- telemetry never breaks the call --------------------------------------------------


def test_internal_error_does_not_break_the_call(instrumented, client, span_exporter, monkeypatch, caplog) -> None:
    from wikitrace_otel._genai import errors
    from wikitrace_otel.instrumentors.openai import extractors

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("extractor bug")

    monkeypatch.delenv("WIKITRACE_RAISE_INTERNAL_ERRORS")
    monkeypatch.setattr(extractors, "identity_attributes", broken)
    monkeypatch.setattr(errors, "_seen", set())  # the first failure at a place is the one logged in full

    with caplog.at_level(logging.WARNING, logger="wikitrace_otel"):
        result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert result.choices[0].message.content == "Hello from choice 0"
    span = only_span(span_exporter)
    assert span.name == "chat gpt-4o"
    assert attributes(span)["gen_ai.operation.name"] == "chat"
    assert any(record.exc_info and "extractor bug" in str(record.exc_info[1]) for record in caplog.records)
