"""OpenTelemetry instrumentation of the Google Gen AI SDK (``google-genai``), following the
GenAI conventions.

Usage::

    from wikitrace_otel.instrumentors.google_genai import GoogleGenAIInstrumentor

    GoogleGenAIInstrumentor().instrument()       # global providers
    GoogleGenAIInstrumentor().instrument(
        tracer_provider=tp, meter_provider=mp,   # or explicit ones
        logger_provider=lp,                      # for content events
        capture_content="SPAN_ONLY",
    )
    ...
    GoogleGenAIInstrumentor().uninstrument()     # restores the SDK exactly

``wikitrace_otel.install()`` and ``opentelemetry-instrument python app.py`` (entry point
``google_genai`` in ``opentelemetry_instrumentor``) pick it up when the SDK is installed.

What is traced, for ``genai.Client`` and its ``client.aio`` side, in both of the client's
modes (``gen_ai.provider.name`` ``gcp.gemini`` for the Gemini Developer API, ``gcp.vertex_ai``
for ``vertexai=True``; a gateway can be named with ``provider_hosts``):

- ``models.generate_content`` and ``models.generate_content_stream``: span
  ``generate_content {model}``;
- ``models.embed_content``: span ``embeddings {model}``;
- chats (``client.chats.create(...).send_message`` / ``send_message_stream``, sync and async):
  they call the two methods above, so each message is one ``generate_content`` span.

One CLIENT span per call. It covers everything the SDK does for that call: automatic function
calling (the SDK may send several requests and run your Python tools in between; the span
carries the usage of the last response, which is what the SDK returns), automatic
continuation, and the whole stream. Streams come back as the SDK's own generator behind a
proxy; the span ends exactly once: on exhaustion, ``break`` (when the generator is closed or
collected), ``close()`` / ``aclose()``, an error, or garbage collection. A stream cut short
reports the finish reason ``error`` for each candidate whose reason never arrived.

Attributes: from ``config``, ``temperature``, ``top_p``, ``top_k``, ``max_output_tokens``
(``gen_ai.request.max_tokens``), ``stop_sequences``, ``seed``, ``presence_penalty``,
``frequency_penalty``, ``candidate_count`` (``gen_ai.request.choice.count``, when not 1),
``thinking_config.thinking_level`` (``gen_ai.request.reasoning.level``) and JSON output
(``response_mime_type="application/json"``: ``gen_ai.output.type=json``);
``output_dimensionality`` of embeddings (``gen_ai.embeddings.dimension.count``). From the
response: ``response_id``, ``model_version`` (``gen_ai.response.model``), one finish reason per
candidate in lower case (``stop``, ``max_tokens``, ``safety``...). Usage:
``prompt_token_count`` (which includes the cached prompt) is ``gen_ai.usage.input_tokens``,
``cached_content_token_count`` is ``gen_ai.usage.cache_read.input_tokens``,
``candidates_token_count + thoughts_token_count`` is ``gen_ai.usage.output_tokens`` and
``thoughts_token_count`` is also ``gen_ai.usage.reasoning.output_tokens``. Embeddings report
input tokens where the API counts them (Vertex). Failures set ``error.type`` to Google's
status (``RESOURCE_EXHAUSTED``, ``INVALID_ARGUMENT``...), including an error sent inside a
stream. With content capture on: ``gen_ai.input.messages`` (role ``model`` becomes
``assistant``), ``gen_ai.system_instructions`` (from ``config.system_instruction``),
``gen_ai.tool.definitions`` (function declarations, Python functions given for automatic
function calling, built-in tools by name), ``gen_ai.output.messages`` (thought parts as
``reasoning``, function calls as ``tool_call``, function responses as ``tool_call_response``,
inline data as ``blob``, file data as ``uri``). Cost (cached input at its own price), session
and user are added as on every span.

Keyword arguments of ``instrument()`` (each falls back to its environment variable, see
:mod:`wikitrace_otel.environment_variables`):

- ``capture_content``: ``"NO_CONTENT"`` (default), ``"SPAN_ONLY"``, ``"EVENT_ONLY"``,
  ``"SPAN_AND_EVENT"``, or a bool. Env: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``.
- ``max_content_size``: byte cap per content attribute (default 65536).
- ``legacy_semconv``: also emit the older metric and attribute names.
- ``provider_hosts``: ``{"host[:port]": "provider"}`` for gateways in front of the API.

A method that an installed SDK release lacks is skipped with a debug log; every other method
is still traced. Supported: ``google-genai`` 1.10 to 3.x. Not traced: the Live API, files,
caches, batches, image and video generation, ``count_tokens``.
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
from wikitrace_otel.instrumentors.google_genai import apis
from wikitrace_otel.instrumentors.google_genai.package import _instruments
from wikitrace_otel.instrumentors.google_genai.patch import Tracer, make_stream_wrapper, make_wrapper

__all__ = ["GoogleGenAIInstrumentor"]

_logger = logging.getLogger(__name__)
_SCOPE = "wikitrace_otel.instrumentors.google_genai"
_MODELS = "google.genai.models"

# (module, sync class, async class, method, API, returns a stream)
_METHODS: tuple[tuple[str, str, str, str, apis.Api, bool], ...] = (
    (_MODELS, "Models", "AsyncModels", "generate_content", apis.GENERATE_CONTENT, False),
    (_MODELS, "Models", "AsyncModels", "generate_content_stream", apis.GENERATE_CONTENT, True),
    (_MODELS, "Models", "AsyncModels", "embed_content", apis.EMBED_CONTENT, False),
)


class GoogleGenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Traces the Google Gen AI SDK; see the module documentation for what and how."""

    def __init__(self) -> None:
        super().__init__()
        # BaseInstrumentor is a singleton and __init__ runs on every GoogleGenAIInstrumentor():
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
        for module_name, sync_name, async_name, method, api, streams in _METHODS:
            for class_name, is_async in ((sync_name, False), (async_name, True)):
                factory = make_stream_wrapper if streams else make_wrapper
                self._patch(module_name, class_name, method, factory(tracer, api, is_async))

    def _patch(self, module_name: str, class_name: str, method: str, wrapper: Any) -> None:
        # One method that moved or vanished in some SDK release must not cost the others.
        try:
            cls = getattr(importlib.import_module(module_name), class_name)
            original = cls.__dict__[method]
        except (ImportError, AttributeError, KeyError) as exc:
            _logger.debug("google-genai: not tracing %s.%s.%s (%s)", module_name, class_name, method, exc)
            return
        try:
            wrap_function_wrapper(cls, method, wrapper)
        except Exception as exc:  # noqa: BLE001 - skip this method, keep the rest
            _logger.warning("google-genai: could not wrap %s.%s: %r", class_name, method, exc)
            return
        self._patched.append((cls, method, original))

    def _uninstrument(self, **kwargs: Any) -> None:
        while self._patched:
            cls, method, original = self._patched.pop()
            setattr(cls, method, original)
