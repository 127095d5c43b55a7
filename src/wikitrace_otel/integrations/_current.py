"""The span a LangChain step makes current: it stands for the step while the step runs and
for the step's parent once it has ended.

Why: under ``ainvoke``/``astream`` LangChain runs the *end* hooks of chains, models and
retrievers in a copy of the caller's context (``asyncio.shield`` wraps them in a task), so a
value the start hook made current in the caller's context cannot be reset by the end hook.
Whatever the start hook attached stays in the caller's context after the step is over. Putting
this stand-in there instead of the step's span makes that harmless: once the step has ended,
everything that reads the current span (provider instrumentors starting their spans, the
user's own ``start_as_current_span``) sees what was current before the step began.
"""

from __future__ import annotations

from opentelemetry.trace import Span, SpanContext
from opentelemetry.trace.status import Status, StatusCode
from opentelemetry.util.types import Attributes, AttributeValue


class StepSpan(Span):
    """Delegates to the step's span while the step runs, then to the span that was current
    before it (itself possibly a :class:`StepSpan`)."""

    __slots__ = ("ended", "owner", "token", "_parent", "_span")

    def __init__(self, span: Span, parent: Span, owner: object = None) -> None:
        self._span = span
        self._parent = parent
        self.owner = owner  # the integration that made it current
        self.ended = False
        # The attach token, while the step has ended but could not be detached yet (a step
        # started after it in the same context was still current).
        self.token: object | None = None

    @property
    def parent(self) -> Span:
        """The span that was current when the step started."""
        return self._parent

    @property
    def target(self) -> Span:
        """The span this stands for right now."""
        if not self.ended:
            return self._span
        parent = self._parent
        return parent.target if isinstance(parent, StepSpan) else parent

    def get_span_context(self) -> SpanContext:
        return self.target.get_span_context()

    def is_recording(self) -> bool:
        return self.target.is_recording()

    def set_attributes(self, attributes: dict[str, AttributeValue]) -> None:
        self.target.set_attributes(attributes)

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        self.target.set_attribute(key, value)

    def add_event(self, name: str, attributes: Attributes = None, timestamp: int | None = None) -> None:
        self.target.add_event(name, attributes, timestamp)

    def add_link(self, context: SpanContext, attributes: Attributes = None) -> None:
        self.target.add_link(context, attributes)

    def update_name(self, name: str) -> None:
        self.target.update_name(name)

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        self.target.set_status(status, description)

    def record_exception(
        self,
        exception: BaseException,
        attributes: Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        self.target.record_exception(exception, attributes, timestamp, escaped)

    def end(self, end_time: int | None = None) -> None:
        # The step's span is ended by the handler, exactly once; a caller ending "the current
        # span" while the step runs must not end it early.
        return None

    def __repr__(self) -> str:
        return f"StepSpan({self.target!r}, ended={self.ended})"
