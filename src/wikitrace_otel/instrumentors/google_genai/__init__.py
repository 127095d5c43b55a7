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

from typing import Any

from wikitrace_otel._genai.instrumentor import PatchingInstrumentor
from wikitrace_otel.instrumentors.google_genai import apis
from wikitrace_otel.instrumentors.google_genai.package import _instruments
from wikitrace_otel.instrumentors.google_genai.patch import Tracer, make_stream_wrapper, make_wrapper

__all__ = ["GoogleGenAIInstrumentor"]

_MODELS = "google.genai.models"

# (module, sync class, async class, method, API, returns a stream)
_METHODS: tuple[tuple[str, str, str, str, apis.Api, bool], ...] = (
    (_MODELS, "Models", "AsyncModels", "generate_content", apis.GENERATE_CONTENT, False),
    (_MODELS, "Models", "AsyncModels", "generate_content_stream", apis.GENERATE_CONTENT, True),
    (_MODELS, "Models", "AsyncModels", "embed_content", apis.EMBED_CONTENT, False),
)


class GoogleGenAIInstrumentor(PatchingInstrumentor):
    """Traces the Google Gen AI SDK; see the module documentation for what and how."""

    _name = "google-genai"
    _scope = "wikitrace_otel.instrumentors.google_genai"
    _dependencies = _instruments

    def _instrument(self, **kwargs: Any) -> None:
        tracer = Tracer(self._telemetry(kwargs))
        for module_name, sync_name, async_name, method, api, streams in _METHODS:
            for class_name, is_async in ((sync_name, False), (async_name, True)):
                factory = make_stream_wrapper if streams else make_wrapper
                self._patch(module_name, class_name, method, factory(tracer, api, is_async))
