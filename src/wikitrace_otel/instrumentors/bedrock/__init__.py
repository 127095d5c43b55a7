"""OpenTelemetry instrumentation of AWS Bedrock Runtime through ``boto3`` / ``botocore`` and the
asynchronous ``aiobotocore``, following the GenAI conventions.

Usage::

    from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor

    BedrockInstrumentor().instrument()           # global providers
    BedrockInstrumentor().instrument(
        tracer_provider=tp, meter_provider=mp,   # or explicit ones
        logger_provider=lp,                      # for content events
        capture_content="SPAN_ONLY",
    )
    client = boto3.client("bedrock-runtime")     # clients made before instrument() work too
    client.converse(modelId=..., messages=...)
    async with AioSession().create_client("bedrock-runtime") as aio:
        await aio.converse(modelId=..., messages=...)   # aiobotocore: traced the same way
    ...
    BedrockInstrumentor().uninstrument()         # restores botocore and aiobotocore exactly

``wikitrace_otel.install()`` and ``opentelemetry-instrument python app.py`` (entry point
``bedrock`` in ``opentelemetry_instrumentor``) pick it up when botocore is installed.

What is traced, for every ``bedrock-runtime`` client (``gen_ai.provider.name`` ``aws.bedrock``;
a gateway in front of it can be renamed with ``provider_hosts``):

- ``converse`` and ``converse_stream``: span ``chat {modelId}``, any model family;
- ``invoke_model`` and ``invoke_model_with_response_stream``: span ``chat {modelId}`` for the
  chat families (Anthropic messages, Amazon Nova and Titan text, Meta Llama, Mistral, Cohere
  command, OpenAI-style bodies such as gpt-oss and DeepSeek), ``embeddings {modelId}`` for
  Titan and Cohere embedding models.

Other operations (``apply_guardrail``, ``count_tokens``, ``start_async_invoke``) and other AWS
services are not traced.

``gen_ai.request.model`` is the ``modelId`` as given: a base id
(``anthropic.claude-3-5-sonnet-20240620-v1:0``), a cross-region profile (``us.anthropic...``)
or an ARN. The family of an ``invoke_model`` body is taken from the model's vendor (the id
without its ARN wrapper and region prefix), and for ARNs that name no model from the body's
shape. Cost uses the Bedrock price of the id; ids genai-prices lists only under the vendor
(``mistral.mistral-large-2407-v1:0``, ``cohere.command-r-plus-v1:0``) get the vendor's price.

One CLIENT span per call, covering botocore's retries and the whole stream. Streams: the
``stream`` (Converse) or ``body`` (``invoke_model_with_response_stream``) of the answer is the
botocore ``EventStream`` behind a proxy that behaves like it; the span ends exactly once, on
exhaustion, ``close()``, ``break`` then ``close()``, an error event or a broken connection, or
when the stream is garbage-collected; a stream cut short reports the finish reason ``error``.
``invoke_model``'s ``body`` is read for its usage and handed back as an identical unread
``StreamingBody``.

Attributes: ``inferenceConfig`` (``maxTokens``, ``temperature``, ``topP``, ``stopSequences``)
and ``additionalModelRequestFields.top_k`` for Converse, each family's own parameters for
``invoke_model`` (see :mod:`.invoke`); the stop reason as the finish reason; usage. Converse's
``inputTokens`` (like Anthropic's ``input_tokens``) leaves out the prompt cache, so
``gen_ai.usage.input_tokens = inputTokens + cacheReadInputTokens + cacheWriteInputTokens``,
and the cache counts also go to ``gen_ai.usage.cache_read.input_tokens`` /
``cache_write.input_tokens``. For ``invoke_model`` each family's usage fields are read, then
Bedrock's ``x-amzn-bedrock-input-token-count`` / ``-output-token-count`` headers or the
stream's ``amazon-bedrock-invocationMetrics``. Failures set ``error.type`` to the AWS error code
(``ThrottlingException``, ``ValidationException``, ``modelStreamErrorException``...).

With content capture on: ``gen_ai.input.messages``, ``gen_ai.system_instructions``,
``gen_ai.tool.definitions`` and ``gen_ai.output.messages``; Converse blocks map ``text`` →
``text``, ``reasoningContent`` → ``reasoning``, ``toolUse`` → ``tool_call``, ``toolResult`` →
``tool_call_response``, images and documents → ``blob`` (base64) or ``uri`` (S3). Prompt-style
bodies (Titan, Llama, Mistral, Cohere) become one user message. Streamed ``invoke_model``
output is gathered as text.

Keyword arguments of ``instrument()`` (each falls back to its environment variable, see
:mod:`wikitrace_otel.environment_variables`): ``capture_content``, ``max_content_size``,
``legacy_semconv``, ``provider_hosts``, as for the other instrumentors.

Asynchronous clients (``aiobotocore``; see :mod:`.aio`): the same spans, attributes, metrics
and content. ``converse_stream`` / ``invoke_model_with_response_stream`` answers hold the
``AioEventStream`` behind a proxy read with ``async for``; its span ends exactly once, on
exhaustion, ``close()`` (synchronous, as aiobotocore's) or ``await aclose()``, an error event, a
broken connection, or garbage collection. ``invoke_model``'s body is awaited for its usage and
handed back as a body of aiobotocore's own class over the same bytes, unread; an error while
reading it is raised from ``invoke_model``.

botocore is wrapped at one place, ``botocore.client.BaseClient._make_api_call``, which every
client of every service calls, and aiobotocore at its twin ``AioBaseClient._make_api_call``;
calls of other services pass through after one lookup. aiobotocore is wrapped when the
application imports it (at once if it already has): ``instrument()`` never imports it, and
without it boto3 is traced as before. An operation that an installed botocore release lacks is
simply never called. Supported: boto3 1.35 to 1.x (the oldest release has no cache counts in
Converse's usage); aiobotocore 3.0 to 3.x (older releases need wrapt < 2). aioboto3 clients are
aiobotocore clients, but no aioboto3 release installs next to wrapt 2 yet. The declared
dependency is botocore (which boto3 and aiobotocore both bring), so an application with
aiobotocore and no boto3 is instrumented by ``install()`` and ``opentelemetry-instrument`` too.
"""

from __future__ import annotations

import sys
from typing import Any

from wrapt import register_post_import_hook

from wikitrace_otel._genai.instrumentor import PatchingInstrumentor
from wikitrace_otel.instrumentors.bedrock import apis
from wikitrace_otel.instrumentors.bedrock.aio import make_async_wrapper
from wikitrace_otel.instrumentors.bedrock.package import _instruments
from wikitrace_otel.instrumentors.bedrock.patch import Tracer, make_wrapper

__all__ = ["BedrockInstrumentor"]


# (module, class, method) wrapped: the one place every botocore client sends its calls.
_TARGETS: tuple[tuple[str, str, str], ...] = (("botocore.client", "BaseClient", "_make_api_call"),)
# The same for aiobotocore's clients (and aioboto3's, built on them), wrapped once aiobotocore is imported.
_ASYNC_TARGETS: tuple[tuple[str, str, str], ...] = (("aiobotocore.client", "AioBaseClient", "_make_api_call"),)

# Bedrock Runtime operation name (as botocore's service model spells it) -> how it is traced.
OPERATIONS: dict[str, apis.Api] = {
    "Converse": apis.CONVERSE,
    "ConverseStream": apis.CONVERSE_STREAM,
    "InvokeModel": apis.INVOKE_MODEL,
    "InvokeModelWithResponseStream": apis.INVOKE_MODEL_STREAM,
}


class BedrockInstrumentor(PatchingInstrumentor):
    """Traces AWS Bedrock Runtime calls made with boto3 or aiobotocore; see the module documentation."""

    _name = "bedrock"
    _scope = "wikitrace_otel.instrumentors.bedrock"
    _dependencies = _instruments

    def _instrument(self, **kwargs: Any) -> None:
        tracer = Tracer(self._telemetry(kwargs), dict(OPERATIONS))
        for module_name, class_name, method in _TARGETS:
            self._patch(module_name, class_name, method, make_wrapper(tracer))
        for target in _ASYNC_TARGETS:
            self._patch_when_imported(target, tracer)

    def _patch_when_imported(self, target: tuple[str, str, str], tracer: Tracer) -> None:
        """Wrap an aiobotocore class once its module is imported (now, if it is already).

        Importing aiobotocore brings in aiohttp (0.1 s or more): an application that has it
        installed but only uses boto3 must not pay for it at instrument() time.
        """
        module_name, class_name, method = target
        live = self._live  # turned off by uninstrument(), even before the module is imported

        def patch(_module: Any) -> None:
            if not live[0]:
                return
            try:
                self._patch(module_name, class_name, method, make_async_wrapper(tracer))
            except Exception as exc:  # noqa: BLE001 - runs inside the application's import: never fail it
                self._logger.warning("%s: not tracing %s.%s.%s: %r", self._name, module_name, class_name, method, exc)

        module = sys.modules.get(module_name)
        if module is not None:
            patch(module)
        else:
            register_post_import_hook(patch, module_name)
