"""Every attribute, metric and event name wikitrace-otel emits, in one place.

The GenAI conventions are still "Development" stability and their names moved several
times; keeping each name as one constant here means a rename is a one-line change.

- :mod:`wikitrace_otel.semconv.gen_ai`: OpenTelemetry GenAI names (pinned below).
- :mod:`wikitrace_otel.semconv.wikitrace`: the project's own attributes.
- :mod:`wikitrace_otel.semconv.metrics`: metric names, units and bucket boundaries.

The pin is ``open-telemetry/semantic-conventions-genai`` main at commit
``6fd0d763a092db245a54104fc1124031eb3c51d2`` (2026-10-09); :data:`SCHEMA_URL` is set on every
tracer, meter and logger the project creates.
"""

from __future__ import annotations

from typing import Final

SCHEMA_URL: Final = "https://opentelemetry.io/schemas/gen-ai-dev/1.42.0-dev"
"""Schema URL of the pinned GenAI conventions."""

SEMCONV_COMMIT: Final = "6fd0d763a092db245a54104fc1124031eb3c51d2"
"""Commit of ``semantic-conventions-genai`` the names are taken from."""

__all__ = ["SCHEMA_URL", "SEMCONV_COMMIT"]
