"""Where ``install()`` sends telemetry: the standard OTLP variables, a preset, or the local store.

Order (the first that applies wins):

1. the standard variables ``OTEL_TRACES_EXPORTER`` (``otlp``, ``console``, ``none``) or
   ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``: deployment
   configuration overrides what the code asked for, as everywhere in OpenTelemetry;
2. ``install(exporter=...)``: a preset name or any ``SpanExporter``;
3. the local file store.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SpanExporter

_logger = logging.getLogger("wikitrace_otel")
PRESETS = ("file", "otlp", "console", "phoenix", "honeycomb", "datadog", "langfuse")
_TRACES_EXPORTER = "OTEL_TRACES_EXPORTER"
_ENDPOINTS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


@dataclass
class Destination:
    """The exporters chosen for one installation.

    Attributes:
        description: a short human-readable name, for the start-up log line.
        span_exporters: where spans go (empty for ``OTEL_TRACES_EXPORTER=none``).
        metric_exporter: where metrics go, or None (the local store keeps spans only).
        log_exporter: where content events go, or None.
    """

    description: str
    span_exporters: list[SpanExporter]
    metric_exporter: Any = None
    log_exporter: Any = None


def store_directory(destination: Destination) -> Path | None:
    """The local store directory spans are written to, if the destination includes one."""
    from wikitrace_otel.exporters.file import FileSpanExporter

    for exporter in destination.span_exporters:
        if isinstance(exporter, FileSpanExporter):
            return exporter.directory
    return None


def choose(exporter: str | SpanExporter | None, store: str | os.PathLike[str] | None) -> Destination:
    """Pick the destination; raises ``ValueError`` for an unknown preset or a missing key."""
    from_environment = _from_environment()
    if from_environment is not None:
        return from_environment
    if exporter is None or exporter == "file":
        return _file(store)
    if isinstance(exporter, SpanExporter):
        return Destination(type(exporter).__name__, [exporter])
    if not isinstance(exporter, str):
        raise ValueError(f"exporter={exporter!r}: expected a preset name ({', '.join(PRESETS)}) or a SpanExporter")
    preset = _PRESET_BUILDERS.get(exporter)
    if preset is None:
        raise ValueError(f"exporter={exporter!r} is not a known preset; expected one of: {', '.join(PRESETS)}")
    return preset()


def configured_by_environment() -> bool:
    """True when the standard variables choose the span exporter."""
    return bool(os.environ.get(_TRACES_EXPORTER, "").strip()) or any(os.environ.get(v) for v in _ENDPOINTS)


def _from_environment() -> Destination | None:
    names = [n.strip().lower() for n in os.environ.get(_TRACES_EXPORTER, "").split(",") if n.strip()]
    if not names and not any(os.environ.get(v) for v in _ENDPOINTS):
        return None
    names = names or ["otlp"]
    exporters: list[SpanExporter] = []
    destination = Destination(f"{_TRACES_EXPORTER}={','.join(names)}", exporters)
    for name in names:
        if name == "otlp":
            otlp = _otlp(protocol=_protocol())
            exporters.extend(otlp.span_exporters)
            destination.metric_exporter, destination.log_exporter = otlp.metric_exporter, otlp.log_exporter
        elif name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name != "none":
            raise ValueError(f"{_TRACES_EXPORTER}={name!r} is not supported here (otlp, console, none)")
    return destination


def _protocol() -> str:
    return (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).strip()


def _otlp(
    protocol: str = "http/protobuf",
    endpoint: str | None = None,
    headers: dict[str, str] | None = None,
    traces_only: bool = False,
) -> Destination:
    """OTLP exporters for spans, metrics and logs; ``endpoint`` is the traces URL (HTTP only).

    ``traces_only`` is for backends that take no OTLP metrics or logs (Phoenix, Langfuse).
    """
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return Destination("otlp/grpc", [OTLPSpanExporter()], OTLPMetricExporter(), OTLPLogExporter())
    if protocol != "http/protobuf":
        raise ValueError(f"OTLP protocol {protocol!r} is not supported (grpc, http/protobuf)")
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HTTPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as HTTPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HTTPSpanExporter

    if endpoint is None:
        return Destination("otlp/http", [HTTPSpanExporter()], HTTPMetricExporter(), HTTPLogExporter())
    base = endpoint.rsplit("/v1/traces", 1)[0]
    if traces_only:
        return Destination(f"otlp/http {endpoint}", [HTTPSpanExporter(endpoint=endpoint, headers=headers)])
    return Destination(
        f"otlp/http {endpoint}",
        [HTTPSpanExporter(endpoint=endpoint, headers=headers)],
        HTTPMetricExporter(endpoint=f"{base}/v1/metrics", headers=headers),
        HTTPLogExporter(endpoint=f"{base}/v1/logs", headers=headers),
    )


def _file(store: str | os.PathLike[str] | None) -> Destination:
    from wikitrace_otel.exporters import FileSpanExporter

    try:
        exporter = FileSpanExporter(store)
    except OSError as exc:
        if store is not None:
            raise ValueError(f"store={os.fspath(store)!r} cannot be used: {exc}") from exc
        # The default store (./.wikitrace or $WIKITRACE_DIR) is not something the code asked
        # for: an unwritable working directory must not stop the application.
        _logger.warning("wikitrace-otel: local store unavailable (%s); spans are not stored", exc)
        return Destination("nowhere (local store unavailable)", [])
    return Destination(f"local store {exporter.directory}", [exporter])


def _required(variable: str, preset: str) -> str:
    value = os.environ.get(variable, "").strip()
    if not value:
        raise ValueError(f"exporter={preset!r} needs the {variable} environment variable")
    return value


def _phoenix() -> Destination:
    endpoint = os.environ.get("PHOENIX_COLLECTOR_ENDPOINT", "http://localhost:6006").rstrip("/")
    return _otlp(endpoint=endpoint if endpoint.endswith("/v1/traces") else f"{endpoint}/v1/traces", traces_only=True)


def _honeycomb() -> Destination:
    key = _required("HONEYCOMB_API_KEY", "honeycomb")
    # Honeycomb's metrics need a dataset header of their own: spans only here.
    return _otlp(endpoint="https://api.honeycomb.io/v1/traces", headers={"x-honeycomb-team": key}, traces_only=True)


def _datadog() -> Destination:
    # The Datadog Agent's OTLP/HTTP intake (otlp_config.receiver.protocols.http, port 4318).
    host = os.environ.get("DD_AGENT_HOST", "localhost")
    return _otlp(endpoint=f"http://{host}:4318/v1/traces")


def _langfuse() -> Destination:
    public = _required("LANGFUSE_PUBLIC_KEY", "langfuse")
    secret = _required("LANGFUSE_SECRET_KEY", "langfuse")
    host = os.environ.get("LANGFUSE_HOST", "https://cloud.langfuse.com").rstrip("/")
    token = base64.b64encode(f"{public}:{secret}".encode()).decode("ascii")
    return _otlp(
        endpoint=f"{host}/api/public/otel/v1/traces", headers={"Authorization": f"Basic {token}"}, traces_only=True
    )


def _console() -> Destination:
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

    return Destination("console", [ConsoleSpanExporter()], ConsoleMetricExporter())


_PRESET_BUILDERS: dict[str, Callable[[], Destination]] = {
    "otlp": lambda: _otlp(_protocol()),
    "console": _console,
    "phoenix": _phoenix,
    "honeycomb": _honeycomb,
    "datadog": _datadog,
    "langfuse": _langfuse,
}
