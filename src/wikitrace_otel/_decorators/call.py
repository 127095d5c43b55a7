"""One traced call: its span from start to a single end, and what content it records.

:func:`begin` is the only entry point. It returns None when no tracer records (the caller
then just calls the function) or when wikitrace-otel itself fails (reported, never raised to
the caller). A :class:`Call` ends exactly once, whichever path gets there first.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any, Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from wikitrace_otel._decorators.arguments import MAX_ITEMS, Binder, json_safe
from wikitrace_otel._decorators.settings import content_limit
from wikitrace_otel._decorators.spec import TOOL_CALL_ID_PARAMETER, SpanSpec
from wikitrace_otel._decorators.tracer import current_tracer
from wikitrace_otel._genai.content import capped_json, parse_arguments
from wikitrace_otel._genai.errors import error_type, internal_errors, report_internal_error
from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import wikitrace as w

NO_RESULT: Final = object()
"""Passed to :meth:`Call.end` when there is no return value to record."""

# A one-item list: the first tool span started inside the block takes (pops) the id.
_pending_call_id: ContextVar[list[str] | None] = ContextVar("wikitrace_tool_call_id", default=None)


def tool_call_id(call_id: str) -> AbstractContextManager[None]:
    """Give the first ``@tool`` span started inside the ``with`` block this ``gen_ai.tool.call.id``.

    Tool spans nested in that one, and later ones in the same block, do not get it.

    Args:
        call_id: the id of the model's tool call (``call_...``).

    Raises:
        ValueError: ``call_id`` is not a non-empty str.
    """
    if not isinstance(call_id, str) or not call_id:
        raise ValueError(f"tool_call_id({call_id!r}): expected a non-empty str")
    return _call_id_scope(call_id)


@contextmanager
def _call_id_scope(call_id: str) -> Iterator[None]:
    token = _pending_call_id.set([call_id])
    try:
        yield
    finally:
        _pending_call_id.reset(token)


def begin(spec: SpanSpec, binder: Binder, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Call | None:
    """Start the span of one call, or return None when nothing would be recorded."""
    try:
        tracer = current_tracer()
        if tracer is None:
            return None
        attributes = spec.attributes
        if spec.tool:
            call_id = _take_call_id(binder, args, kwargs)
            if call_id:
                attributes = {**attributes, g.GEN_AI_TOOL_CALL_ID: call_id}
        span = tracer.start_span(spec.name, kind=spec.kind, attributes=attributes)
    except Exception as internal:  # noqa: BLE001 - telemetry must not break the call
        report_internal_error(internal)
        return None
    call = Call(span, spec)
    if call.limit is not None:
        with internal_errors():
            call.record_arguments(binder, args, kwargs)
    return call


def _take_call_id(binder: Binder, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str | None:
    pending = _pending_call_id.get()
    if pending:
        return pending.pop()
    if TOOL_CALL_ID_PARAMETER in kwargs or (args and binder.has_parameter(TOOL_CALL_ID_PARAMETER)):
        value = binder.value(TOOL_CALL_ID_PARAMETER, args, kwargs)
        return value if isinstance(value, str) else None
    return None


class Call:
    """The span of one call, current while the function runs, ended once.

    Attributes:
        span: the span.
        limit: byte cap of captured content; None when nothing is captured (capture off, or
            the span does not record).
        items: a generator's yielded items, JSON-safe, when content is captured.
    """

    __slots__ = ("span", "spec", "limit", "items", "_pending")

    def __init__(self, span: Span, spec: SpanSpec) -> None:
        self.span = span
        self.spec = spec
        # Read once per call, so arguments and result follow the same setting.
        self.limit: int | None = None
        if span.is_recording():
            with internal_errors():
                self.limit = content_limit()
        self.items: list[Any] | None = None
        # list.pop() is atomic: whoever pops first ends the span (close() racing a finalizer).
        self._pending = [True]

    def attach(self) -> object:
        """Make the span current; returns the token for :meth:`detach`."""
        return otel_context.attach(trace.set_span_in_context(self.span))

    @staticmethod
    def detach(token: object) -> None:
        """Undo :meth:`attach`."""
        otel_context.detach(token)  # type: ignore[arg-type]

    def collect_items(self) -> None:
        """Start keeping yielded items (generators), when content is captured."""
        if self.limit is not None:
            self.items = []

    def on_item(self, item: Any) -> None:
        """Keep one yielded item; only called when :attr:`items` is a list."""
        items = self.items
        assert items is not None
        if len(items) < MAX_ITEMS:
            with internal_errors():
                items.append(json_safe(item))

    def record_arguments(self, binder: Binder, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Put the call's arguments on the span (content capture only)."""
        arguments = binder.bind(args, kwargs)
        if arguments is not None:
            self._write(self.spec.arguments_key, json_safe(arguments))

    def end(self, exc: BaseException | None = None, result: Any = NO_RESULT) -> None:
        """Record the outcome and end the span; only the first call does anything.

        Args:
            exc: the exception the function raised. As in OpenTelemetry's own ``use_span``, only
                an ``Exception`` is an error: ``GeneratorExit`` (a generator closed early),
                ``KeyboardInterrupt`` or ``asyncio.CancelledError`` end the span without one.
            result: the return value, recorded when content is captured.
        """
        try:
            self._pending.pop()
        except IndexError:
            return
        try:
            if isinstance(exc, Exception):
                self._fail(exc)
            elif self.limit is not None:
                self._record_result(result)
        except Exception as internal:  # noqa: BLE001 - telemetry must not break the call
            report_internal_error(internal)
        finally:
            self.span.end()

    def _fail(self, exc: BaseException) -> None:
        span = self.span
        span.set_attribute(g.ERROR_TYPE, error_type(exc))
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))

    def _record_result(self, result: Any) -> None:
        if self.items is not None:
            self._write(self.spec.result_key, self.items)
            return
        if result is NO_RESULT:
            return
        if self.spec.tool and isinstance(result, str):
            # The conventions expect an object: JSON text is parsed, other text kept as is.
            result = parse_arguments(result)
        self._write(self.spec.result_key, json_safe(result))

    def _write(self, key: str, value: Any) -> None:
        assert self.limit is not None
        text, truncated = capped_json(value, self.limit)
        self.span.set_attribute(key, text)
        if truncated:
            self.span.set_attribute(w.WIKITRACE_CONTENT_TRUNCATED, True)
