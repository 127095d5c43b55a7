"""Fixtures and readers for the decorator tests.

The decorators send spans to the *global* tracer provider, which OpenTelemetry lets a process
set only once. ``reset_global_tracer_provider`` does what ``opentelemetry.test.globals_test``'s
``reset_trace_globals`` does (that package is not installed), through ``monkeypatch``, so the
globals are put back as they were after each test. Each test module defines two thin
fixtures over :func:`fresh_state` and :func:`install_globally` (importing fixtures would
shadow names at every use). The bottom half is the matrix of every decorator over the four
kinds of function (plain, async, generator, async generator) the tests share.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.util._once import Once

import wikitrace_otel.decorators as wt
from wikitrace_otel._decorators import settings, tracer

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
MAX_SIZE = "WIKITRACE_GENAI_MAX_CONTENT_SIZE"


def reset_global_tracer_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    """No global tracer provider, as at start-up; the previous globals return after the test."""
    monkeypatch.setattr(trace_api, "_TRACER_PROVIDER_SET_ONCE", Once())
    monkeypatch.setattr(trace_api, "_TRACER_PROVIDER", None)
    monkeypatch.setattr(trace_api, "_PROXY_TRACER_PROVIDER", trace_api.ProxyTracerProvider())


def fresh_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No global provider, and the decorators' cached setting and tracer forgotten, before and after.

    Each test module wraps this in an autouse fixture (after ``clean_environment``).
    """
    reset_global_tracer_provider(monkeypatch)
    settings.configure()
    tracer.reset()
    yield
    settings.configure()
    tracer.reset()


def install_globally(provider: TracerProvider, exporter: InMemorySpanExporter) -> InMemorySpanExporter:
    """Install ``provider`` as the global one (undone by :func:`fresh_state`); returns ``exporter``."""
    trace_api.set_tracer_provider(provider)
    return exporter


def capture_content(monkeypatch: pytest.MonkeyPatch, value: str = "SPAN_ONLY", max_size: int | None = None) -> None:
    """Set the content-capture variables and make the decorators read them again."""
    monkeypatch.setenv(CAPTURE, value)
    if max_size is not None:
        monkeypatch.setenv(MAX_SIZE, str(max_size))
    settings.configure()


def as_dict(span: ReadableSpan) -> dict[str, Any]:
    """What a test compares: name, kind, attributes (tuples as lists), status."""
    return {
        "name": span.name,
        "kind": span.kind.name,
        "attributes": {k: list(v) if isinstance(v, tuple) else v for k, v in (span.attributes or {}).items()},
        "status": span.status.status_code.name,
    }


def by_name(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    """Finished spans by name (names must be unique)."""
    spans = exporter.get_finished_spans()
    found = {s.name: s for s in spans}
    assert len(found) == len(spans), [s.name for s in spans]
    return found


def parent_name(span: ReadableSpan, exporter: InMemorySpanExporter) -> str | None:
    """Name of the span's parent among the finished spans, None for a root."""
    if span.parent is None:
        return None
    for other in exporter.get_finished_spans():
        if other.context.span_id == span.parent.span_id:
            return other.name
    raise AssertionError(f"parent of {span.name} not exported")


# --- every decorator over every kind of function -------------------------------------

KINDS = ["sync", "async", "generator", "async_generator"]


# decorator, span name, attributes at start
DECORATED: dict[str, tuple[Any, str, dict[str, Any]]] = {
    "trace": (wt.trace(name="step", attributes={"app.step": 3}), "step", {"app.step": 3}),
    "tool": (
        wt.tool(name="lookup", description="Looks things up", type="datastore"),
        "execute_tool lookup",
        {
            "gen_ai.operation.name": "execute_tool",
            "gen_ai.tool.name": "lookup",
            "gen_ai.tool.type": "datastore",
            "gen_ai.tool.description": "Looks things up",
        },
    ),
    "agent": (
        wt.agent(name="Planner", description="Plans trips", version="2.1"),
        "invoke_agent Planner",
        {
            "gen_ai.operation.name": "invoke_agent",
            "gen_ai.agent.name": "Planner",
            "gen_ai.agent.description": "Plans trips",
            "gen_ai.agent.version": "2.1",
        },
    ),
    "retrieval": (
        wt.retrieval(data_source="kb-main"),
        "retrieval kb-main",
        {"gen_ai.operation.name": "retrieval", "gen_ai.data_source.id": "kb-main"},
    ),
    "workflow": (
        wt.workflow(name="pipeline"),
        "invoke_workflow pipeline",
        {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "pipeline"},
    ),
}


class Boom(Exception):  # noqa: N818 - short names keep the expected error.type readable
    """Raised by the functions under test."""


def make(
    kind: str, decorator: Callable[[Any], Any], fail: bool = False, seen: list[Any] | None = None
) -> Callable[..., Any]:
    """A function of ``kind`` doubling ``x`` (generators yield ``x`` then ``2 * x``).

    ``seen`` collects the current span at the start of each call.
    """
    note = seen.append if seen is not None else lambda span: None
    current = trace_api.get_current_span
    if kind == "sync":

        def fn(x: int) -> int:
            note(current())
            if fail:
                raise Boom("bad")
            return 2 * x
    elif kind == "async":

        async def fn(x: int) -> int:  # type: ignore[misc]
            note(current())
            await asyncio.sleep(0)
            if fail:
                raise Boom("bad")
            return 2 * x
    elif kind == "generator":

        def fn(x: int) -> Any:  # type: ignore[misc]
            note(current())
            yield x
            if fail:
                raise Boom("bad")
            yield 2 * x
    else:

        async def fn(x: int) -> Any:  # type: ignore[misc]
            note(current())
            yield x
            await asyncio.sleep(0)
            if fail:
                raise Boom("bad")
            yield 2 * x

    return decorator(fn)


async def run(kind: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` to the end, as its kind requires."""
    if kind == "sync":
        return fn(*args, **kwargs)
    if kind == "async":
        return await fn(*args, **kwargs)
    if kind == "generator":
        return list(fn(*args, **kwargs))
    return [item async for item in fn(*args, **kwargs)]


EXPECTED_RESULT = {"sync": 6, "async": 6, "generator": [3, 6], "async_generator": [3, 6]}
