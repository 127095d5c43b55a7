"""wikitrace-otel: OpenTelemetry-native instrumentation for LLM applications.

Importing this package imports no provider SDK. Instrumentors live in
:mod:`wikitrace_otel.instrumentors`; the names the project emits in :mod:`wikitrace_otel.semconv`.
"""

from __future__ import annotations

from wikitrace_otel.version import __version__

__all__ = ["__version__"]
