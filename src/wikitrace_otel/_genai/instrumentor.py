"""The base of every provider instrumentor that wraps SDK methods with wrapt: it owns the table
of what is wrapped, wraps one method at a time (a method missing from an SDK release is skipped
with a debug log, one that cannot be wrapped with a warning, and neither costs the others), and
restores every original exactly on uninstrument.

``BaseInstrumentor`` is a singleton whose ``__init__`` runs on every ``Instrumentor()``: the
table is kept across those calls, or a fresh handle could not uninstrument.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Collection
from typing import Any, ClassVar

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from wrapt import wrap_function_wrapper

from wikitrace_otel._genai.config import GenAISettings
from wikitrace_otel._genai.telemetry import GenAITelemetry


class PatchingInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """A ``BaseInstrumentor`` that wraps SDK methods and restores them exactly.

    Subclasses set ``_name`` (the prefix of log messages), ``_scope`` (the instrumentation
    scope) and ``_dependencies`` (the supported package versions), and implement
    ``_instrument`` with :meth:`_telemetry` and :meth:`_patch` / :meth:`_wrap`.
    """

    _name: ClassVar[str] = ""
    _scope: ClassVar[str] = ""
    _dependencies: ClassVar[Collection[str]] = ()

    def __init__(self) -> None:
        super().__init__()
        if not hasattr(self, "_patched"):
            self._patched: list[tuple[Any, str, Any]] = []
            # Shared by the wrappers of one instrument() call; uninstrument() turns it off. The
            # SDKs cache bound wrapped methods (``with_raw_response`` keeps ``create``), and those
            # copies outlive the restored attributes: they must stop tracing too.
            self._live = [True]

    def instrumentation_dependencies(self) -> Collection[str]:
        """The package versions this instrumentor supports."""
        return self._dependencies

    @property
    def _logger(self) -> logging.Logger:
        # The subclass's own package logger, so its logging configuration applies.
        return logging.getLogger(type(self).__module__)

    def _telemetry(self, kwargs: dict[str, Any]) -> GenAITelemetry:
        """Settings and providers from ``instrument()``'s keyword arguments."""
        return GenAITelemetry(
            self._scope,
            GenAISettings.resolve(**kwargs),
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
            logger_provider=kwargs.get("logger_provider"),
        )

    def _patch(self, module_name: str, class_name: str, method: str, wrapper: Any) -> None:
        """Wrap ``module_name.class_name.method``, or skip it (debug log) when this release of
        the package does not have it."""
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as exc:
            self._logger.debug("%s: not tracing %s.%s.%s (%s)", self._name, module_name, class_name, method, exc)
            return
        self._wrap(cls, method, wrapper, f"{module_name}.{class_name}.{method}")

    def _wrap(self, owner: Any, method: str, wrapper: Any, where: str) -> None:
        """Wrap ``owner.method`` (a class or module attribute defined on ``owner`` itself) and
        record its original; skip it with a debug log when missing, a warning when unwrappable."""
        original = owner.__dict__.get(method) if hasattr(owner, "__dict__") else None
        if original is None:
            self._logger.debug("%s: not tracing %s (not in this release)", self._name, where)
            return
        # A wrapper from make_call_wrapper(..., live=self._live) checks the switch itself.
        switched = wrapper if getattr(wrapper, "live", None) is self._live else _switchable(wrapper, self._live)
        try:
            wrap_function_wrapper(owner, method, switched)
        except Exception as exc:  # noqa: BLE001 - skip this method, keep the rest
            self._logger.warning("%s: could not wrap %s: %r", self._name, where, exc)
            return
        self._patched.append((owner, method, original))

    def _uninstrument(self, **kwargs: Any) -> None:
        self._live[0] = False
        self._live = [True]
        while self._patched:
            owner, method, original = self._patched.pop()
            setattr(owner, method, original)


def _switchable(wrapper: Any, live: list[bool]) -> Any:
    """``wrapper``, passing calls straight to the SDK once ``live[0]`` is False."""

    def switched(wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if not live[0]:
            return wrapped(*args, **kwargs)
        return wrapper(wrapped, instance, args, kwargs)

    return switched
