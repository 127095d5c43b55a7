"""What each decorator puts on its span: name, kind and the attributes known at decoration.

A :class:`SpanSpec` is built once per decorated function, so a call only copies references.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import wikitrace as w

TOOL_CALL_ID_PARAMETER: Final = "tool_call_id"
"""A tool function's parameter of this name supplies ``gen_ai.tool.call.id``."""


@dataclass(frozen=True)
class SpanSpec:
    """The fixed part of one decorated function's spans.

    Attributes:
        name: span name.
        kind: span kind.
        attributes: passed at span start, so samplers see them.
        arguments_key / result_key: where captured arguments and results go.
        tool: an ``execute_tool`` span: takes a tool call id, parses JSON text results.
    """

    name: str
    kind: SpanKind = SpanKind.INTERNAL
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    arguments_key: str = w.WIKITRACE_FUNCTION_ARGUMENTS
    result_key: str = w.WIKITRACE_FUNCTION_RESULT
    tool: bool = False


def function_name(fn: Callable[..., Any]) -> str:
    """The qualified name of a function (``Class.method``), or the best name it has."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return name if isinstance(name, str) and name else type(fn).__qualname__


def trace_spec(
    fn: Callable[..., Any], name: str | None, kind: SpanKind, attributes: Mapping[str, AttributeValue] | None
) -> SpanSpec:
    """A plain function span named ``name`` or the function's qualified name."""
    return SpanSpec(name=name or function_name(fn), kind=kind, attributes=dict(attributes or {}))


def tool_spec(fn: Callable[..., Any], name: str | None, description: str | None, tool_type: str) -> SpanSpec:
    """``execute_tool {name}``; the name defaults to the function's, the description to its docstring summary."""
    name = name or getattr(fn, "__name__", None) or function_name(fn)
    description = description if description is not None else docstring_summary(fn)
    attributes: dict[str, AttributeValue] = {
        g.GEN_AI_OPERATION_NAME: g.Operation.EXECUTE_TOOL.value,
        g.GEN_AI_TOOL_NAME: name,
        g.GEN_AI_TOOL_TYPE: tool_type,
    }
    if description:
        attributes[g.GEN_AI_TOOL_DESCRIPTION] = description
    return SpanSpec(
        name=f"{g.Operation.EXECUTE_TOOL.value} {name}",
        attributes=attributes,
        arguments_key=g.GEN_AI_TOOL_CALL_ARGUMENTS,
        result_key=g.GEN_AI_TOOL_CALL_RESULT,
        tool=True,
    )


def agent_spec(name: str | None, description: str | None, version: str | None) -> SpanSpec:
    """``invoke_agent {name}``, or ``invoke_agent`` without a name."""
    return _operation_spec(
        g.Operation.INVOKE_AGENT.value,
        name,
        {g.GEN_AI_AGENT_NAME: name, g.GEN_AI_AGENT_DESCRIPTION: description, g.GEN_AI_AGENT_VERSION: version},
    )


def retrieval_spec(data_source: str | None) -> SpanSpec:
    """``retrieval {data_source}``, or ``retrieval`` without a data source."""
    return _operation_spec(g.Operation.RETRIEVAL.value, data_source, {g.GEN_AI_DATA_SOURCE_ID: data_source})


def workflow_spec(name: str | None) -> SpanSpec:
    """``invoke_workflow {name}``, or ``invoke_workflow`` without a name."""
    return _operation_spec(g.Operation.INVOKE_WORKFLOW.value, name, {g.GEN_AI_WORKFLOW_NAME: name})


def _operation_spec(operation: str, name: str | None, optional: Mapping[str, str | None]) -> SpanSpec:
    """A GenAI operation span named ``{operation} {name}``, with the optional attributes that are set."""
    attributes: dict[str, AttributeValue] = {g.GEN_AI_OPERATION_NAME: operation}
    attributes.update({key: value for key, value in optional.items() if value})
    return SpanSpec(name=_named(operation, name), attributes=attributes)


def docstring_summary(fn: Callable[..., Any]) -> str | None:
    """The first paragraph of a function's docstring on one line, or None."""
    doc = inspect.getdoc(fn)
    if not doc:
        return None
    return " ".join(doc.split("\n\n", 1)[0].split()) or None


def _named(operation: str, name: str | None) -> str:
    return f"{operation} {name}" if name else operation
