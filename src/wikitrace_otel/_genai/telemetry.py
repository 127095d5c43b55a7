"""The tracer, meter instruments and event logger one instrumentor emits with."""

from __future__ import annotations

import threading
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry._logs import Logger, get_logger

from wikitrace_otel._genai.callmetrics import MetricSets
from wikitrace_otel._genai.config import GenAISettings
from wikitrace_otel._genai.deferred import DeferredRecorder
from wikitrace_otel._genai.totals import SummedCounter
from wikitrace_otel.semconv import SCHEMA_URL
from wikitrace_otel.semconv import metrics as m
from wikitrace_otel.version import __version__


class Instruments:
    """Every GenAI metric instrument, created once per instrument() call.

    Histogram values go through :attr:`deferred` (recorded at collection time) and token
    counters are :class:`SummedCounter` totals sharing :attr:`counter_lock`, so the call path
    never pays the SDK's per-measurement cost; :attr:`sets` caches the metric attribute sets
    of calls (see :mod:`wikitrace_otel._genai.callmetrics`).
    """

    def __init__(self, meter: metrics.Meter, legacy: bool) -> None:
        seconds, tokens = m.DURATION_BUCKETS, m.TOKEN_BUCKETS
        self.legacy = legacy
        self.sets = MetricSets()
        self.counter_lock = threading.Lock()
        self.deferred = DeferredRecorder.for_meter(meter)
        self.inference_duration = _histogram(
            meter, m.INFERENCE_DURATION, m.UNIT_SECONDS, seconds, "Inference call duration"
        )
        self.operation_duration = _histogram(
            meter, m.OPERATION_DURATION, m.UNIT_SECONDS, seconds, "GenAI operation duration"
        )
        self.time_to_first_chunk = _histogram(
            meter, m.TIME_TO_FIRST_CHUNK, m.UNIT_SECONDS, seconds, "Time to first chunk"
        )
        self.time_per_output_chunk = _histogram(
            meter, m.TIME_PER_OUTPUT_CHUNK, m.UNIT_SECONDS, seconds, "Time between streamed chunks"
        )
        self.usage_input = SummedCounter(
            meter, m.USAGE_INPUT_TOKENS, m.UNIT_TOKENS, "Input tokens used", self.counter_lock
        )
        self.usage_output = SummedCounter(
            meter, m.USAGE_OUTPUT_TOKENS, m.UNIT_TOKENS, "Output tokens used", self.counter_lock
        )
        self.usage_cache_read = SummedCounter(
            meter,
            m.USAGE_CACHE_READ_INPUT_TOKENS,
            m.UNIT_TOKENS,
            "Input tokens read from the prompt cache",
            self.counter_lock,
        )
        self.usage_cache_write = SummedCounter(
            meter,
            m.USAGE_CACHE_WRITE_INPUT_TOKENS,
            m.UNIT_TOKENS,
            "Input tokens written to the prompt cache",
            self.counter_lock,
        )
        self.usage_reasoning = SummedCounter(
            meter, m.USAGE_REASONING_OUTPUT_TOKENS, m.UNIT_TOKENS, "Output tokens spent on reasoning", self.counter_lock
        )
        self.operation_input = _histogram(
            meter, m.OPERATION_INPUT_TOKENS, m.UNIT_TOKENS, tokens, "Input tokens per call"
        )
        self.operation_output = _histogram(
            meter, m.OPERATION_OUTPUT_TOKENS, m.UNIT_TOKENS, tokens, "Output tokens per call"
        )
        self.legacy_token_usage = (
            _histogram(meter, m.LEGACY_TOKEN_USAGE, m.UNIT_TOKENS, tokens, "Tokens used (legacy name)")
            if legacy
            else None
        )


def _histogram(meter: metrics.Meter, name: str, unit: str, buckets: tuple[float, ...], description: str) -> Any:
    return meter.create_histogram(
        name, unit=unit, description=description, explicit_bucket_boundaries_advisory=list(buckets)
    )


class GenAITelemetry:
    """What an instrumentor needs to emit: tracer, instruments, event logger and settings.

    Args:
        scope: instrumentation scope name, e.g. ``wikitrace_otel.instrumentors.openai``.
        settings: resolved settings.
        tracer_provider / meter_provider / logger_provider: None means the global provider.
    """

    def __init__(
        self,
        scope: str,
        settings: GenAISettings,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        logger_provider: Any = None,
    ) -> None:
        self.settings = settings
        # Read on every call: resolved once here rather than through the settings' properties.
        self.legacy = settings.legacy_semconv
        self.capture_content = settings.capture_content.enabled
        self.content_on_span = settings.capture_content.on_span
        self.tracer = trace.get_tracer(scope, __version__, tracer_provider, schema_url=SCHEMA_URL)
        meter = metrics.get_meter(scope, __version__, meter_provider, schema_url=SCHEMA_URL)
        self.instruments = Instruments(meter, settings.legacy_semconv)
        self.event_logger: Logger | None = (
            get_logger(scope, __version__, logger_provider, schema_url=SCHEMA_URL)
            if settings.capture_content.on_event
            else None
        )
