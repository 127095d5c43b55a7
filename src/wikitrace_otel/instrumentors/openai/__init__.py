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

from typing import Any

from wikitrace_otel._genai.instrumentor import PatchingInstrumentor
from wikitrace_otel.instrumentors.openai import apis
from wikitrace_otel.instrumentors.openai.package import _instruments
from wikitrace_otel.instrumentors.openai.patch import Tracer, make_wrapper, stream_helper_wrapper

__all__ = ["OpenAIInstrumentor"]

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


class OpenAIInstrumentor(PatchingInstrumentor):
    """Traces the OpenAI SDK; see the module documentation for what and how."""

    _name = "openai"
    _scope = "wikitrace_otel.instrumentors.openai"
    _dependencies = _instruments

    def _instrument(self, **kwargs: Any) -> None:
        tracer = Tracer(self._telemetry(kwargs))
        for module_name, sync_name, async_name, method, api in _METHODS:
            for class_name, is_async in ((sync_name, False), (async_name, True)):
                wrapper = stream_helper_wrapper if api is None else make_wrapper(tracer, api, is_async, self._live)
                self._patch(module_name, class_name, method, wrapper)
