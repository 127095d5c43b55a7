"""One traced GenAI call: its span, its metrics and its content event, ended exactly once."""

from __future__ import annotations

import json
from collections.abc import Callable
from time import perf_counter
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry._logs import SeverityNumber
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from wikitrace_otel._genai import claims, gate
from wikitrace_otel._genai.callmetrics import INFERENCE_OPERATIONS, record_call
from wikitrace_otel._genai.content import capped_json
from wikitrace_otel._genai.errors import error_type, report_internal_error
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import wikitrace as w

_CLAIMED_OPERATIONS = INFERENCE_OPERATIONS | {"embeddings"}
_NO_GAPS: list[float] = []  # shared by calls that never stream a chunk; never appended to
_CONTENT_KEYS = (
    g.GEN_AI_INPUT_MESSAGES,
    g.GEN_AI_SYSTEM_INSTRUCTIONS,
    g.GEN_AI_TOOL_DEFINITIONS,
    g.GEN_AI_OUTPUT_MESSAGES,
)


class Invocation:
    """The in-flight state of one call, from request to the end of its response or stream.

    Extractors fill :attr:`response` (span attributes) and :attr:`content` (structured
    message content); :meth:`end` writes them out, records the metrics and ends the span.
    ``end`` is safe to call from any path (exhaustion, close, error, garbage collection):
    only the first call does anything.
    """

    __slots__ = (
        "telemetry",
        "span",
        "operation",
        "attributes",
        "response",
        "content",
        "audio_tokens",
        "started",
        "first_chunk",
        "last_chunk",
        "chunk_gaps",
        "ticket",
        "error_classifier",
        "_pending",
        "_token",
    )

    def __init__(
        self,
        telemetry: GenAITelemetry,
        attributes: dict[str, Any],
        content: dict[str, Any] | None,
        ticket: object | None = None,
    ) -> None:
        self.telemetry = telemetry
        self.ticket = ticket  # from gate.before_request: the budgets this call is charged to
        # A provider's own error code (Anthropic's ``overloaded_error``...) for ``error.type``;
        # None, or a None result, falls back to the generic code / HTTP status / class name.
        self.error_classifier: Callable[[BaseException], str | None] | None = None
        self.operation: str = attributes[g.GEN_AI_OPERATION_NAME]
        self.attributes = attributes
        self.response: dict[str, Any] = {}
        self.content = content
        self.audio_tokens: tuple[int, int] = (0, 0)
        # Stream timing, kept by the stream proxy (``StreamState._self_on_chunk``) per chunk.
        self.first_chunk: float | None = None
        self.last_chunk = 0.0
        self.chunk_gaps: list[float] = _NO_GAPS  # a list of its own from the first chunk on
        # list.pop() is atomic under the GIL: whoever pops first ends the span, so a close()
        # racing a garbage-collection finalizer still ends it exactly once.
        self._pending = [True]
        self._token: object | None = None
        model = attributes.get(g.GEN_AI_REQUEST_MODEL)
        name = f"{self.operation} {model}" if model else self.operation
        if telemetry.legacy:
            attributes[g.GEN_AI_SYSTEM] = attributes[g.GEN_AI_PROVIDER_NAME]
        self.span: Span = telemetry.tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attributes)
        if self.operation in _CLAIMED_OPERATIONS:
            claims.claim()  # a framework step around this call must not trace it again
        self.started = perf_counter()

    @property
    def ended(self) -> bool:
        """True once :meth:`end` has run."""
        return not self._pending

    def attach(self) -> None:
        """Make the span current, so HTTP spans of the SDK's own request nest under it."""
        self._token = otel_context.attach(trace.set_span_in_context(self.span))

    def detach(self) -> None:
        """Undo :meth:`attach`."""
        token, self._token = self._token, None
        if token is not None:
            otel_context.detach(token)  # type: ignore[arg-type]

    def end(self, exc: BaseException | None = None) -> None:
        """Write out the response, record metrics and end the span; only the first call counts."""
        try:
            self._pending.pop()
        except IndexError:
            return
        try:
            self._finish(exc)
        except Exception as internal:  # noqa: BLE001 - telemetry must not break the call
            report_internal_error(internal)
        finally:
            self.span.end()

    def _finish(self, exc: BaseException | None) -> None:
        span, response, telemetry = self.span, self.response, self.telemetry
        duration = perf_counter() - self.started
        first_chunk = self.first_chunk
        if first_chunk is not None:
            first_chunk -= self.started
            response[g.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = first_chunk
        err = None
        if exc is not None:
            err = response[g.ERROR_TYPE] = self._error_type(exc)
        if telemetry.legacy and g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS in response:
            response[g.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = response[g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS]
        if self.ticket is not None:
            charged = gate.after_response(self.ticket, {**self.attributes, **response}, span.get_span_context())
            if charged:
                response.update(charged)
        if span.is_recording():
            span.set_attributes(response)
            if exc is not None:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        timing = (self.operation, duration, first_chunk, self.chunk_gaps)
        record_call(telemetry.instruments, self.attributes, response, err, timing, self.audio_tokens)
        if self.content is not None:
            # Content comes last and on its own: odd content must never cost the response
            # attributes or the metrics above.
            try:
                self._write_content(telemetry.content_on_span)
            except Exception as internal:  # noqa: BLE001
                report_internal_error(internal)

    def _error_type(self, exc: BaseException) -> str:
        classify = self.error_classifier
        specific = classify(exc) if classify is not None else None
        return specific or error_type(exc)

    def _write_content(self, on_span: bool) -> None:
        if on_span and self.span.is_recording():
            content_attributes: dict[str, Any] = {}
            self._content_on_span(content_attributes)
            self.span.set_attributes(content_attributes)
        if self.telemetry.event_logger is not None:
            self._emit_event()

    def _content_on_span(self, response: dict[str, Any]) -> None:
        limit = self.telemetry.settings.max_content_size
        assert self.content is not None
        for key in _CONTENT_KEYS:
            value = self.content.get(key)
            if value is None:
                continue
            text, truncated = capped_json(value, limit)
            response[key] = text
            if truncated:
                response[w.WIKITRACE_CONTENT_TRUNCATED] = True

    def _emit_event(self) -> None:
        attributes: dict[str, Any] = {**self.attributes, **self.response}
        truncated_any = False
        limit = self.telemetry.settings.max_content_size
        for key in _CONTENT_KEYS:
            attributes.pop(key, None)
            value = self.content.get(key) if self.content is not None else None
            if value is not None:
                text, truncated = capped_json(value, limit)
                # Events carry content structured, but no larger than on a span.
                attributes[key] = json.loads(text) if truncated else value
                truncated_any = truncated_any or truncated
        if truncated_any:
            attributes[w.WIKITRACE_CONTENT_TRUNCATED] = True
        assert self.telemetry.event_logger is not None
        self.telemetry.event_logger.emit(
            event_name=g.EVENT_INFERENCE_OPERATION_DETAILS,
            severity_number=SeverityNumber.DEBUG,
            attributes=attributes,
            context=trace.set_span_in_context(self.span),
        )
