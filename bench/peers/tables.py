"""Tables of a peers summary (``report.summarize``), as plain text or Markdown."""

from __future__ import annotations

from typing import Any

from peers.stats import STREAMS
from peers.workload import ALL_CASES

CASE_TITLES = {
    "chat": "OpenAI chat.completions.create, non-streaming",
    "stream_1": "OpenAI chat stream, 1 chunk",
    "stream_20": "OpenAI chat stream, 20 chunks",
    "embeddings": "OpenAI embeddings.create",
    "messages": "Anthropic messages.create, non-streaming",
    "messages_stream_1": "Anthropic messages stream, 1 text delta",
    "messages_stream_20": "Anthropic messages stream, 20 text deltas",
}
HEADER = ("variant", "µs/call", "added µs (95% CI)", "x bare", "x fastest peer", "spans/call", "status")


def _number(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def _range(interval: list[float] | None) -> str:
    return f" ({_number(interval[0])} to {_number(interval[1])})" if interval else ""


def _status(figures: dict[str, Any]) -> str:
    status = figures["status"]
    return status if len(status) <= 90 else status[:87] + "..."


def case_rows(summary: dict[str, Any], case: str) -> list[tuple[str, ...]]:
    rows = []
    for name, variant in summary["variants"].items():
        figures = variant["cases"][case]
        if figures["status"] == "n/a":
            continue
        rows.append(
            (
                name,
                _number(figures.get("us_per_call")),
                _number(figures.get("added_us")) + _range(figures.get("added_us_ci95")),
                _number(figures.get("ratio_to_bare"), 2),
                _number(figures.get("ratio_to_fastest_peer"), 2),
                _number(figures.get("spans_per_call"), 1),
                _status(figures),
            )
        )
    return rows


def chunk_rows(summary: dict[str, Any]) -> list[tuple[str, ...]]:
    rows = []
    for name, variant in summary["variants"].items():
        chunks = variant["added_us_per_chunk"]
        if chunks:
            label = f"{name} (SDK's own cost)" if variant["kind"] == "bare" else name
            rows.append((label, *(_number(chunks.get(stream), 1) for stream in STREAMS)))
    return rows


def _interval(interval: list[float] | None, digits: int = 0) -> str:
    return f" (95% CI {_number(interval[0], digits)} to {_number(interval[1], digits)})" if interval else ""


def goal_lines(summary: dict[str, Any]) -> list[str]:
    lines = []
    for goal in summary["goals"]:
        measured, limit = _number(goal["measured_us"], 1) or "?", _number(goal["limit_us"], 1) or "?"
        detail = _interval(goal.get("measured_us_ci95"), 1)
        if goal.get("fastest_peer"):
            detail = f" (fastest peer: {goal['fastest_peer']}; ours minus half of theirs, per round: median "
            detail += f"{_number(goal['margin_us'])} µs{_interval(goal.get('margin_us_ci95'))})"
        lines.append(f"{goal['goal']}: {measured} µs vs {limit} µs{detail}: {goal['verdict']}")
    return lines


def _plain(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = []
    for row in (header, *rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:-1], widths[1:-1], strict=True)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def _markdown(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    align = ["---" if name in ("variant", "status") else "---:" for name in header]
    return "\n".join("| " + " | ".join(row) + " |" for row in (header, align, *rows))


def render(summary: dict[str, Any], markdown: bool = False) -> str:
    """Every case table, the per-chunk table and the goals."""
    table = _markdown if markdown else _plain
    plain = summary.get("plain_span_us")
    parts = [f"One plain SDK span with 15 attributes cost {_number(plain, 1) or '?'} µs in this run."]
    for case in ALL_CASES:
        title = CASE_TITLES[case]
        parts.append((f"**{title}**" if markdown else f"== {title}") + "\n\n" + table(case_rows(summary, case), HEADER))
    chunk_header = ("variant", "OpenAI added µs/chunk", "Anthropic added µs/chunk")
    title = "**Per stream chunk**" if markdown else "== per stream chunk"
    parts.append(title + "\n\n" + table(chunk_rows(summary), chunk_header))
    goals = goal_lines(summary)
    parts.append("\n".join((f"- {line}" if markdown else line) for line in goals))
    return "\n\n".join(parts)


def failures(summary: dict[str, Any]) -> list[str]:
    """One line per variant that failed as a whole, with its reason."""
    return [f"{name}: FAILED: {v['reason']}" for name, v in summary["variants"].items() if v["status"] != "ok"]
