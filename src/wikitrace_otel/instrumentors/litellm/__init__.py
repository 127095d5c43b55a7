"""OpenTelemetry instrumentation of LiteLLM's SDK functions, following the GenAI conventions.

Usage::

    from wikitrace_otel.instrumentors.litellm import LiteLLMInstrumentor

    LiteLLMInstrumentor().instrument()           # global providers
    LiteLLMInstrumentor().instrument(
        tracer_provider=tp, meter_provider=mp,   # or explicit ones
        logger_provider=lp,                      # for content events
        capture_content="SPAN_ONLY",
    )
    ...
    LiteLLMInstrumentor().uninstrument()         # restores LiteLLM exactly

``wikitrace_otel.install()`` and ``opentelemetry-instrument python app.py`` (entry point
``litellm`` in ``opentelemetry_instrumentor``) pick it up when LiteLLM is installed.

What is traced: ``litellm.completion`` and ``litellm.acompletion`` (span ``chat {model}``,
plain and ``stream=True``) and ``litellm.embedding`` / ``litellm.aembedding`` (span
``embeddings {model}``), and so everything that calls them through the ``litellm`` module,
such as ``litellm.Router``. The functions are wrapped on the ``litellm`` module: a name
imported before instrumenting (``from litellm import completion``) stays untraced.

**One span per call.** LiteLLM reaches some providers through their own SDKs (``openai/...``
and most OpenAI-compatible providers go through the ``openai`` SDK) and others through its own
HTTP code (``anthropic/...``, ``vertex_ai/...``, ``bedrock/...``). Each call runs inside a
:func:`wikitrace_otel.model_call` scope:

- when one of our provider instrumentors traced the request (the OpenAI instrumentor, say),
  that span is the call's only span. It nests under your own span and carries the provider's
  full attributes; LiteLLM adds none;
- otherwise, this instrumentor emits LiteLLM's own CLIENT span when the call returns, with the
  start time of the call (so its duration is the call's). Being created afterwards, it is not
  the current span while LiteLLM sends, so HTTP client spans of that request are its siblings.

**Provider name** (``gen_ai.provider.name``): ``custom_llm_provider=`` when given, else the
``provider/`` prefix of the model when LiteLLM knows it, else the provider LiteLLM infers from
the bare model name. LiteLLM's names map to the conventions' (``openai``, ``anthropic``,
``azure`` → ``azure.ai.openai``, ``azure_ai`` → ``azure.ai.inference``, ``vertex_ai`` →
``gcp.vertex_ai``, ``gemini`` → ``gcp.gemini``, ``bedrock`` → ``aws.bedrock``, ``mistral`` →
``mistral_ai``, ``xai`` → ``x_ai``, ``watsonx`` → ``ibm.watsonx.ai``, ``moonshot`` →
``moonshot_ai``, ``hosted_vllm`` → ``vllm``, ``ollama_chat`` → ``ollama``); others are kept
(``groq``, ``deepseek``, ``openrouter``, ``together_ai``...). ``gen_ai.request.model`` is the
model without the provider prefix (what the provider is asked for: ``anthropic/claude-x`` →
``claude-x``; ``openrouter/openai/gpt-4o`` → ``openai/gpt-4o``). ``server.address`` /
``server.port`` come from ``api_base`` when the call passes one.

**Attributes**: ``temperature``, ``top_p``, ``top_k``, ``max_tokens`` / ``max_completion_tokens``,
``stop``, ``seed``, the penalties, ``n`` (when not 1), ``stream``, ``reasoning_effort``
(``gen_ai.request.reasoning.level``) and JSON ``response_format`` (``gen_ai.output.type=json``);
for embeddings ``dimensions`` and ``encoding_format``. The response id and model, one finish
reason per choice, and usage from LiteLLM's normalised ``usage``: ``prompt_tokens`` (cached input
included, for Anthropic too), ``completion_tokens``, cache reads
(``prompt_tokens_details.cached_tokens``), cache writes (``cache_creation_input_tokens``) and
reasoning tokens. LiteLLM reports zeros for counts a provider does not report, so cache and
reasoning counts are set only when above zero. A stream reports usage only when the call asks
for it (``stream_options={"include_usage": True}``). Cost is added from these counts like on
every span (genai-prices, not LiteLLM's own price map). Failures set ``error.type`` from
LiteLLM's exception (its HTTP status code, else its class name).

**Streams**: ``stream=True`` returns LiteLLM's ``CustomStreamWrapper`` behind a proxy; the span
ends exactly once on exhaustion, ``break`` inside ``with``, ``close()``, an error or garbage
collection. A stream cut short reports the finish reason ``error``.

**Content** (``capture_content`` on): ``gen_ai.input.messages``, ``gen_ai.tool.definitions``
and ``gen_ai.output.messages`` in the conventions' schema (LiteLLM's messages are OpenAI's).

**Budgets** (``wikitrace_otel.budget()``, budget rules): a call a spent budget refuses raises
``BudgetExceeded`` before LiteLLM sends anything, whichever way LiteLLM reaches the provider.

Keyword arguments of ``instrument()`` (each falls back to its environment variable, see
:mod:`wikitrace_otel.environment_variables`): ``capture_content``, ``max_content_size``,
``legacy_semconv``, ``tracer_provider``, ``meter_provider``, ``logger_provider``.

LiteLLM is imported only when ``instrument()`` runs (importing it takes seconds and it reads
its model price map on import: set ``LITELLM_LOCAL_MODEL_COST_MAP=True`` to keep it off the
network). A function an installed release lacks is skipped with a debug log; the others are
still traced. Supported: ``litellm`` 1.80 to 1.x.
"""

from __future__ import annotations

import sys
from typing import Any

from wrapt import register_post_import_hook

from wikitrace_otel._genai.instrumentor import PatchingInstrumentor
from wikitrace_otel.instrumentors.litellm import apis
from wikitrace_otel.instrumentors.litellm.package import _instruments
from wikitrace_otel.instrumentors.litellm.patch import Tracer, make_wrapper
from wikitrace_otel.instrumentors.litellm.providers import Router

__all__ = ["LiteLLMInstrumentor"]


# (function on the litellm module, API, is async)
_FUNCTIONS: tuple[tuple[str, apis.Api, bool], ...] = (
    ("completion", apis.CHAT, False),
    ("acompletion", apis.CHAT, True),
    ("embedding", apis.EMBEDDINGS, False),
    ("aembedding", apis.EMBEDDINGS, True),
)


class LiteLLMInstrumentor(PatchingInstrumentor):
    """Traces LiteLLM's SDK functions; see the module documentation for what and how."""

    _name = "litellm"
    _scope = "wikitrace_otel.instrumentors.litellm"
    _dependencies = _instruments

    def __init__(self) -> None:
        super().__init__()
        if not hasattr(self, "_generation"):  # a singleton: keep the state of the first handle
            self._generation = 0

    def _instrument(self, **kwargs: Any) -> None:
        telemetry = self._telemetry(kwargs)
        self._generation += 1
        generation = self._generation

        def wrap(litellm: Any) -> None:
            if generation != self._generation:
                return  # uninstrumented (or instrumented again) before litellm was imported
            tracer = Tracer(telemetry, Router(litellm))
            for name, api, is_async in _FUNCTIONS:
                self._wrap(litellm, name, make_wrapper(tracer, api, is_async), f"litellm.{name}")

        # Importing litellm takes seconds: an application that has it installed but never
        # imports it must not pay for that at install() time, so wrap when it is imported.
        module = sys.modules.get("litellm")
        if module is not None:
            wrap(module)
        else:
            register_post_import_hook(wrap, "litellm")

    def _uninstrument(self, **kwargs: Any) -> None:
        self._generation += 1
        super()._uninstrument(**kwargs)
