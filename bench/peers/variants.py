"""Every measured variant: how it is set up inside its worker, and which cases it covers.

Each worker builds the same pipeline first: an SDK ``TracerProvider`` with a
``SimpleSpanProcessor`` into the counting, dropping exporter, and a ``MeterProvider`` with an
in-memory reader, both set as the global providers and also passed to every instrumentor that
accepts them. Peers that build their own pipeline get the same exporter: Logfire through
``additional_span_processors=[SimpleSpanProcessor(...)]``, Langfuse as the ``span_exporter``
behind its own batching processor (so its export runs on a background thread, as it ships).
No variant serializes or sends spans. The Anthropic SDK's own spans are switched off
(``ANTHROPIC_OPEN_TELEMETRY=false``) everywhere except in the variant that measures them, so no
other variant pays for them.

Peers run with their defaults otherwise: OpenLLMetry and OpenInference capture message content
by default, the official instrumentors and wikitrace-otel's default do not.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from peers import workload

if TYPE_CHECKING:  # the orchestrator imports this module without OpenTelemetry installed
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

PLAIN_SPAN = "plain_span"  # measured by the bare worker only, to size the machine's speed
LOOPBACK = "http://127.0.0.1:9"  # the discard port: anything that tries to send fails at once, locally


@dataclass
class Setup:
    """A variant, ready: its cases, the context each block runs in, how to flush its spans."""

    cases: dict[str, Callable[[], None]]
    around: Callable[[], Any] = contextlib.nullcontext
    flush: Callable[[], Any] = lambda: None
    collect: Callable[[], Any] = lambda: None


@dataclass(frozen=True)
class Variant:
    """A row of the report: who it is, what it needs installed, how a worker sets it up."""

    name: str
    kind: str  # "bare", "wikitrace" or "peer"
    description: str
    setup: Callable[[SpanExporter], Setup]
    packages: tuple[str, ...] = ()
    covers: tuple[str, ...] = field(default=workload.ALL_CASES)
    group: str = ""  # "": the shared venv; else its own, from requirements-<group>.txt


@dataclass
class Pipeline:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    reader: InMemoryMetricReader


def pipeline(exporter: SpanExporter, sdk_spans: bool = False) -> Pipeline:
    """The same providers in every worker, set as the global ones."""
    from opentelemetry import metrics, trace
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    if not sdk_spans:
        os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(meter_provider)
    return Pipeline(tracer_provider, meter_provider, reader)


def _both(pipe: Pipeline, **more: Any) -> Setup:
    import openai

    cases = {**workload.openai_cases(openai.OpenAI), **workload.anthropic_cases()}
    return Setup(cases, flush=pipe.tracer_provider.force_flush, collect=pipe.reader.get_metrics_data, **more)


def _openai_only(pipe: Pipeline, client_class: Any = None) -> Setup:
    import openai

    cases = workload.openai_cases(client_class or openai.OpenAI)
    return Setup(cases, flush=pipe.tracer_provider.force_flush, collect=pipe.reader.get_metrics_data)


def bare(exporter: SpanExporter) -> Setup:
    """The SDKs alone, plus the yardstick case: one plain SDK span with 15 attributes."""
    pipe = pipeline(exporter)
    setup = _both(pipe)
    tracer = pipe.tracer_provider.get_tracer("bench.yardstick")
    attributes = {f"attribute.{i}": i for i in range(15)}
    setup.cases[PLAIN_SPAN] = lambda: tracer.start_span("plain", attributes=attributes).end()
    return setup


def wikitrace(exporter: SpanExporter) -> Setup:
    from wikitrace_otel.instrumentors.anthropic import AnthropicInstrumentor
    from wikitrace_otel.instrumentors.openai import OpenAIInstrumentor

    pipe = pipeline(exporter)
    providers = {"tracer_provider": pipe.tracer_provider, "meter_provider": pipe.meter_provider}
    OpenAIInstrumentor().instrument(**providers)
    AnthropicInstrumentor().instrument(**providers)
    return _both(pipe)


def wikitrace_install(exporter: SpanExporter) -> Setup:
    """``install()`` with its defaults on the application's providers: the instrumentors plus the
    session, cost, budget and alert processors and the exporter's cost enrichment; no content, no
    session or budget open."""
    import wikitrace_otel

    pipe = pipeline(exporter)
    wikitrace_otel.install("bench", instrument=["openai", "anthropic"])
    return _both(pipe)


def wikitrace_everything(exporter: SpanExporter) -> Setup:
    """``install()`` on the application's providers (adds the session, cost and budget processors
    and instruments both SDKs), content on spans, and every block inside a session with a user
    and an open budget."""
    import wikitrace_otel

    pipe = pipeline(exporter)
    wikitrace_otel.install("bench", capture_content="SPAN_ONLY", instrument=["openai", "anthropic"])

    @contextlib.contextmanager
    def around() -> Any:
        with (
            wikitrace_otel.session(id="s-bench", user="bench@example.com", tags=["bench"]),
            wikitrace_otel.budget(usd=1_000_000.0, name="bench"),
        ):
            yield

    return _both(pipe, around=around)


def otel_genai(exporter: SpanExporter) -> Setup:
    from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor
    from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

    pipe = pipeline(exporter)
    providers = {"tracer_provider": pipe.tracer_provider, "meter_provider": pipe.meter_provider}
    OpenAIInstrumentor().instrument(**providers)
    AnthropicInstrumentor().instrument(**providers)
    return _both(pipe)


def otel_openai_v2(exporter: SpanExporter) -> Setup:
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    pipe = pipeline(exporter)
    OpenAIInstrumentor().instrument(tracer_provider=pipe.tracer_provider, meter_provider=pipe.meter_provider)
    return _openai_only(pipe)


def openllmetry(exporter: SpanExporter) -> Setup:
    from opentelemetry.instrumentation.anthropic import AnthropicInstrumentor
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    pipe = pipeline(exporter)
    providers = {"tracer_provider": pipe.tracer_provider, "meter_provider": pipe.meter_provider}
    OpenAIInstrumentor().instrument(**providers)
    AnthropicInstrumentor().instrument(**providers)
    return _both(pipe)


def openinference(exporter: SpanExporter) -> Setup:
    from openinference.instrumentation.anthropic import AnthropicInstrumentor
    from openinference.instrumentation.openai import OpenAIInstrumentor

    pipe = pipeline(exporter)
    OpenAIInstrumentor().instrument(tracer_provider=pipe.tracer_provider)
    AnthropicInstrumentor().instrument(tracer_provider=pipe.tracer_provider)
    return _both(pipe)


def logfire_variant(exporter: SpanExporter) -> Setup:
    """Logfire builds its own providers; the dropping exporter is added to them."""
    import logfire
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    logfire.configure(
        send_to_logfire=False,
        console=False,
        service_name="bench",
        additional_span_processors=[SimpleSpanProcessor(exporter)],
    )
    logfire.instrument_openai()
    logfire.instrument_anthropic()
    import openai

    cases = {**workload.openai_cases(openai.OpenAI), **workload.anthropic_cases()}
    return Setup(cases, flush=logfire.force_flush)


def langfuse_variant(exporter: SpanExporter) -> Setup:
    """Langfuse's OpenAI drop-in. Langfuse builds its own provider with its own batching span
    processor; the dropping exporter replaces its OTLP exporter, and its API base URL is a
    closed local port, so nothing leaves the machine."""
    os.environ["ANTHROPIC_OPEN_TELEMETRY"] = "false"
    from langfuse import Langfuse

    client = Langfuse(
        public_key="pk-lf-bench",
        secret_key="sk-lf-bench",
        base_url=LOOPBACK,
        span_exporter=exporter,
    )
    from langfuse.openai import OpenAI

    return Setup(workload.openai_cases(OpenAI), flush=client.flush)


def anthropic_native(exporter: SpanExporter) -> Setup:
    """The Anthropic SDK's own spans (scope ``com.anthropic.sdk.python``) through the global provider."""
    pipe = pipeline(exporter, sdk_spans=True)
    cases = workload.anthropic_cases()
    return Setup(cases, flush=pipe.tracer_provider.force_flush, collect=pipe.reader.get_metrics_data)


OPENAI = workload.OPENAI_CASES
ANTHROPIC = workload.ANTHROPIC_CASES
_LIST = [
    Variant("bare", "bare", "the SDKs alone, same providers", bare),
    Variant("wikitrace", "wikitrace", "wikitrace-otel instrumentors, defaults", wikitrace),
    Variant(
        "wikitrace-install", "wikitrace", "install() with its defaults (processors, no content)", wikitrace_install
    ),
    Variant(
        "wikitrace-all",
        "wikitrace",
        "install(): content on spans, cost, session + user, open budget",
        wikitrace_everything,
    ),
    Variant(
        "otel-genai",
        "peer",
        "opentelemetry-instrumentation-genai-openai / -anthropic",
        otel_genai,
        (
            "opentelemetry-instrumentation-genai-openai",
            "opentelemetry-instrumentation-genai-anthropic",
            "opentelemetry-util-genai",
        ),
    ),
    Variant(
        "otel-openai-v2",
        "peer",
        "opentelemetry-instrumentation-openai-v2",
        otel_openai_v2,
        ("opentelemetry-instrumentation-openai-v2", "opentelemetry-util-genai"),
        OPENAI,
        group="openai-v2",
    ),
    Variant(
        "openllmetry",
        "peer",
        "OpenLLMetry: opentelemetry-instrumentation-openai / -anthropic",
        openllmetry,
        ("opentelemetry-instrumentation-openai", "opentelemetry-instrumentation-anthropic"),
    ),
    Variant(
        "openinference",
        "peer",
        "openinference-instrumentation-openai / -anthropic",
        openinference,
        ("openinference-instrumentation-openai", "openinference-instrumentation-anthropic"),
    ),
    Variant(
        "logfire",
        "peer",
        "logfire.instrument_openai() / instrument_anthropic()",
        logfire_variant,
        ("logfire",),
    ),
    Variant(
        "langfuse",
        "peer",
        "langfuse.openai drop-in OpenAI client",
        langfuse_variant,
        ("langfuse",),
        OPENAI,
    ),
    Variant(
        "anthropic-native",
        "peer",
        "the Anthropic SDK's own tracing (global TracerProvider)",
        anthropic_native,
        covers=ANTHROPIC,
    ),
]
VARIANTS: dict[str, Variant] = {variant.name: variant for variant in _LIST}
