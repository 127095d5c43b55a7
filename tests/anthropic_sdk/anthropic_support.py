"""Helpers of the Anthropic SDK tests: a sync/async driver, common payloads."""

from __future__ import annotations

from typing import Any

from sdk_support import SdkDriver
from wikitrace_otel.testing.fake_anthropic import payloads

MODEL = "claude-fake-1"
USER = [{"role": "user", "content": "Hello"}]
SCOPE = "wikitrace_otel.instrumentors.anthropic"
SDK_SCOPE = "com.anthropic.sdk.python"


def rich_message() -> dict[str, Any]:
    """An answer with thinking, text and a tool call, and usage with cache and thinking tokens."""
    return payloads.message(
        MODEL,
        [
            payloads.thinking_block("Weather needs a tool."),
            payloads.text_block("Let me check the weather."),
            payloads.tool_use_block("toolu_1", "get_weather", {"city": "Paris", "unit": "c"}),
        ],
        stop_reason="tool_use",
        usage_body=payloads.usage(5, 40, cache_read=100, cache_write=20, thinking_tokens=12),
        message_id="msg_rich",
    )


def rich_attributes() -> dict[str, Any]:
    """The response attributes :func:`rich_message` gives a span."""
    return {
        "gen_ai.response.id": "msg_rich",
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ["tool_use"],
        "gen_ai.usage.input_tokens": 125,
        "gen_ai.usage.cache_read.input_tokens": 100,
        "gen_ai.usage.cache_write.input_tokens": 20,
        "gen_ai.usage.output_tokens": 40,
        "gen_ai.usage.reasoning.output_tokens": 12,
    }


class AnthropicSdk(SdkDriver):
    """An ``Anthropic`` or ``AsyncAnthropic`` client behind one awaitable interface."""
