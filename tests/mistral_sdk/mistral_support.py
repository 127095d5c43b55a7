"""Helpers of the Mistral SDK tests: the client class of either SDK layout, a sync/async
driver, an end counter."""

from __future__ import annotations

import importlib
import logging
from collections import Counter
from operator import attrgetter
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

MODEL = "mistral-small-fake"
EMBED_MODEL = "mistral-embed"
USER = [{"role": "user", "content": "Hello"}]
SCOPE = "wikitrace_otel.instrumentors.mistral"


def sdk_module(name: str) -> Any:
    """``mistralai.client.<name>`` (2.x on) or ``mistralai.<name>`` (1.x)."""
    try:
        return importlib.import_module(f"mistralai.client.{name}")
    except ImportError:
        return importlib.import_module(f"mistralai.{name}")


def mistral_class() -> type:
    """The SDK's ``Mistral`` client class."""
    try:
        return importlib.import_module("mistralai.client").Mistral  # type: ignore[no-any-return]
    except (ImportError, AttributeError):
        return importlib.import_module("mistralai").Mistral  # type: ignore[no-any-return]


def sdk_error_class() -> type:
    """The SDK's HTTP error class (``SDKError``, or its newer base)."""
    for name in ("client.errors", "models"):
        try:
            module = importlib.import_module(f"mistralai.{name}")
        except ImportError:
            continue
        return getattr(module, "MistralError", None) or module.SDKError  # type: ignore[no-any-return]
    raise ImportError("no mistralai error class")


class MistralSdk:
    """A client used through its sync or its async methods, behind one awaitable interface."""

    def __init__(self, client: Any, is_async: bool) -> None:
        self.client = client
        self.is_async = is_async

    def __repr__(self) -> str:
        return "async" if self.is_async else "sync"

    async def call(self, method: str, **kwargs: Any) -> Any:
        """``client.<method>(**kwargs)``, or ``<method>_async`` awaited."""
        if self.is_async:
            return await attrgetter(f"{method}_async")(self.client)(**kwargs)
        return attrgetter(method)(self.client)(**kwargs)

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
