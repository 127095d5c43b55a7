"""Environment variables read by wikitrace-otel.

Each constant's value is the variable's name. Explicit arguments win over these; these win
over the defaults. The module is registered in the ``opentelemetry_environment_variables``
entry-point group so ``opentelemetry-instrument`` lists them.
"""

from __future__ import annotations

from typing import Final

OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""Where prompt and completion content goes: ``NO_CONTENT`` (default), ``SPAN_ONLY``,
``EVENT_ONLY`` or ``SPAN_AND_EVENT``, case-insensitive. Any other value (``true`` and
``false`` included) fails closed to ``NO_CONTENT`` with one warning."""

WIKITRACE_GENAI_MAX_CONTENT_SIZE: Final = "WIKITRACE_GENAI_MAX_CONTENT_SIZE"
"""Largest captured content attribute, in bytes of JSON (default 65536, minimum 256). Longer
content is shortened field by field so the attribute stays valid JSON."""

WIKITRACE_SEMCONV_LEGACY: Final = "WIKITRACE_SEMCONV_LEGACY"
"""``true`` also emits the older names most backends still read: the
``gen_ai.client.token.usage`` histogram, ``gen_ai.client.operation.duration`` for inference,
``gen_ai.usage.cache_creation.input_tokens`` and ``gen_ai.system``. Default ``false``."""

WIKITRACE_OPENAI_INCLUDE_USAGE: Final = "WIKITRACE_OPENAI_INCLUDE_USAGE"
"""``true`` asks OpenAI for token usage on streamed chat and legacy completions by adding
``stream_options={"include_usage": true}`` when the caller set no ``stream_options``. The
stream then carries one extra, choice-less chunk at the end. Default ``false``."""

WIKITRACE_GENAI_PROVIDER_HOSTS: Final = "WIKITRACE_GENAI_PROVIDER_HOSTS"
"""Extra ``host[:port]=provider`` pairs, comma-separated, naming the provider behind a base
URL the built-in table does not know (a gateway, a self-hosted server), e.g.
``llm.internal:8443=openai,10.0.0.5=vllm``."""

WIKITRACE_DIR: Final = "WIKITRACE_DIR"
"""Directory of the local span store (default ``./.wikitrace``), used by ``install()`` and the
zero-code configurator when no exporter is configured."""

WIKITRACE_PRICES: Final = "WIKITRACE_PRICES"
"""A JSON or TOML file of per-model price overrides, in USD per million tokens, e.g.
``{"my-model": {"input": 0.5, "output": 1.5, "cache_read": 0.05}}``; keys are a model name
or ``provider/model``."""

WIKITRACE_RAISE_INTERNAL_ERRORS: Final = "WIKITRACE_RAISE_INTERNAL_ERRORS"
"""``true`` re-raises wikitrace-otel's own internal errors instead of logging them. For the
project's test suite; never set it in production."""

WIKITRACE_SLACK_WEBHOOK: Final = "WIKITRACE_SLACK_WEBHOOK"
"""A Slack incoming-webhook URL: ``install()`` and the zero-code configurator send alerts
(budgets crossing their limit or warning threshold, error rates, slow calls) there."""

WIKITRACE_ALERT_WEBHOOK: Final = "WIKITRACE_ALERT_WEBHOOK"
"""A URL that receives each alert as a JSON ``POST`` (see ``wikitrace_otel.alerts``)."""

WIKITRACE_ALERT_SECRET: Final = "WIKITRACE_ALERT_SECRET"
"""A shared secret: alerts are then signed with HMAC-SHA256 in the
``X-Wikitrace-Signature`` header (over ``<timestamp>.<body>``, timestamp in
``X-Wikitrace-Timestamp``)."""
