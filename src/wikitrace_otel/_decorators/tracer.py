"""Which tracer decorator spans use, decided on every call for the price of one global read.

The decorators must cost next to nothing when no tracer provider is installed, and must pick
up a provider installed after the decorated function was defined. ``trace.get_tracer_provider()``
answers both, but costs about 1.5 µs per call when nothing is installed: it looks up
``OTEL_PYTHON_TRACER_PROVIDER`` in ``os.environ`` each time, and a missing key takes the slow
``KeyError`` path. So the wrappers read the API's global directly (the variable
``set_tracer_provider()`` writes, the one the API's own ``ProxyTracer`` reads) through
:data:`source`, and :func:`current_tracer` keeps the tracer of the last provider it saw.
Should a future API release drop that variable, or ``OTEL_PYTHON_TRACER_PROVIDER`` be set,
:data:`source` asks the public ``get_tracer_provider()`` instead: slower, still correct.
"""

from __future__ import annotations

import os
from typing import Final

from opentelemetry import trace as _api
from opentelemetry.environment_variables import OTEL_PYTHON_TRACER_PROVIDER
from opentelemetry.trace import NoOpTracer, NoOpTracerProvider, ProxyTracerProvider, Tracer, TracerProvider

from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel.semconv import SCHEMA_URL
from wikitrace_otel.version import __version__

SCOPE: Final = "wikitrace_otel.decorators"
"""Instrumentation scope of every decorator span."""

_INERT = (ProxyTracerProvider, NoOpTracerProvider)


class _PublicApi:
    """Stands in for the API module where its global cannot be read directly."""

    @property
    def _TRACER_PROVIDER(self) -> TracerProvider | None:  # noqa: N802 - mirrors the API's global
        # Also loads (once) a provider named by OTEL_PYTHON_TRACER_PROVIDER, as the API does.
        try:
            provider = _api.get_tracer_provider()
        except Exception as internal:  # noqa: BLE001 - e.g. a bad provider name: the call still runs
            report_internal_error(internal)
            return None
        return None if isinstance(provider, ProxyTracerProvider) else provider


def _choose_source() -> object:
    # With OTEL_PYTHON_TRACER_PROVIDER set, the API installs that provider only when someone
    # calls get_tracer_provider(), so that call must stay in the loop. It is a start-up
    # setting: reading it once, at import, is enough.
    if hasattr(_api, "_TRACER_PROVIDER") and OTEL_PYTHON_TRACER_PROVIDER not in os.environ:
        return _api
    return _PublicApi()


source: Final[object] = _choose_source()
"""Has ``_TRACER_PROVIDER``: the installed global provider, None when there is none. The
wrappers read it before anything else, so an untraced call costs one attribute read."""

# (provider, its tracer or None when it never records). Replaced whole, so readers on other
# threads always see a consistent pair.
_cache: tuple[object, Tracer | None] = (None, None)


def current_tracer() -> Tracer | None:
    """The decorators' tracer from the global provider, or None when spans would not record.

    None means: no provider installed, a ``NoOpTracerProvider``, or an SDK provider that is
    disabled (``OTEL_SDK_DISABLED``). Callers then skip all telemetry work.
    """
    provider = source._TRACER_PROVIDER  # type: ignore[attr-defined]
    if provider is None:
        return None
    cache = _cache
    if cache[0] is provider:
        return cache[1]
    return _remember(provider)


def reset() -> None:
    """Forget the cached tracer (it is looked up again on the next call)."""
    global _cache
    _cache = (None, None)


def _remember(provider: object) -> Tracer | None:
    global _cache
    tracer: Tracer | None = None
    if not isinstance(provider, _INERT):
        tracer = _api.get_tracer(SCOPE, __version__, provider, schema_url=SCHEMA_URL)  # type: ignore[arg-type]
        if isinstance(tracer, NoOpTracer):
            tracer = None
    _cache = (provider, tracer)
    return tracer
