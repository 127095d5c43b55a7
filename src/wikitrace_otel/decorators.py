"""Spans for your own code: functions, tools, agents, retrieval steps, workflows and blocks.

Usage::

    import wikitrace_otel

    @wikitrace_otel.tool(description="Current weather for a city")
    def get_weather(city: str) -> dict: ...

    @wikitrace_otel.retrieval(data_source="kb-main")
    async def search(query: str) -> list[str]: ...

    @wikitrace_otel.agent(name="Planner", version="2")
    async def plan(goal: str) -> str:
        with wikitrace_otel.span("choose tools", attributes={"step": 1}) as span:
            ...
        with wikitrace_otel.tool_call_id(call.id):   # from the model's tool call
            get_weather(**call.arguments)

    @wikitrace_otel.trace                       # or @trace(name="...", kind=SpanKind.SERVER)
    def handle(request): ...

What each one records (all spans INTERNAL unless ``kind`` says otherwise; attributes are set
at span start, so samplers see them):

- ``@trace``: a span named after the function's ``__qualname__`` (or ``name``), with your
  ``attributes``.
- ``@tool``: ``execute_tool {name}`` with ``gen_ai.operation.name=execute_tool``,
  ``gen_ai.tool.name``, ``gen_ai.tool.description``, ``gen_ai.tool.type`` and, when known,
  ``gen_ai.tool.call.id``.
- ``@agent``: ``invoke_agent {name}`` (``invoke_agent`` without a name) with
  ``gen_ai.operation.name=invoke_agent``, ``gen_ai.agent.name`` / ``.description`` / ``.version``.
- ``@retrieval``: ``retrieval {data_source}`` with ``gen_ai.operation.name=retrieval`` and
  ``gen_ai.data_source.id``.
- ``@workflow``: ``invoke_workflow {name}`` with ``gen_ai.operation.name=invoke_workflow`` and
  ``gen_ai.workflow.name``.
- ``with span(name)``: a span named ``name`` with your ``attributes``, around a block.

Details:

- **Any kind of function.** Plain and ``async`` functions, generators and async generators,
  methods, ``classmethod`` and ``staticmethod`` (either order of stacking). The wrapper is
  the same kind of function as the original (``inspect.iscoroutinefunction`` and friends agree),
  and keeps its name, docstring and signature.
- **Generators.** The span covers the whole iteration, from the first ``next()`` until the
  generator is exhausted, closed (``close()``/``aclose()``, ``break`` out of a ``with
  closing(...)``), fails, or is garbage-collected unfinished; it ends exactly once. It is the
  current span while the generator's own code runs, not while yours runs between items.
  Arguments that do not fit the signature raise at the first ``next()``, not at the call.
- **Nesting.** The span is current while the function runs, so LLM calls, tools and other
  decorated functions inside it become its children.
- **Errors.** An exception leaving the function sets status ERROR, ``error.type`` (the
  exception's qualified class name, or the provider's error code) and an exception event, and
  is re-raised unchanged. As with OpenTelemetry's ``use_span``, only ``Exception`` subclasses
  are errors: closing a generator early, ``KeyboardInterrupt`` or ``asyncio.CancelledError``
  end the span without error status.
- **Content capture** (opt-in, like the instrumentors): with
  ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY`` (or ``SPAN_AND_EVENT``) the
  arguments (by parameter name, ``self``/``cls`` left out, ``**kwargs`` flattened) and the
  return value are recorded as JSON, at most ``WIKITRACE_GENAI_MAX_CONTENT_SIZE`` bytes each
  (``wikitrace.content.truncated=true`` marks a shortened one): ``gen_ai.tool.call.arguments`` /
  ``gen_ai.tool.call.result`` on tool spans (a result that is JSON text is parsed),
  ``wikitrace.function.arguments`` / ``wikitrace.function.result`` on the others. A generator's
  result is the list of its yielded items. The setting is read at the first traced call and
  kept; ``wikitrace_otel._decorators.settings.configure()`` re-reads it.
- **Tool call ids.** ``gen_ai.tool.call.id`` comes from ``with tool_call_id("call_..."):``
  around the call (it goes to the first tool span started inside), or else from a parameter
  of the tool function named ``tool_call_id``. The decorators never take arguments away from
  your function. You can also set it yourself:
  ``opentelemetry.trace.get_current_span().set_attribute("gen_ai.tool.call.id", ...)``.
- **Cost.** Spans go to the global tracer provider, looked up at each call, so a provider
  installed after decoration is used. With none installed (or a no-op one) a decorated call
  does one global read and calls your function: no span, no context change, no argument
  handling (``bench/decorators.py`` measures it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from wikitrace_otel._decorators import spec as specs
from wikitrace_otel._decorators.call import tool_call_id
from wikitrace_otel._decorators.scope import SpanScope
from wikitrace_otel._decorators.wrappers import SpecFactory, decorate

__all__ = ["agent", "retrieval", "span", "tool", "tool_call_id", "trace", "workflow"]

F = TypeVar("F", bound=Callable[..., Any])


@overload
def trace(name: F) -> F: ...
@overload
def trace(
    name: str | None = None, *, kind: SpanKind = ..., attributes: Mapping[str, AttributeValue] | None = ...
) -> Callable[[F], F]: ...
def trace(
    name: Any = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Any:
    """Trace each call of a function as one span (a "function" or "chain" span).

    Usable bare (``@trace``) or with arguments (``@trace("load", kind=SpanKind.CONSUMER)``).

    Args:
        name: span name; defaults to the function's ``__qualname__`` (``Class.method``).
        kind: span kind.
        attributes: attributes set at span start.

    Returns:
        The wrapped function, or a decorator when called with arguments.
    """
    if _is_target(name):
        return trace()(name)
    _check_name("trace", name)
    if not isinstance(kind, SpanKind):
        raise TypeError(f"trace(kind={kind!r}): expected an opentelemetry.trace.SpanKind")
    return _decorator(lambda fn: specs.trace_spec(fn, name, kind, attributes))


@overload
def tool(name: F) -> F: ...
@overload
def tool(name: str | None = None, *, description: str | None = ..., type: str = ...) -> Callable[[F], F]: ...
def tool(name: Any = None, *, description: str | None = None, type: str = "function") -> Any:
    """Trace each call of a tool function as an ``execute_tool {name}`` INTERNAL span.

    Args:
        name: ``gen_ai.tool.name``; defaults to the function's ``__name__``.
        description: ``gen_ai.tool.description``; defaults to the first paragraph of the
            docstring (pass ``""`` for none).
        type: ``gen_ai.tool.type``: ``function`` (run by the application), ``extension``
            (calls an external API for the agent) or ``datastore`` (reads data).

    Returns:
        The wrapped function, or a decorator when called with arguments.
    """
    if _is_target(name):
        return tool()(name)
    _check_name("tool", name)
    _check_text("tool", "description", description)
    if not isinstance(type, str) or not type:
        raise ValueError(f"tool(type={type!r}): expected a non-empty str such as 'function'")
    return _decorator(lambda fn: specs.tool_spec(fn, name, description, type))


@overload
def agent(name: F) -> F: ...
@overload
def agent(name: str | None = None, *, description: str | None = ..., version: str | None = ...) -> Callable[[F], F]: ...
def agent(name: Any = None, *, description: str | None = None, version: str | None = None) -> Any:
    """Trace each call of a function that runs an agent in-process: ``invoke_agent {name}``.

    Args:
        name: ``gen_ai.agent.name``; without it the span is named ``invoke_agent``.
        description: ``gen_ai.agent.description``.
        version: ``gen_ai.agent.version``.

    Returns:
        The wrapped function, or a decorator when called with arguments.
    """
    if _is_target(name):
        return agent()(name)
    _check_name("agent", name)
    _check_text("agent", "description", description)
    _check_text("agent", "version", version)
    made = specs.agent_spec(name, description, version)
    return _decorator(lambda fn: made)


@overload
def retrieval(data_source: F) -> F: ...
@overload
def retrieval(data_source: str | None = None) -> Callable[[F], F]: ...
def retrieval(data_source: Any = None) -> Any:
    """Trace each call of a retrieval step (vector search, document lookup): ``retrieval {data_source}``.

    Args:
        data_source: ``gen_ai.data_source.id``, the identifier of the store searched; without
            it the span is named ``retrieval``.

    Returns:
        The wrapped function, or a decorator when called with arguments.
    """
    if _is_target(data_source):
        return retrieval()(data_source)
    _check_text("retrieval", "data_source", data_source)
    made = specs.retrieval_spec(data_source)
    return _decorator(lambda fn: made)


@overload
def workflow(name: F) -> F: ...
@overload
def workflow(name: str | None = None) -> Callable[[F], F]: ...
def workflow(name: Any = None) -> Any:
    """Trace each call of a function that coordinates several agents: ``invoke_workflow {name}``.

    Args:
        name: ``gen_ai.workflow.name``; without it the span is named ``invoke_workflow``.

    Returns:
        The wrapped function, or a decorator when called with arguments.
    """
    if _is_target(name):
        return workflow()(name)
    _check_name("workflow", name)
    made = specs.workflow_spec(name)
    return _decorator(lambda fn: made)


def span(
    name: str, *, attributes: Mapping[str, AttributeValue] | None = None, kind: SpanKind = SpanKind.INTERNAL
) -> SpanScope:
    """A span around a block: ``with span("rerank") as s:`` or ``async with span(...)``.

    The span is current inside the block and ends when the block is left; an exception leaving
    the block is recorded and propagates unchanged. With no tracer provider installed, the
    block gets the shared non-recording span (``set_attribute`` and friends do nothing).

    Args:
        name: span name.
        attributes: attributes set at span start.
        kind: span kind.

    Returns:
        A context manager (sync and async) whose value is the OpenTelemetry ``Span``.
    """
    return SpanScope(name, attributes, kind)


def _decorator(make_spec: SpecFactory) -> Callable[[F], F]:
    def apply(fn: F) -> F:
        return decorate(fn, make_spec)

    return apply


def _is_target(value: object) -> bool:
    # Bare use (``@tool``) passes the function where the name would go.
    return callable(value) or isinstance(value, (classmethod, staticmethod))


def _check_name(decorator: str, name: object) -> None:
    if name is not None and not isinstance(name, str):
        raise TypeError(f"{decorator}({name!r}): expected a function or a str name")
    if name == "":
        raise ValueError(f"{decorator}(''): the name must not be empty")


def _check_text(decorator: str, argument: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{decorator}({argument}={value!r}): expected a str")
