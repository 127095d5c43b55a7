"""``with span(...)`` / ``async with span(...)``: a span around a block of code."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType

from opentelemetry.trace import INVALID_SPAN, Span, SpanKind
from opentelemetry.util.types import AttributeValue

from wikitrace_otel._decorators.call import Call
from wikitrace_otel._decorators.spec import SpanSpec
from wikitrace_otel._decorators.tracer import current_tracer
from wikitrace_otel._genai.errors import report_internal_error


class SpanScope:
    """A span that is current inside a ``with`` / ``async with`` block, ended on leaving it.

    A ``SpanScope`` may be entered again after it was left, not while it is in use. The span
    records an exception leaving the block (status ERROR, ``error.type``, exception event) and
    the exception propagates unchanged.
    """

    __slots__ = ("_spec", "_call", "_token", "_entered")

    def __init__(self, name: str, attributes: Mapping[str, AttributeValue] | None, kind: SpanKind) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError(f"span({name!r}): expected a non-empty str name")
        if not isinstance(kind, SpanKind):
            raise TypeError(f"span(kind={kind!r}): expected an opentelemetry.trace.SpanKind")
        self._spec = SpanSpec(name=name, kind=kind, attributes=dict(attributes or {}))
        self._call: Call | None = None
        self._token: object = None
        self._entered = False

    def __enter__(self) -> Span:
        if self._entered:
            raise RuntimeError("this span() is already in use; call span() again for a nested span")
        self._entered = True
        tracer = current_tracer()
        if tracer is None:
            # Nothing records: hand out the shared non-recording span, allocate nothing.
            return INVALID_SPAN
        spec = self._spec
        try:
            span = tracer.start_span(spec.name, kind=spec.kind, attributes=spec.attributes)
        except Exception as internal:  # noqa: BLE001 - telemetry must not break the block
            report_internal_error(internal)
            return INVALID_SPAN
        call = self._call = Call(span, spec)
        call.limit = None  # a block has no arguments or return value to capture
        self._token = call.attach()
        return span

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._entered = False
        call, self._call = self._call, None
        if call is None:
            return
        call.detach(self._token)
        self._token = None
        call.end(exc)

    async def __aenter__(self) -> Span:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)
