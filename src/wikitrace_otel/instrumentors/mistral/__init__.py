"""OpenTelemetry instrumentation of the Mistral Python SDK (``mistralai``), following the GenAI conventions.

Usage::

    from wikitrace_otel.instrumentors.mistral import MistralInstrumentor

    MistralInstrumentor().instrument()           # global providers
    MistralInstrumentor().instrument(
        tracer_provider=tp, meter_provider=mp,   # or explicit ones
        logger_provider=lp,                      # for content events
        capture_content="SPAN_ONLY",
    )
    ...
    MistralInstrumentor().uninstrument()         # restores the SDK exactly

``wikitrace_otel.install()`` and ``opentelemetry-instrument python app.py`` (entry point
``mistral`` in ``opentelemetry_instrumentor``) pick it up when the SDK is installed.

What is traced, for every ``Mistral`` client (``gen_ai.provider.name`` ``mistral_ai``):

- ``chat.complete`` and ``chat.complete_async``: span ``chat {model}``;
- ``chat.stream`` and ``chat.stream_async`` (server-sent events ending with ``data: [DONE]``):
  span ``chat {model}`` with ``gen_ai.request.stream=true``, covering the whole stream;
- ``embeddings.create`` and ``embeddings.create_async``: span ``embeddings {model}``.

One CLIENT span per call, covering the SDK's retries and the whole stream. Streams come back
as a proxy that behaves like the SDK's ``EventStream`` / ``EventStreamAsync`` (iteration,
``with`` / ``async with``, ``close()``, ``.response``). The span ends exactly once: on
exhaustion, ``break`` inside ``with``, ``close()``, an error mid-stream, or when the stream is
garbage-collected; a stream cut short reports the finish reason ``error``.

Attributes: the request's ``temperature``, ``top_p``, ``max_tokens``, ``random_seed``
(``gen_ai.request.seed``), ``stop``, ``presence_penalty``, ``frequency_penalty``, ``n``
(only when not 1), ``reasoning_effort``, ``response_format`` (``gen_ai.output.type``) and, for
embeddings, ``output_dimension`` and ``encoding_format``; the response id and model; one
finish reason per choice. Usage is OpenAI-like and read by the same code as the OpenAI
instrumentor's: ``prompt_tokens`` → ``gen_ai.usage.input_tokens``, ``completion_tokens`` →
``gen_ai.usage.output_tokens``, and, when the API reports them,
``prompt_tokens_details.cached_tokens`` → ``gen_ai.usage.cache_read.input_tokens`` and
``completion_tokens_details.reasoning_tokens`` → ``gen_ai.usage.reasoning.output_tokens``.
Embeddings record input tokens only. Failures set ``error.type`` to the ``type`` of Mistral's
JSON error body when it has one, else the HTTP status. With content capture on:
``gen_ai.input.messages`` (a ``system`` message stays there), ``gen_ai.tool.definitions``,
``gen_ai.output.messages`` (Magistral ``thinking`` chunks as ``reasoning`` parts, tool calls
as ``tool_call`` parts, streamed pieces reassembled). Cost, session and user are added as on
every span.

**The SDK's own tracing.** Newer ``mistralai`` releases (3.x among them) can emit spans of
their own, but only when asked to (its ``telemetry`` option or ``MISTRAL_SDK_TELEMETRY``). They
are left alone: turn them on and each call has both spans.

**Usage fields the SDK does not declare.** 1.x releases drop them while parsing, so with those
only input and output tokens are seen; newer releases keep cache and reasoning counts.

Keyword arguments of ``instrument()`` (each falls back to its environment variable, see
:mod:`wikitrace_otel.environment_variables`):

- ``capture_content``: ``"NO_CONTENT"`` (default), ``"SPAN_ONLY"``, ``"EVENT_ONLY"``,
  ``"SPAN_AND_EVENT"``, or a bool. Env: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``.
- ``max_content_size``: byte cap per content attribute (default 65536).
- ``legacy_semconv``: also emit the older metric and attribute names.
- ``provider_hosts``: ``{"host[:port]": "provider"}`` for gateways in front of the API.

A method that an installed SDK release lacks is skipped with a debug log; every other method
is still traced. The SDK's classes moved from ``mistralai.chat`` (1.x) to
``mistralai.client.chat`` (2.x on); both are found. Supported: ``mistralai`` 1.9.1 to 3.x.
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

from wikitrace_otel._genai.instrumentor import PatchingInstrumentor
from wikitrace_otel.instrumentors.mistral import apis
from wikitrace_otel.instrumentors.mistral.package import _instruments
from wikitrace_otel.instrumentors.mistral.patch import Tracer, make_wrapper

__all__ = ["MistralInstrumentor"]

_logger = logging.getLogger(__name__)
# Where each resource class lives: newer SDKs first, then 1.x.
_PACKAGES = ("mistralai.client", "mistralai")

# (module under the package, class, method, API, is async)
_METHODS: tuple[tuple[str, str, str, apis.Api, bool], ...] = (
    ("chat", "Chat", "complete", apis.CHAT, False),
    ("chat", "Chat", "complete_async", apis.CHAT, True),
    ("chat", "Chat", "stream", apis.CHAT_STREAM, False),
    ("chat", "Chat", "stream_async", apis.CHAT_STREAM, True),
    ("embeddings", "Embeddings", "create", apis.EMBEDDINGS, False),
    ("embeddings", "Embeddings", "create_async", apis.EMBEDDINGS, True),
)


def _resource_class(module: str, class_name: str) -> type | None:
    """The SDK class ``class_name`` from the first package layout that has it."""
    for package in _PACKAGES:
        try:
            cls = getattr(importlib.import_module(f"{package}.{module}"), class_name, None)
        except ImportError:
            continue
        if isinstance(cls, type):
            return cls
    return None


class MistralInstrumentor(PatchingInstrumentor):
    """Traces the Mistral SDK; see the module documentation for what and how."""

    _name = "mistral"
    _scope = "wikitrace_otel.instrumentors.mistral"
    _dependencies = _instruments

    def _instrument(self, **kwargs: Any) -> None:
        tracer = Tracer(self._telemetry(kwargs))
        for module, class_name, method, api, is_async in _METHODS:
            wrapper = make_wrapper(tracer, api, is_async)
            cls = _resource_class(module, class_name)
            if cls is None:
                _logger.debug("mistral: not tracing %s.%s.%s (not in this SDK release)", module, class_name, method)
                continue
            self._wrap(cls, method, wrapper, f"{module}.{class_name}.{method}")
