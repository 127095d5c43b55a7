"""The summary and tables of ``bench/peers/instructions.py``: per case, each variant's
instructions per call against the bare SDK's, in instructions and in plain spans.

Input, per variant: ``{"status": "ok" | "FAILED", "reason": ..., "cases": {case: {"calls": n, "call": [...],
"after": [...], "idle": [...], "spans": [...], "genai_spans": [...], "blocks": n, "error"?: ...}}}``, each list
holding one figure per counted block (instructions per call, spans per call).
"""

from __future__ import annotations

from typing import Any

from peers.stats import median
from peers.tables import CASE_TITLES
from peers.variants import PLAIN_SPAN, VARIANTS

BARE = "bare"
HEADER = (
    "variant",
    "instr/call",
    "added",
    "plain spans",
    "after/call",
    "added+after",
    "plain spans",
    "collect",
    "spread",
    "spans/call",
    "status",
)
TITLES = {**CASE_TITLES, PLAIN_SPAN: "one plain SDK span with 15 attributes"}


def _spread(values: list[float]) -> float:
    """max - min of the blocks' instructions per call: 0 for a perfectly repeatable count."""
    return max(values) - min(values)


def case_figures(case: dict[str, Any]) -> dict[str, Any]:
    """One variant's medians over the blocks of one case."""
    if not case.get("call"):
        return {"status": "error: " + case.get("error", "no block counted")}
    pairs = zip(case.get("after") or [0.0], case.get("idle") or [0.0], strict=False)  # short if a dump is missing
    after = [after - idle for after, idle in pairs]
    figures = {
        "instructions": median(case["call"]),
        "after": median(after),
        "collect_fixed": median(case.get("idle") or [0.0]) * case["calls"],
        "spread": _spread(case["call"]),
        "blocks_per_call": case["call"],
        "spans_per_call": median(case.get("spans") or [0.0]),
        "genai_spans_per_call": median(case.get("genai_spans") or [0.0]),
        "blocks": len(case["call"]),
        "status": "ok",
    }
    if case.get("error"):
        figures["status"] = "error after some blocks: " + case["error"]
    return figures


def _added(figures: dict[str, Any], bare: dict[str, Any] | None, plain_span: float | None) -> None:
    """Adds the differences to the bare SDK's figures of the same case, and their size in plain spans."""
    if bare is None or "instructions" not in bare or "instructions" not in figures:
        return
    figures["added"] = figures["instructions"] - bare["instructions"]
    figures["after_added"] = figures["after"] - bare["after"]
    figures["added_with_after"] = figures["added"] + figures["after_added"]
    if plain_span:
        figures["plain_spans"] = figures["added"] / plain_span
        figures["plain_spans_with_after"] = figures["added_with_after"] / plain_span


def summarize(variants: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """``{"plain_span": instructions, "cases": {case: {variant: figures}}}`` from the runs."""
    bare_cases = variants.get(BARE, {}).get("cases", {})
    plain = case_figures(bare_cases[PLAIN_SPAN]) if PLAIN_SPAN in bare_cases else {}
    plain_span = plain.get("instructions")
    cases: dict[str, dict[str, Any]] = {}
    names = [case for run in variants.values() for case in run.get("cases", {}) if case != PLAIN_SPAN]
    for case in dict.fromkeys(names):
        bare = case_figures(bare_cases[case]) if case in bare_cases else None
        rows: dict[str, Any] = {}
        for name, run in variants.items():
            if run["status"] != "ok":
                rows[name] = {"status": "FAILED: " + run.get("reason", "")}
                continue
            if case not in run.get("cases", {}):
                continue  # the variant does not cover this case
            figures = case_figures(run["cases"][case])
            if name != BARE:
                _added(figures, bare, plain_span)
                if figures.get("spans_per_call") == 0:
                    figures["status"] = "not instrumenting"
            rows[name] = figures
        cases[case] = rows
    return {"plain_span": plain_span, "plain_span_spread": plain.get("spread"), "cases": cases}


def _number(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:,.{digits}f}"


def row(name: str, figures: dict[str, Any]) -> tuple[str, ...]:
    if figures["status"].startswith("FAILED") or "instructions" not in figures:
        status = figures["status"]
        return (name, *[""] * (len(HEADER) - 2), status if len(status) <= 120 else status[:117] + "...")
    spans = _number(figures["spans_per_call"], 1)
    if figures["genai_spans_per_call"] != figures["spans_per_call"]:
        spans += f" ({_number(figures['genai_spans_per_call'], 1)} GenAI)"
    return (
        name,
        _number(figures["instructions"]),
        _number(figures.get("added")),
        _number(figures.get("plain_spans"), 1),
        _number(figures["after"]),
        _number(figures.get("added_with_after")),
        _number(figures.get("plain_spans_with_after"), 1),
        _number(figures["collect_fixed"]),
        _number(figures["spread"]),
        spans,
        figures["status"],
    )


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(line[i]) for line in rows) for i in range(len(HEADER) - 1)]
    lines = []
    for line in rows:
        cells = [cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(line[:-1])]
        lines.append("  ".join(cells) + "  " + line[-1])
    return lines


def render(record: dict[str, Any]) -> str:
    """The summary as plain-text tables, one per case, and the variants that failed."""
    settings = record.get("settings", {})
    out = [
        f"Instructions per call (callgrind), median of {settings.get('blocks', '?')} blocks of "
        f"{settings.get('calls_per_block', '?')} calls; added = variant - bare; after = flush + metric "
        "collection per call, net of the fixed cost of one collection with nothing new (collect); "
        "spread = max - min of the blocks' instructions per call.",
        f"Plain span ({TITLES[PLAIN_SPAN]}): {_number(record.get('plain_span'))} instructions "
        f"(spread {_number(record.get('plain_span_spread'))}).",
    ]
    for case, rows in record["cases"].items():
        out += ["", f"{case}: {TITLES.get(case, case)}"]
        out += _table([HEADER, *(row(name, figures) for name, figures in rows.items())])
        missing = [name for name in record.get("variants", {}) if name not in rows]
        if missing:
            out.append(f"  not covering this case: {', '.join(missing)}")
    failed = {name: run["reason"] for name, run in record.get("variants", {}).items() if run["status"] != "ok"}
    for name, reason in failed.items():
        out.append(f"\nFAILED {name} ({VARIANTS[name].description if name in VARIANTS else '?'}): {reason}")
    return "\n".join(out)
