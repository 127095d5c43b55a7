"""Printing one stored trace as a tree with per-step latency, tokens and cost."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TextIO

from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import wikitrace as w


def render(spans: Iterable[Any], out: TextIO) -> None:
    """Write the spans (one trace) as an indented tree, children in start order."""
    spans = list(spans)
    ids = {span.span_id for span in spans}
    children: dict[str | None, list[Any]] = {}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)
    for siblings in children.values():
        siblings.sort(key=lambda s: s.start_time_unix_nano)
    for root in children.get(None, []):
        _write(root, children, out, prefix="", last=True, root=True)
    _totals(spans, out)


def _write(span: Any, children: dict[str | None, list[Any]], out: TextIO, prefix: str, last: bool, root: bool) -> None:
    branch = "" if root else ("└─ " if last else "├─ ")
    label = f"{prefix}{branch}{span.name}"
    out.write(f"{label:<52}{_duration_ms(span):>9.1f} ms{_usage(span.attributes)}\n")
    kids = children.get(span.span_id, [])
    extension = "" if root else ("   " if last else "│  ")
    for index, child in enumerate(kids):
        _write(child, children, out, prefix + extension, index == len(kids) - 1, root=False)


def _duration_ms(span: Any) -> float:
    return (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6


def _usage(attributes: dict[str, Any]) -> str:
    text = ""
    tokens_in = attributes.get(g.GEN_AI_USAGE_INPUT_TOKENS)
    tokens_out = attributes.get(g.GEN_AI_USAGE_OUTPUT_TOKENS)
    if tokens_in is not None:
        text += f"  {tokens_in:>5} in"
        text += f" {tokens_out:>4} out" if tokens_out is not None else "         "
    cost = attributes.get(w.GEN_AI_USAGE_COST_AMOUNT)
    if cost is not None:
        text += f"  ${cost:.8f}"
    return text


def _totals(spans: list[Any], out: TextIO) -> None:
    tokens = sum(int(s.attributes.get(g.GEN_AI_USAGE_INPUT_TOKENS, 0)) for s in spans) + sum(
        int(s.attributes.get(g.GEN_AI_USAGE_OUTPUT_TOKENS, 0)) for s in spans
    )
    costs = [s.attributes[w.GEN_AI_USAGE_COST_AMOUNT] for s in spans if w.GEN_AI_USAGE_COST_AMOUNT in s.attributes]
    calls = sum(1 for s in spans if g.GEN_AI_USAGE_INPUT_TOKENS in s.attributes)
    cost = f"${sum(costs):.6f}" if costs else "unknown (no price for these models)"
    out.write(f"\n{calls} LLM calls, {tokens} tokens, cost {cost}\n")
