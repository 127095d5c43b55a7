"""Zero-code setup: ``opentelemetry-instrument python app.py``.

With wikitrace-otel installed, ``opentelemetry-instrument`` finds:

- the distro ``wikitrace`` (entry point group ``opentelemetry_distro``), which only sets
  environment defaults;
- the configurator ``wikitrace`` (``opentelemetry_configurator``), which runs
  :func:`wikitrace_otel.install` with the instrumentors left to ``opentelemetry-instrument``,
  so the same providers, session and cost processors and destination apply: the local store by
  default, ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_TRACES_EXPORTER`` when set;
- each instrumentor (``opentelemetry_instrumentor``); those whose SDK is not installed stay
  quiet.

Every setting comes from the environment: ``OTEL_SERVICE_NAME``,
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``, ``WIKITRACE_DIR``,
``WIKITRACE_PRICES``, ... (see :mod:`wikitrace_otel.environment_variables`). When several
distributions are installed, select this one with ``OTEL_PYTHON_DISTRO=wikitrace`` and
``OTEL_PYTHON_CONFIGURATOR=wikitrace``.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro
from opentelemetry.sdk._configuration import _BaseConfigurator


class WikitraceDistro(BaseDistro):  # type: ignore[misc]
    """The ``wikitrace`` distro: nothing to preset, the configurator decides where spans go."""

    def _configure(self, **kwargs: Any) -> None:
        return None


class WikitraceConfigurator(_BaseConfigurator):  # type: ignore[misc]
    """The ``wikitrace`` configurator: :func:`wikitrace_otel.install` from the environment."""

    def _configure(self, **kwargs: Any) -> None:
        from wikitrace_otel._install import install

        # opentelemetry-instrument instruments every library itself, right after this.
        install(instrument=[])
