"""OpenTelemetry instrumentation of the Anthropic Python SDK, following the GenAI conventions.

Usage::

    from wikitrace_otel.instrumentors.anthropic import AnthropicInstrumentor

    AnthropicInstrumentor().instrument()         # global providers
    AnthropicInstrumentor().instrument(
        tracer_provider=tp, meter_provider=mp,   # or explicit ones
        logger_provider=lp,                      # for content events
        capture_content="SPAN_ONLY",
    )
    ...
    AnthropicInstrumentor().uninstrument()       # restores the SDK exactly

``wikitrace_otel.install()`` and ``opentelemetry-instrument python app.py`` (entry point
``anthropic`` in ``opentelemetry_instrumentor``) pick it up when the SDK is installed.

What is traced, for ``Anthropic`` and ``AsyncAnthropic`` and the SDK's Bedrock and Vertex
clients (``gen_ai.provider.name`` ``aws.bedrock`` and ``gcp.vertex_ai``):

- ``messages.create`` (plain, ``stream=True``, tools, extended thinking, prompt caching),
  ``messages.parse`` and the ``messages.stream()`` helper: span ``chat {model}``;
- ``messages.count_tokens``: span ``count_tokens {model}`` with
  ``anthropic.message.count_tokens.input_tokens`` (no usage, no cost: nothing is generated);
- the same methods of ``beta.messages``;
- each through ``with_raw_response`` and ``with_streaming_response`` too.

One CLIENT span per call, covering the SDK's retries and the whole stream. Streams come back
as the SDK's own objects (``stream=True``: a proxy that behaves like the SDK's ``Stream``;
``.stream()``: the SDK's ``MessageStream`` itself, reading through a traced stream), so
``text_stream``, ``get_final_message()``, ``get_final_text()``, ``until_done()`` and events
work unchanged. The span ends exactly once: on exhaustion, ``break`` inside ``with``,
``close()``, an error, or when the stream is garbage-collected; a stream cut short reports the
finish reason ``error``.

Attributes: the request's ``max_tokens``, ``temperature``, ``top_p``, ``top_k``,
``stop_sequences``, ``output_config.effort`` (``gen_ai.request.reasoning.level``) and JSON
output (``gen_ai.output.type=json``), from the keyword arguments and ``extra_body`` alike
(newer SDKs take sampling parameters only there); the response id and model; ``stop_reason`` as the finish
reason; usage with ``gen_ai.usage.input_tokens = input_tokens + cache_read_input_tokens +
cache_creation_input_tokens``, ``gen_ai.usage.cache_read.input_tokens`` /
``cache_write.input_tokens`` and ``gen_ai.usage.reasoning.output_tokens`` (thinking tokens,
where the API reports them). Failures set ``error.type`` to Anthropic's error type
(``overloaded_error``, ``rate_limit_error``...) when the error carries one. With content
capture on: ``gen_ai.input.messages``, ``gen_ai.system_instructions`` (from ``system``),
``gen_ai.tool.definitions``, ``gen_ai.output.messages`` (thinking as ``reasoning`` parts,
``tool_use`` as ``tool_call`` parts, ``tool_result`` as ``tool_call_response`` parts). Cost
(cache reads and writes at their own prices), session and user are added as on every span.

**SDKs that trace themselves.** Anthropic SDKs from 1.17 on emit a span of their own per call
(scope ``com.anthropic.sdk.python``) whenever a global tracer provider exists. For the calls
this instrumentor traces, that span is switched off (for those calls only; see
:mod:`.native`), so each call yields exactly one span, ours, on every SDK version: same name,
attributes, cost, session and user with or without SDK tracing. The SDK still sends the trace
context with the request (ours, where it would have sent its own) unless its ``propagation``
option is off. To keep the SDK's spans too
(nested under ours), pass ``sdk_spans=True``. To have only the SDK's spans, do not instrument
Anthropic: ``install(instrument=["openai"])`` or ``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=anthropic``.

Keyword arguments of ``instrument()`` (each falls back to its environment variable, see
:mod:`wikitrace_otel.environment_variables`):

- ``capture_content``: ``"NO_CONTENT"`` (default), ``"SPAN_ONLY"``, ``"EVENT_ONLY"``,
  ``"SPAN_AND_EVENT"``, or a bool. Env: ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT``.
- ``max_content_size``: byte cap per content attribute (default 65536).
- ``legacy_semconv``: also emit the older metric and attribute names.
- ``provider_hosts``: ``{"host[:port]": "provider"}`` for gateways in front of the API.
- ``sdk_spans``: ``True`` keeps the SDK's own spans (default ``False``).

A method that an installed SDK release lacks (0.70 has no ``messages.parse``) is skipped with
a debug log; every other method is still traced. Supported: ``anthropic`` 0.70 to 2.x.
"""

from __future__ import annotations

from typing import Any

from wikitrace_otel._genai.instrumentor import PatchingInstrumentor
from wikitrace_otel.instrumentors.anthropic import apis
from wikitrace_otel.instrumentors.anthropic.native import NativeSpans
from wikitrace_otel.instrumentors.anthropic.package import _instruments
from wikitrace_otel.instrumentors.anthropic.patch import Tracer, make_stream_helper_wrapper, make_wrapper

__all__ = ["AnthropicInstrumentor"]

_MESSAGES = "anthropic.resources.messages.messages"
_BETA_MESSAGES = "anthropic.resources.beta.messages.messages"

# (module, sync class, async class, method, API, is the .stream() helper)
_METHODS: tuple[tuple[str, str, str, str, apis.Api, bool], ...] = (
    *(
        (module, "Messages", "AsyncMessages", method, api, helper)
        for module in (_MESSAGES, _BETA_MESSAGES)
        for method, api, helper in (
            ("create", apis.MESSAGES, False),
            ("parse", apis.MESSAGES, False),
            ("stream", apis.MESSAGES, True),
            ("count_tokens", apis.COUNT_TOKENS, False),
        )
    ),
)


class AnthropicInstrumentor(PatchingInstrumentor):
    """Traces the Anthropic SDK; see the module documentation for what and how."""

    _name = "anthropic"
    _scope = "wikitrace_otel.instrumentors.anthropic"
    _dependencies = _instruments

    def __init__(self) -> None:
        super().__init__()
        if not hasattr(self, "_native"):  # a singleton: keep the state of the first handle
            self._native = NativeSpans()

    def _instrument(self, **kwargs: Any) -> None:
        sdk_spans = kwargs.get("sdk_spans", False)
        if not isinstance(sdk_spans, bool):
            raise ValueError(f"sdk_spans={sdk_spans!r}: expected a bool")
        tracer = Tracer(self._telemetry(kwargs))
        for module_name, sync_name, async_name, method, api, helper in _METHODS:
            for class_name, is_async in ((sync_name, False), (async_name, True)):
                factory = make_stream_helper_wrapper if helper else make_wrapper
                self._patch(module_name, class_name, method, factory(tracer, api, is_async))
        if not sdk_spans:
            self._native.switch_off_in_traced_calls()

    def _uninstrument(self, **kwargs: Any) -> None:
        super()._uninstrument(**kwargs)
        self._native.restore()
