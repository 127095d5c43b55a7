"""The bundled OTLP receiver: ``wikitrace-otel collector`` (or ``python -m wikitrace_otel.collector``).

Run it and point any OpenTelemetry exporter at it::

    wikitrace-otel collector --store ./.wikitrace
    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf python app.py

What it does
    - OTLP/gRPC on port 4317 (``TraceService``, ``MetricsService``, ``LogsService`` ``Export``) and
      OTLP/HTTP on port 4318 (``/v1/traces``, ``/v1/metrics``, ``/v1/logs``; protobuf or JSON;
      gzip bodies), answering as the OTLP specification says, partial success included: spans
      with invalid trace or span ids are rejected and counted, the rest stored.
    - Durable: every request is appended to a write-ahead log under ``<store>/wal/<signal>/`` and
      fsync'ed (group commit, one writer thread) before the success answer.
    - Back-pressure: past ``--max-inflight`` bytes waiting for the disk, requests get HTTP 503 with
      ``Retry-After`` or gRPC ``RESOURCE_EXHAUSTED`` with ``RetryInfo``; the exporters retry.
    - Keys and tenants: ``--api-key`` / ``--tenant NAME=KEY`` / ``--api-keys-file`` require
      ``Authorization: Bearer <key>`` or ``x-api-key``; a tenant's data lives under
      ``<store>/tenants/<NAME>/`` and its key reads only that.
    - ``--forward URL`` re-sends everything stored to upstream OTLP/HTTP endpoints.
    - ``GET /api/traces``, ``/api/traces/<trace id>``, ``/api/stats``, ``/api/health`` answer
      queries from :mod:`wikitrace_otel.query`.

In a program::

    from wikitrace_otel.collector import Collector, CollectorConfig

    collector = Collector(CollectorConfig(store=Path("traces"), grpc_port=0, http_port=0))
    collector.start()          # ports chosen by the system: collector.grpc_port, collector.http_port
    ...
    collector.stop()           # finish requests in progress, fsync, close

The WAL format and its reader are in :mod:`wikitrace_otel.collector.wal`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wikitrace_otel.collector.config import CollectorConfig
    from wikitrace_otel.collector.server import Collector

__all__ = ["Collector", "CollectorConfig"]


def __getattr__(name: str) -> Any:
    # Imported on first use so ``wikitrace-otel --help`` does not load gRPC and protobuf.
    if name == "Collector":
        from wikitrace_otel.collector.server import Collector

        return Collector
    if name == "CollectorConfig":
        from wikitrace_otel.collector.config import CollectorConfig

        return CollectorConfig
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
