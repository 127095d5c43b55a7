"""Shared fixtures: one chain from in-memory exporters to an instrumented OpenAI SDK.

- ``fake_openai``: a fake OpenAI HTTP server on 127.0.0.1 (``wikitrace_otel.testing.fake_openai``), started
  once per session and reset before each test.
- ``spans`` / ``metric_reader`` / ``logs``: in-memory exporters behind real SDK providers.
- ``instrument``: a function that instruments the OpenAI SDK with those providers (and any
  settings), mapping the fake server's address to the ``openai`` provider; everything is
  uninstrumented after the test.
- ``client`` / ``async_client``: SDK clients pointed at the fake server.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from sdk_support import instrumenting
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer, running_server

try:  # renamed across SDK releases
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter as _InMemoryLogs
except ImportError:  # pragma: no cover - older SDKs
    from opentelemetry.sdk._logs.export import InMemoryLogExporter as _InMemoryLogs  # type: ignore[attr-defined,no-redef]

from wikitrace_otel.instrumentors.openai import OpenAIInstrumentor


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No OTEL_* / WIKITRACE_* variable leaks in; internal errors raise so bugs surface."""
    for name in list(os.environ):
        if name.startswith(("OTEL_", "WIKITRACE_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("WIKITRACE_RAISE_INTERNAL_ERRORS", "true")


@pytest.fixture(scope="session")
def fake_openai_session() -> Iterator[FakeOpenAIServer]:
    """One running fake server for the whole session."""
    yield from running_server()


@pytest.fixture
def fake_openai(fake_openai_session: FakeOpenAIServer) -> FakeOpenAIServer:
    """The session's fake server with no recorded requests or queued answers."""
    fake_openai_session.reset()
    return fake_openai_session


@pytest.fixture
def span_exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer_provider(span_exporter: InMemorySpanExporter) -> TracerProvider:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    return provider


@pytest.fixture
def metric_reader() -> InMemoryMetricReader:
    return InMemoryMetricReader()


@pytest.fixture
def meter_provider(metric_reader: InMemoryMetricReader) -> MeterProvider:
    return MeterProvider(metric_readers=[metric_reader])


@pytest.fixture
def log_exporter() -> Any:
    return _InMemoryLogs()


@pytest.fixture
def logger_provider(log_exporter: Any) -> LoggerProvider:
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(log_exporter))
    return provider


def fake_host(server: FakeOpenAIServer) -> str:
    """``127.0.0.1:PORT`` of the fake server."""
    return server.base_url.split("//", 1)[1].split("/", 1)[0]


@pytest.fixture
def instrument(
    fake_openai: FakeOpenAIServer,
    tracer_provider: TracerProvider,
    meter_provider: MeterProvider,
    logger_provider: LoggerProvider,
) -> Iterator[Callable[..., OpenAIInstrumentor]]:
    """Instrument the SDK with the test providers; keyword arguments go to ``instrument()``."""
    hosts = {fake_host(fake_openai): "openai"}
    yield from instrumenting(OpenAIInstrumentor, tracer_provider, meter_provider, logger_provider, provider_hosts=hosts)


@pytest.fixture
def instrumented(instrument: Callable[..., OpenAIInstrumentor]) -> OpenAIInstrumentor:
    """The SDK instrumented with default settings."""
    return instrument()


@pytest.fixture
def client(fake_openai: FakeOpenAIServer) -> Iterator[Any]:
    import openai

    with openai.OpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=0) as sdk_client:
        yield sdk_client


@pytest.fixture
async def async_client(fake_openai: FakeOpenAIServer) -> Any:
    import openai

    sdk_client = openai.AsyncOpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=0)
    yield sdk_client
    await sdk_client.close()
