"""From the rounds of every variant to figures, goals and the JSON record.

``raw_from_runs`` turns what the workers measured into plain data (written to
``peers-rounds.json``, so a past run can be summarized again); ``summarize`` computes from it:

- per variant and case: the median µs per call; the added µs, the median over rounds of the
  paired difference against the bare worker's block of the same case and round, with a
  distribution-free 95% confidence interval of that median; ratios to the bare SDK (median per
  call over the bare median) and to each peer (added over the peer's added); spans per call
  and how many of them look like GenAI spans;
- per stream chunk: the median over rounds of the paired difference between the 20-chunk and
  the 1-chunk stream, over 19;
- the yardstick: one plain SDK span with 15 attributes, timed by the bare worker.

Status of a variant on a case: ``ok``; ``n/a`` (the variant does not cover that SDK);
``not instrumenting`` (the calls ran, but no GenAI span came out); ``FAILED: reason`` (install,
import, setup, or the call itself failed under the variant).
"""

from __future__ import annotations

from typing import Any

from peers.goals import goals
from peers.orchestrate import VariantRun
from peers.stats import STREAMS, chunk_slopes, fastest_peer, median, median_ci, ok_added, paired, series
from peers.variants import PLAIN_SPAN
from peers.workload import ALL_CASES

MEASURES = ("us", "collect_us", "spans", "genai_spans")


def raw_from_runs(runs: dict[str, VariantRun]) -> dict[str, Any]:
    """Every variant's per-round measurements as plain data, one list entry per round."""
    raw: dict[str, Any] = {}
    for name, run in runs.items():
        variant = run.variant
        rounds: dict[str, Any] = {}
        for case in run.cases:
            blocks = [r.get(case, {}) for r in run.rounds]
            rounds[case] = {key: [b.get(key) for b in blocks] for key in MEASURES}
            rounds[case]["errors"] = sorted({b["error"] for b in blocks if "error" in b})[:3]
            rounds[case]["names"] = sorted({n for b in blocks for n in b.get("names", [])})[:4]
            rounds[case]["scopes"] = sorted({s for b in blocks for s in b.get("scopes", [])})[:4]
        raw[name] = {
            "kind": variant.kind,
            "description": variant.description,
            "covers": list(variant.covers),
            "status": run.status,
            "reason": run.reason,
            "cases": run.cases,
            "versions": run.versions,
            "rounds": rounds,
        }
    return raw


def _case_status(variant: dict[str, Any], case: str, genai: float | None) -> str:
    if variant["status"] != "ok":
        return f"FAILED: {variant['reason']}"
    if case not in variant["covers"]:
        return "n/a"
    if case not in variant["cases"]:
        return "FAILED: not set up for this case"
    errors = variant["rounds"][case]["errors"]
    if errors:
        return f"FAILED: the call raised under this variant ({errors[0]})"
    if variant["kind"] != "bare" and not genai:
        return "not instrumenting"
    return "ok"


def case_figures(variant: dict[str, Any], bare: dict[str, Any] | None, case: str) -> dict[str, Any]:
    genai = median(series(variant, case, "genai_spans"))
    figures: dict[str, Any] = {"status": _case_status(variant, case, genai)}
    if figures["status"] == "n/a" or figures["status"].startswith("FAILED"):
        return figures
    pairs = paired(variant, bare, case) if variant["kind"] != "bare" else []
    figures |= {
        "us_per_call": median(series(variant, case)),
        "added_us": median(pairs),
        "added_us_ci95": median_ci(pairs),
        "collect_us_per_call": median(series(variant, case, "collect_us")),
        "spans_per_call": median(series(variant, case, "spans")),
        "genai_spans_per_call": genai,
        "span_names": variant["rounds"][case]["names"],
        "scopes": variant["rounds"][case]["scopes"],
    }
    base = median(series(bare, case)) if bare else None
    if base and figures["us_per_call"] is not None:
        figures["ratio_to_bare"] = figures["us_per_call"] / base
    return figures


def summarize(raw: dict[str, Any]) -> dict[str, Any]:
    """Figures of every variant on every case, ratios between them, and the goals."""
    bare = raw.get("bare")
    bare = bare if bare is not None and bare["status"] == "ok" else None
    variants: dict[str, Any] = {}
    for name, variant in raw.items():
        cases = {case: case_figures(variant, bare, case) for case in ALL_CASES}
        chunks, chunk_cis = {}, {}  # for the bare SDK: its own µs per chunk, not an added cost
        for label, (short, long) in STREAMS.items():
            if cases[long]["status"] == "ok" and cases[short]["status"] == "ok":
                slopes = chunk_slopes(variant, bare, short, long)
                chunks[label], chunk_cis[label] = median(slopes), median_ci(slopes)
        variants[name] = {key: variant[key] for key in ("kind", "description", "status", "reason", "versions")} | {
            "rounds": len(series(variant, next(iter(variant["rounds"]), ""))),
            "cases": cases,
            "added_us_per_chunk": chunks,
            "added_us_per_chunk_ci95": chunk_cis,
        }
    _add_peer_ratios(variants)
    return {
        "plain_span_us": median(series(bare, PLAIN_SPAN)) if bare else None,
        "variants": variants,
        "goals": goals(raw, variants),
    }


def _add_peer_ratios(variants: dict[str, Any]) -> None:
    for case in ALL_CASES:
        fastest = fastest_peer(variants, case)
        for v in variants.values():
            figures = v["cases"][case]
            added = ok_added(figures)
            if added is None or v["kind"] == "bare":
                continue
            if fastest and fastest[1] > 0:
                figures["ratio_to_fastest_peer"] = added / fastest[1]
                figures["fastest_peer"] = fastest[0]
            figures["ratio_to_peer"] = {
                name: added / peer_added
                for name, other in variants.items()
                if other["kind"] == "peer" and (peer_added := ok_added(other["cases"][case])) and peer_added > 0
            }
