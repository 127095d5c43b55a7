"""OpenTelemetry instrumentation of the Cohere Python SDK (v2 API), following the GenAI conventions.

Usage::

    from wikitrace_otel.instrumentors.cohere import CohereInstrumentor

    CohereInstrumentor().instrument()            # global providers
    CohereInstrumentor().instrument(
        tracer_provider=tp, meter_provider=mp,   # or explicit ones
        logger_provider=lp,                      # for content events
        capture_content="SPAN_ONLY",
    )
    ...
    CohereInstrumentor().uninstrument()          # restores the SDK exactly

``wikitrace_otel.install()`` and ``opentelemetry-instrument python app.py`` (entry point
``cohere`` in ``opentelemetry_instrumentor``) pick it up when the SDK is installed.

What is traced, for ``cohere.ClientV2`` / ``cohere.AsyncClientV2`` and ``Client().v2``
(``gen_ai.provider.name`` ``cohere``):

- ``chat``: span ``chat {model}``;
- ``chat_stream``: span ``chat {model}`` with ``gen_ai.request.stream=true``, covering the
  whole stream;
- ``embed``: span ``embeddings {model}``;
- ``rerank``: span ``rerank {model}``. ``rerank`` is not in the conventions' list of
  well-known operation names; it is the name Cohere's API gives the operation.

The v1 API (``Client.chat``, ``Client.generate``...) is not traced.

One CLIENT span per call, covering the SDK's retries and the whole stream. ``chat_stream`` is
a generator (async generator for the async client): calling it sends nothing, and the request
goes out on the first read. It comes back as a proxy of that generator. The span ends exactly
once: on exhaustion, ``break``, ``close()`` / ``aclose()``, an error (an HTTP error surfaces on
the first read), or when the stream is garbage-collected. A stream cut short reports the
finish reason ``error``.

**Usage is the billed units.** Cohere reports ``usage.billed_units`` (what you are charged)
and ``usage.tokens`` (what the model processed, including the system prompt and tool
scaffolding it adds). ``gen_ai.usage.input_tokens`` / ``output_tokens``, and therefore cost
and budgets, use the billed units; the raw counts go to ``cohere.usage.raw.input_tokens`` /
``cohere.usage.raw.output_tokens``, and ``cached_tokens`` to
``gen_ai.usage.cache_read.input_tokens``. Streams report usage in their ``message-end`` event;
embed and rerank report it in ``meta``. Rerank bills search units (``cohere.usage.search_units``)
and has no token usage and no cost attribute.

Attributes: the request's ``max_tokens``, ``temperature``, ``p`` (``gen_ai.request.top_p``),
``k`` (``gen_ai.request.top_k``), ``seed``, ``stop_sequences``, ``presence_penalty``,
``frequency_penalty``, ``response_format`` (``gen_ai.output.type``) and, for embed,
``output_dimension`` and ``embedding_types`` (``gen_ai.request.encoding_formats``); the
response id; ``finish_reason`` as Cohere reports it (``COMPLETE``, ``MAX_TOKENS``,
``TOOL_CALL``...). The responses carry no model name, so ``gen_ai.response.model`` is absent.
Failures set ``error.type`` to the HTTP status (Cohere's error bodies carry only a message).
With content capture on: ``gen_ai.input.messages``, ``gen_ai.tool.definitions`` and
``gen_ai.output.messages`` (``tool_plan`` and ``thinking`` as ``reasoning`` parts, tool calls
as ``tool_call`` parts, streamed pieces reassembled). Embed and rerank inputs are never
captured.

Keyword arguments of ``instrument()`` (each falls back to its environment variable, see
:mod:`wikitrace_otel.environment_variables`): ``capture_content``, ``max_content_size``,
``legacy_semconv``, ``provider_hosts`` (``{"host[:port]": "provider"}`` for gateways).

**Clients created before instrumenting are traced too.** The SDK stores its own wrappers of
``chat`` and ``chat_stream`` (an argument check, an experimental-feature warning) on each
``ClientV2`` when it is created, so wrapping the class's methods alone would miss a client
created before ``instrument()`` (or ``wikitrace_otel.install()``). ``chat`` and ``chat_stream``
on ``V2Client`` / ``AsyncV2Client`` are therefore replaced by a data descriptor that traces the
client's own copy, whenever the client was created; the SDK's checks run inside the span (a
rejected ``chat(stream=True)`` gives an error span). Every call gives one span.
``uninstrument()`` restores the class attributes exactly; every client, whenever created, then
calls the SDK untraced.

A method that an installed SDK release lacks is skipped with a debug log; every other method
is still traced. Supported: ``cohere`` 5.14 to 7.x.
"""

from __future__ import annotations

import importlib
from typing import Any

from wikitrace_otel._genai.instrumentor import PatchingInstrumentor
from wikitrace_otel.instrumentors.cohere import apis
from wikitrace_otel.instrumentors.cohere.extractors import error_type
from wikitrace_otel.instrumentors.cohere.package import _instruments
from wikitrace_otel.instrumentors.cohere.patch import CopiedMethod, make_guarded_wrapper
from wikitrace_otel.instrumentors.mistral.patch import Tracer, make_generator_wrapper, make_wrapper
from wikitrace_otel.semconv.gen_ai import Provider

__all__ = ["CohereInstrumentor"]

_MODULE = "cohere.v2.client"
# Copied onto each client by the SDK when it is created (see patch.py).
_COPIED = frozenset({"chat", "chat_stream"})

# (class, method, API, is async, is a generator function)
_METHODS: tuple[tuple[str, str, apis.Api, bool, bool], ...] = (
    *(
        (cls, method, api, is_async, method == "chat_stream")
        for cls, is_async in (("V2Client", False), ("AsyncV2Client", True))
        for method, api in (
            ("chat", apis.CHAT),
            ("chat_stream", apis.CHAT_STREAM),
            ("embed", apis.EMBED),
            ("rerank", apis.RERANK),
        )
    ),
)


def base_url(instance: Any, kwargs: dict[str, Any]) -> str:
    """The base URL a ``V2Client`` sends to (its wrapper sits on it or on its raw client)."""
    wrapper = getattr(instance, "_client_wrapper", None)
    if wrapper is None:
        wrapper = getattr(getattr(instance, "_raw_client", None), "_client_wrapper", None)
    get = getattr(wrapper, "get_base_url", None)
    url = get() if callable(get) else None
    return url if isinstance(url, str) else ""


class CohereInstrumentor(PatchingInstrumentor):
    """Traces the Cohere SDK's v2 API; see the module documentation for what and how."""

    _name = "cohere"
    _scope = "wikitrace_otel.instrumentors.cohere"
    _dependencies = _instruments

    def __init__(self) -> None:
        super().__init__()
        if not hasattr(self, "_tracer"):  # a singleton: keep the state of the first handle
            self._tracer: Tracer | None = None

    def _instrument(self, **kwargs: Any) -> None:
        tracer = self._tracer = Tracer(self._telemetry(kwargs), Provider.COHERE.value, base_url, error_type)
        for class_name, method, api, is_async, generator in _METHODS:
            if method in _COPIED:
                self._put_descriptor(
                    class_name, method, make_guarded_wrapper(tracer, api, is_async, generator, self._live)
                )
                continue
            factory = make_generator_wrapper if generator else make_wrapper
            self._patch(_MODULE, class_name, method, factory(tracer, api, is_async))

    def _put_descriptor(self, class_name: str, method: str, wrapper: Any) -> None:
        """Replace ``class_name.method`` with a :class:`CopiedMethod` (restored by the base's
        ``_uninstrument``), or skip it with a debug log when this release lacks it."""
        try:
            cls = getattr(importlib.import_module(_MODULE), class_name)
        except (ImportError, AttributeError) as exc:  # the SDK, or this class, is not installed
            self._logger.debug("%s: not tracing %s.%s.%s (%s)", self._name, _MODULE, class_name, method, exc)
            return
        original = cls.__dict__.get(method)
        if original is None:
            self._logger.debug(
                "%s: not tracing %s.%s.%s (not in this release)", self._name, _MODULE, class_name, method
            )
            return
        setattr(cls, method, CopiedMethod(method, original, wrapper))
        self._patched.append((cls, method, original))

    def _uninstrument(self, **kwargs: Any) -> None:
        if self._tracer is not None:
            self._tracer.active = False  # clients created while instrumented hold the wrapper
            self._tracer = None
        super()._uninstrument(**kwargs)
