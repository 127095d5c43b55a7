"""``wikitrace_otel.install()``: one call from nothing to a complete GenAI telemetry pipeline."""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import sys
import threading
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SpanExporter

from wikitrace_otel import _destinations
from wikitrace_otel._decorators.settings import configure as configure_decorators
from wikitrace_otel._genai.config import ContentCapture, GenAISettings
from wikitrace_otel.budgets import BudgetRule
from wikitrace_otel.pricing import PriceTable

_logger = logging.getLogger("wikitrace_otel")
_lock = threading.Lock()
_installed: Installation | None = None

# Provider name in ``instrument=`` -> (module that must be importable, instrumentor path).
INSTRUMENTORS: dict[str, tuple[str, str]] = {
    "openai": ("openai", "wikitrace_otel.instrumentors.openai:OpenAIInstrumentor"),
    "anthropic": ("anthropic", "wikitrace_otel.instrumentors.anthropic:AnthropicInstrumentor"),
    "bedrock": ("botocore", "wikitrace_otel.instrumentors.bedrock:BedrockInstrumentor"),
    "google_genai": ("google.genai", "wikitrace_otel.instrumentors.google_genai:GoogleGenAIInstrumentor"),
    "mistral": ("mistralai", "wikitrace_otel.instrumentors.mistral:MistralInstrumentor"),
    "cohere": ("cohere", "wikitrace_otel.instrumentors.cohere:CohereInstrumentor"),
    "langchain": ("langchain_core", "wikitrace_otel.instrumentors.langchain:LangChainInstrumentor"),
    "litellm": ("litellm", "wikitrace_otel.instrumentors.litellm:LiteLLMInstrumentor"),
    "openai_agents": ("agents", "wikitrace_otel.integrations.openai_agents:OpenAIAgentsInstrumentor"),
}


class Installation:
    """What ``install()`` set up; returned by every later ``install()`` call too.

    Attributes:
        tracer_provider: the global SDK ``TracerProvider`` spans go through.
        meter_provider: the global ``MeterProvider`` (an SDK one when ``install()`` made it).
        destination: a short description of where spans go.
        instrumented: names of the provider SDKs that were instrumented.
        exporters: the span exporters, each counting ``exported_spans``, ``failed_spans`` and
            ``dropped_spans``.
        prices: the price table cost attributes and budgets use.
    """

    def __init__(
        self, tracer_provider: TracerProvider, meter_provider: Any, logger_provider: Any, destination: str
    ) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.logger_provider = logger_provider
        self.destination = destination
        self.instrumented: list[str] = []
        self.exporters: list[Any] = []
        self.owned: list[Any] = []  # providers install() created (and so may shut down)
        self.prices: PriceTable | None = None
        self._instrumentors: list[Any] = []
        self._shut_down = False

    @property
    def failed_spans(self) -> int:
        """Spans an exporter refused or failed on (a backend down, a full disk)."""
        return sum(exporter.failed_spans for exporter in self.exporters)

    @property
    def exported_spans(self) -> int:
        """Spans the exporters accepted."""
        return sum(exporter.exported_spans for exporter in self.exporters)

    @property
    def dropped_spans(self) -> int:
        """Spans dropped before export because the export queue was full (spans ending faster
        than they can be written, e.g. from many threads at once). Raise ``OTEL_BSP_MAX_QUEUE_SIZE``
        (2,048 by default) if this grows."""
        return sum(exporter.dropped_spans for exporter in self.exporters)

    def _instrument(self, names: list[str], capture: ContentCapture) -> None:
        """Instrument the named provider SDKs with this installation's providers."""
        for name in names:
            _, path = INSTRUMENTORS[name]
            try:
                module_name, class_name = path.split(":")
                instrumentor = getattr(importlib.import_module(module_name), class_name)()
                instrumentor.instrument(
                    tracer_provider=self.tracer_provider,
                    meter_provider=self.meter_provider,
                    logger_provider=self.logger_provider,
                    capture_content=capture,
                )
            except Exception as exc:  # noqa: BLE001 - one SDK failing must not cost the others
                _logger.warning("wikitrace-otel: could not instrument %s: %r", name, exc)
                continue
            self._instrumentors.append(instrumentor)
            self.instrumented.append(name)

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        """Export everything buffered so far; True when every provider flushed in time."""
        flushed = self.tracer_provider.force_flush(timeout_millis)
        for provider in (self.meter_provider, self.logger_provider):
            flush = getattr(provider, "force_flush", None)
            if flush is not None:
                flushed = bool(flush(timeout_millis)) and flushed
        return flushed

    def shutdown(self) -> None:
        """Flush, uninstrument the SDKs, drop the budget rules and shut the providers down. Idempotent."""
        global _installed
        with _lock:
            if self._shut_down:
                return
            self._shut_down = True
            if _installed is self:
                _installed = None
        for instrumentor in self._instrumentors:
            instrumentor.uninstrument()
        from wikitrace_otel.budgets._gatekeeper import installed as budget_gate

        gate = budget_gate()
        if gate is not None:
            gate.set_rules([], {})
            gate.prices = None
        self.force_flush()
        # A provider the application set up stays running: it is the application's to end.
        for provider in self.owned:
            provider.shutdown()


def install(
    service_name: str | None = None,
    *,
    store: str | os.PathLike[str] | None = None,
    exporter: str | SpanExporter | None = None,
    capture_content: bool | str | ContentCapture | None = None,
    instrument: Iterable[str] | None = None,
    prices: Mapping[str, Any] | str | os.PathLike[str] | None = None,
    service_version: str | None = None,
    environment: str | None = None,
    budgets: Iterable[BudgetRule] | None = None,
) -> Installation:
    """Trace every LLM call of this process, with cost, session and user, in one line.

    Sets the global tracer, meter and (for content events) logger providers, adds the
    session and cost span processors, instruments every installed provider SDK, and sends
    spans where configured (see below). A second call returns the first installation and
    warns.

    Where spans go, first match wins: the standard ``OTEL_TRACES_EXPORTER`` /
    ``OTEL_EXPORTER_OTLP_*`` variables; ``exporter=`` (``"file"``, ``"otlp"``, ``"console"``,
    ``"phoenix"``, ``"honeycomb"``, ``"datadog"``, ``"langfuse"`` or any ``SpanExporter``);
    the local store (``store=``, else ``$WIKITRACE_DIR``, else ``./.wikitrace/``).

    If the application already set an SDK ``TracerProvider``, it is kept: its resource,
    sampler and limits stay as they are; the processors are added to it, and spans also go
    to ``exporter=`` / ``store=`` / the OTLP variables only when one of them is given.

    Args:
        service_name: ``service.name``; else ``OTEL_SERVICE_NAME``; else the script's name.
        store: directory of the local store.
        exporter: a preset name or a ``SpanExporter``.
        capture_content: ``True`` / ``False`` or ``"SPAN_ONLY"``, ``"EVENT_ONLY"``,
            ``"SPAN_AND_EVENT"``, ``"NO_CONTENT"``; else
            ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``; off by default.
        instrument: provider SDKs to instrument (default: every one installed); known
            names: see :data:`INSTRUMENTORS` (``openai-agents`` is ``openai_agents``).
        prices: per-model price overrides (a dict, or a JSON/TOML file path); else
            ``$WIKITRACE_PRICES``.
        service_version: ``service.version``.
        environment: ``deployment.environment.name``.
        budgets: :class:`~wikitrace_otel.BudgetRule` limits (per user, session, service or any
            attribute) enforced on every call; with the local store, their spend resumes from it.

    Alerts: set ``WIKITRACE_SLACK_WEBHOOK`` / ``WIKITRACE_ALERT_WEBHOOK`` (or call
    :func:`wikitrace_otel.alerts.enable`) to be told of budget crossings, error rates and
    slow calls.

    Returns:
        The :class:`Installation`, with ``force_flush()`` and ``shutdown()``.

    Raises:
        ValueError: an unknown preset or provider name, a missing API key for a preset, an
            unreadable prices file, a bad ``capture_content`` value.
    """
    global _installed
    with _lock:
        if _installed is not None:
            warnings.warn("wikitrace_otel.install() was already called; returning that installation", stacklevel=2)
            return _installed
        settings = GenAISettings.resolve(capture_content=capture_content)
        capture = settings.capture_content
        names = _instrument_names(instrument)
        # An application's own provider keeps its exporters unless a destination is asked for.
        cooperating = isinstance(trace.get_tracer_provider(), TracerProvider)
        explicit = exporter is not None or store is not None or _destinations.configured_by_environment()
        if cooperating and not explicit:
            destination = _destinations.Destination("the application's own TracerProvider", [])
        else:
            destination = _destinations.choose(exporter, store)
        rules = _budget_rules(budgets)
        resource = _resource(service_name, service_version, environment)
        installation = _build(resource, destination, prices, capture)
        installation._instrument(names, capture)
        _start_budgets_and_alerts(rules, resource, destination, installation.prices)
        configure_decorators(settings)
        _installed = installation
        # Providers created here shut down (and flush) at exit by themselves; an application's
        # own provider may not, so flush what our processors and exporters hold.
        atexit.register(_flush_at_exit, installation)
    _logger.info("wikitrace-otel: spans go to %s", installation.destination)
    return installation


def _budget_rules(budgets: Iterable[BudgetRule] | None) -> list[BudgetRule]:
    rules = list(budgets or ())
    for rule in rules:
        if not isinstance(rule, BudgetRule):
            raise ValueError(f"budgets=[...]: expected BudgetRule objects, got {rule!r}")
    return rules


def _start_budgets_and_alerts(
    rules: list[BudgetRule], resource: Resource, destination: _destinations.Destination, prices: PriceTable
) -> None:
    from wikitrace_otel import alerts
    from wikitrace_otel.budgets._gatekeeper import ensure_gate
    from wikitrace_otel.budgets._restore import restore

    gate = ensure_gate()
    gate.prices = prices  # budgets charge at the prices the spans are priced at
    if rules:
        book = gate.set_rules(rules, resource.attributes)
        store = _destinations.store_directory(destination)
        if book is not None and store is not None:
            try:
                restore(gate, book, store, str(resource.attributes.get("service.name") or ""))
            except OSError as exc:
                _logger.warning("wikitrace-otel: could not resume budget spend from %s: %r", store, exc)
    try:
        alerts.enable_from_environment()
    except ValueError as exc:
        _logger.warning("wikitrace-otel: alerts not enabled: %s", exc)


def _flush_at_exit(installation: Installation) -> None:
    if not installation._shut_down:
        installation.force_flush(timeout_millis=5_000)


def installed() -> Installation | None:
    """The current installation, or None before ``install()``."""
    return _installed


def _instrument_names(instrument: Iterable[str] | None) -> list[str]:
    if instrument is None:
        return [name for name, (module, _) in INSTRUMENTORS.items() if importlib.util.find_spec(module) is not None]
    if isinstance(instrument, str):
        instrument = [instrument]
    # "openai-agents" (the package's name) and "openai_agents" (the entry point's) both work.
    names = list(dict.fromkeys(str(n).replace("-", "_") for n in instrument))
    unknown = [n for n in names if n not in INSTRUMENTORS]
    if unknown:
        raise ValueError(f"instrument={names!r}: unknown {unknown}; known: {', '.join(INSTRUMENTORS)}")
    return names


def _resource(service_name: str | None, version: str | None, environment: str | None) -> Resource:
    from wikitrace_otel.version import __version__

    attributes: dict[str, str] = {
        "service.name": service_name or os.environ.get("OTEL_SERVICE_NAME") or _script_name(),
        "telemetry.distro.name": "wikitrace-otel",
        "telemetry.distro.version": __version__,
    }
    if version:
        attributes["service.version"] = version
    if environment:
        attributes["deployment.environment.name"] = environment
    # Resource.create merges OTEL_RESOURCE_ATTRIBUTES; the attributes above win over it.
    return Resource.create(attributes)


def _script_name() -> str:
    script = sys.argv[0] if sys.argv else ""
    if not script or script in ("-c", "-m"):
        return "python"
    return Path(script).stem or "python"


def _build(
    resource: Resource,
    destination: _destinations.Destination,
    prices: Mapping[str, Any] | str | os.PathLike[str] | None,
    capture: ContentCapture,
) -> Installation:
    from opentelemetry.sdk.metrics import MeterProvider

    from wikitrace_otel.exporters.counting import CountingBatchSpanProcessor, CountingSpanExporter
    from wikitrace_otel.processors import CostSpanProcessor

    owned: list[Any] = []
    meter_provider: Any = metrics.get_meter_provider()
    if not isinstance(meter_provider, MeterProvider) and destination.metric_exporter is not None:
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

        meter_provider = MeterProvider(
            resource=resource, metric_readers=[PeriodicExportingMetricReader(destination.metric_exporter)]
        )
        metrics.set_meter_provider(meter_provider)
        owned.append(meter_provider)
    # Built before touching the tracer provider, so a bad prices file fails cleanly.
    cost = CostSpanProcessor(prices=prices, meter_provider=meter_provider)
    tracer_provider: Any = trace.get_tracer_provider()
    if not isinstance(tracer_provider, TracerProvider):
        tracer_provider = TracerProvider(resource=resource)
        trace.set_tracer_provider(tracer_provider)
        owned.append(tracer_provider)
    counted = [CountingSpanExporter(span_exporter) for span_exporter in destination.span_exporters]
    _add_span_processors(tracer_provider, cost, [CountingBatchSpanProcessor(exporter) for exporter in counted])
    logger_provider = _logger_provider(resource, destination, capture, owned)
    installation = Installation(tracer_provider, meter_provider, logger_provider, destination.description)
    installation.exporters = counted
    installation.prices = cost.prices
    installation.owned = owned
    return installation


def _add_span_processors(tracer_provider: TracerProvider, cost: Any, exporting: list[Any]) -> Any:
    """Add the session, cost, budget and alert steps (as one processor: every span of the
    application goes through it), then each exporting processor behind a ``CostEnrichingProcessor``
    so exported GenAI spans carry their cost, whoever emitted them."""
    from wikitrace_otel import alerts
    from wikitrace_otel.budgets import BudgetSpanProcessor
    from wikitrace_otel.processors import CostEnrichingProcessor, SessionSpanProcessor
    from wikitrace_otel.processors._combined import CombinedSpanProcessor

    combined = CombinedSpanProcessor(SessionSpanProcessor(), cost, BudgetSpanProcessor(), alerts.span_processor())
    tracer_provider.add_span_processor(combined)
    for processor in exporting:
        tracer_provider.add_span_processor(CostEnrichingProcessor(processor, cost.prices))
    return combined


def _logger_provider(
    resource: Resource, destination: _destinations.Destination, capture: ContentCapture, owned: list[Any]
) -> Any:
    if not capture.on_event or destination.log_exporter is None:
        return None
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(BatchLogRecordProcessor(destination.log_exporter))
    set_logger_provider(provider)
    owned.append(provider)
    return provider
