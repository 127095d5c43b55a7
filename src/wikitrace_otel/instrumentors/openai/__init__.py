"""OpenTelemetry instrumentation of the OpenAI Python SDK, following the GenAI conventions.

Usage::

    from wikitrace_otel.instrumentors.openai import OpenAIInstrumentor

    OpenAIInstrumentor().instrument()            # global providers
    OpenAIInstrumentor().instrument(
        tracer_provider=tp, meter_provider=mp,   # or explicit ones
        logger_provider=lp,                      # for content events
        capture_content="SPAN_ONLY",
    )
    ...
    OpenAIInstrumentor().uninstrument()          # restores the SDK's methods exactly

``opentelemetry-instrument python app.py`` finds it through the ``opentelemetry_instrumentor``
entry point (name ``openai``) when the SDK is installed.

What is traced, for ``OpenAI``, ``AsyncOpenAI``, ``AzureOpenAI`` and ``AsyncAzureOpenAI``:

- ``chat.completions.create`` (plain and ``stream=True``), ``.parse`` and the ``.stream()``
  helper: span ``chat {model}``, ``openai.api.type=chat_completions``;
- ``responses.create`` (plain and streamed), ``.parse``, ``.stream()``: ``chat {model}``,
  ``openai.api.type=responses``; ``responses.retrieve``: ``fetch_response``;
- ``embeddings.create``: ``embeddings {model}``; legacy ``completions.create``:
  ``text_completion {model}``;
- each through ``with_raw_response`` and ``with_streaming_response`` too.

One CLIENT span per logical call, covering the SDK's retries and the whole stream. Streams
come back as proxies that behave like the SDK's own objects; the span ends exactly once, on
exhaustion, ``break`` inside ``with``, ``close()``, an error, or when the stream is dropped.

Keyword arguments of ``instrument()`` (each falls back to its environment variable, see
:mod:`wikitrace_otel.environment_variables`):

- ``capture_content``: ``"NO_CONTENT"`` (default), ``"SPAN_ONLY"``, ``"EVENT_ONLY"``,
  ``"SPAN_AND_EVENT"``, or a bool (``True`` = span only).
  Env: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``.
- ``max_content_size``: byte cap per content attribute (default 65536).
- ``include_usage``: add ``stream_options={"include_usage": True}`` to streams that set no
  ``stream_options``, so streamed calls report tokens (the stream gains one final chunk
  without choices). Off by default. Env: ``WIKITRACE_OPENAI_INCLUDE_USAGE``.
- ``legacy_semconv``: also emit the older metric and attribute names.
- ``provider_hosts``: ``{"host[:port]": "provider"}`` for gateways and self-hosted servers.

The provider name comes from the client: ``azure.ai.openai`` for the Azure clients, and from
the base URL otherwise (``groq``, ``deepseek``, ``x_ai``, ``perplexity``, ``mistral_ai``,
``openrouter``, ``ollama``...); ``openai.*`` attributes are set only for ``openai`` itself.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from wrapt import wrap_function_wrapper

from wikitrace_otel._genai.config import GenAISettings
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.instrumentors.openai import apis
from wikitrace_otel.instrumentors.openai.package import _instruments
from wikitrace_otel.instrumentors.openai.patch import Tracer, make_wrapper, stream_helper_wrapper

__all__ = ["OpenAIInstrumentor"]

_logger = logging.getLogger(__name__)
_SCOPE = "wikitrace_otel.instrumentors.openai"

# (module, sync class, async class, method, API family or None for a stream helper)
_METHODS: tuple[tuple[str, str, str, str, apis.Api | None], ...] = (
    ("openai.resources.chat.completions", "Completions", "AsyncCompletions", "create", apis.CHAT),
    ("openai.resources.chat.completions", "Completions", "AsyncCompletions", "parse", apis.CHAT),
    ("openai.resources.chat.completions", "Completions", "AsyncCompletions", "stream", None),
    ("openai.resources.responses", "Responses", "AsyncResponses", "create", apis.RESPONSES),
    ("openai.resources.responses", "Responses", "AsyncResponses", "parse", apis.RESPONSES),
    ("openai.resources.responses", "Responses", "AsyncResponses", "stream", None),
    ("openai.resources.responses", "Responses", "AsyncResponses", "retrieve", apis.FETCH_RESPONSE),
    ("openai.resources.embeddings", "Embeddings", "AsyncEmbeddings", "create", apis.EMBEDDINGS),
    ("openai.resources.completions", "Completions", "AsyncCompletions", "create", apis.TEXT_COMPLETION),
)


class OpenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Traces the OpenAI SDK; see the module documentation for what and how."""

    def __init__(self) -> None:
        super().__init__()
        # BaseInstrumentor is a singleton and __init__ runs on every OpenAIInstrumentor():
        # keep the record of what is wrapped, or a fresh handle could not uninstrument.
        if not hasattr(self, "_patched"):
            self._patched: list[tuple[type, str, Any]] = []

    def instrumentation_dependencies(self) -> Collection[str]:
        """The SDK versions this instrumentor supports."""
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        settings = GenAISettings.resolve(**kwargs)
        telemetry = GenAITelemetry(
            _SCOPE,
            settings,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
            logger_provider=kwargs.get("logger_provider"),
        )
        tracer = Tracer(telemetry)
        for module_name, sync_name, async_name, method, api in _METHODS:
            for class_name, is_async in ((sync_name, False), (async_name, True)):
                self._patch(module_name, class_name, method, tracer, api, is_async)

    def _patch(
        self, module_name: str, class_name: str, method: str, tracer: Tracer, api: apis.Api | None, is_async: bool
    ) -> None:
        # One method that moved or vanished in some SDK release must not cost the others.
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
            original = cls.__dict__[method]
        except (ImportError, AttributeError, KeyError) as exc:
            _logger.debug("openai: not tracing %s.%s.%s (%s)", module_name, class_name, method, exc)
            return
        wrapper = stream_helper_wrapper if api is None else make_wrapper(tracer, api, is_async)
        try:
            wrap_function_wrapper(cls, method, wrapper)
        except Exception as exc:  # noqa: BLE001 - skip this method, keep the rest
            _logger.warning("openai: could not wrap %s.%s: %r", class_name, method, exc)
            return
        self._patched.append((cls, method, original))

    def _uninstrument(self, **kwargs: Any) -> None:
        while self._patched:
            cls, method, original = self._patched.pop()
            setattr(cls, method, original)
