"""Helpers of the Agents SDK tests."""

from __future__ import annotations

from collections import Counter
from typing import Any

import agents

AGENT = "invoke_workflow Agent workflow/invoke_agent support-agent"
"""The path of the agent span of a plain ``Runner.run``."""


def paths(spans: Any) -> Counter[str]:
    """Each span as the ``/``-joined names of its ancestors and itself, counted."""
    by_id = {span.context.span_id: span for span in spans}
    out: Counter[str] = Counter()
    for span in spans:
        names, parent = [span.name], span.parent
        while parent is not None and parent.span_id in by_id:
            names.append(by_id[parent.span_id].name)
            parent = by_id[parent.span_id].parent
        out["/".join(reversed(names))] += 1
    return out


class UserProcessor(agents.TracingProcessor):  # type: ignore[misc]
    """An application's own processor: records the names of the traces it sees."""

    def __init__(self) -> None:
        self.traces: list[str] = []
        self.spans = 0

    def on_trace_start(self, trace: Any) -> None:
        self.traces.append(trace.name)

    def on_trace_end(self, trace: Any) -> None:
        return None

    def on_span_start(self, span: Any) -> None:
        return None

    def on_span_end(self, span: Any) -> None:
        self.spans += 1

    def shutdown(self) -> None:
        return None

    def force_flush(self) -> None:
        return None
