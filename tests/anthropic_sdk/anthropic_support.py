"""Helpers of the Anthropic SDK tests: a sync/async driver, an end counter, common payloads."""

from __future__ import annotations

import logging
from collections import Counter
from operator import attrgetter
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

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


class AnthropicSdk:
    """A sync or async client behind one awaitable interface."""

    def __init__(self, client: Any, is_async: bool) -> None:
        self.client = client
        self.is_async = is_async

    def __repr__(self) -> str:
        return "async" if self.is_async else "sync"

    async def call(self, method: str, **kwargs: Any) -> Any:
        """``client.<method>(**kwargs)``, awaited for the async client."""
        result = attrgetter(method)(self.client)(**kwargs)
        return await result if self.is_async else result

    async def drain(self, stream: Any, limit: int | None = None) -> list[Any]:
        """Read ``stream`` to the end, or only ``limit`` items (then stop without closing)."""
        items: list[Any] = []
        if self.is_async:
            async for item in stream:
                items.append(item)
                if limit is not None and len(items) >= limit:
                    break
        else:
            for item in stream:
                items.append(item)
                if limit is not None and len(items) >= limit:
                    break
        return items

    async def close(self, stream: Any) -> None:
        result = stream.close()
        if self.is_async:
            await result


class EndCounter(SpanProcessor):
    """Counts ``on_end`` per span id; :meth:`check` asserts each span ended exactly once."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.WARNING, logger="opentelemetry")
        self.ends: Counter[int] = Counter()
        self.caplog = caplog

    def on_end(self, span: ReadableSpan) -> None:
        assert span.context is not None
        self.ends[span.context.span_id] += 1

    def check(self, exporter: InMemorySpanExporter, expected_spans: int = 1) -> None:
        spans = exporter.get_finished_spans()
        assert len(spans) == expected_spans, [s.name for s in spans]
        assert dict(self.ends) == {s.context.span_id: 1 for s in spans if s.context is not None}
        warnings = [r.getMessage() for r in self.caplog.records if r.name.startswith("opentelemetry")]
        assert warnings == []
