"""The README's overhead goals, judged on one run with a confidence interval.

- Per non-streaming call (chat, embeddings, Anthropic messages), wikitrace-otel's default adds
  at most half of what the fastest peer adds in the same run. Judged per round:
  ``ours_added - 0.5 * peer_added``, both paired against the bare worker of that round; the
  goal is met when the 95% confidence interval of its median lies below 0, not met when it
  lies above, and inconclusive when it straddles 0.
- Per stream chunk, wikitrace-otel's default adds at most 3 µs: the same test on the
  per-round slopes against 3 µs.

``met`` is True, False, or None (inconclusive or not measurable); ``verdict`` says which.
"""

from __future__ import annotations

from typing import Any

from peers.stats import STREAMS, chunk_slopes, fastest_peer, median, median_ci, paired

GOAL_SHARE_OF_FASTEST_PEER = 0.5
GOAL_PER_CHUNK_US = 3.0
GOAL_VARIANT = "wikitrace"
NON_STREAMING = ("chat", "embeddings", "messages")


def _verdict(values: list[float | None], limit: float) -> tuple[bool | None, str, Any]:
    """Whether the median of ``values`` is at most ``limit``, with its 95% interval."""
    interval = median_ci(values)
    if interval is None:
        return None, "not measured", None
    if interval[1] <= limit:
        return True, "met", interval
    if interval[0] > limit:
        return False, "NOT MET", interval
    return None, "inconclusive", interval


def _share_goal(raw: dict[str, Any], variants: dict[str, Any], case: str) -> dict[str, Any]:
    ours, fastest = variants.get(GOAL_VARIANT), fastest_peer(variants, case)
    goal: dict[str, Any] = {"goal": f"{case}: added per call <= half the fastest peer's", "case": case}
    added = ours["cases"][case].get("added_us") if ours and ours["cases"][case]["status"] == "ok" else None
    if added is None or fastest is None:
        return goal | {"measured_us": added, "limit_us": None, "met": None, "verdict": "not measured"}
    bare = raw["bare"]
    mine, peer = paired(raw[GOAL_VARIANT], bare, case), paired(raw[fastest[0]], bare, case)
    margins = [
        None if a is None or b is None else a - GOAL_SHARE_OF_FASTEST_PEER * b for a, b in zip(mine, peer, strict=False)
    ]
    met, verdict, interval = _verdict(margins, 0.0)
    return goal | {
        "measured_us": added,
        "limit_us": fastest[1] * GOAL_SHARE_OF_FASTEST_PEER,
        "fastest_peer": fastest[0],
        "margin_us": median(margins),
        "margin_us_ci95": interval,
        "met": met,
        "verdict": verdict,
    }


def _chunk_goal(raw: dict[str, Any], label: str) -> dict[str, Any]:
    goal: dict[str, Any] = {
        "goal": f"{label}: added per chunk <= {GOAL_PER_CHUNK_US:g} µs",
        "limit_us": GOAL_PER_CHUNK_US,
    }
    ours, bare = raw.get(GOAL_VARIANT), raw.get("bare")
    if ours is None or bare is None or ours["status"] != "ok" or bare["status"] != "ok":
        return goal | {"measured_us": None, "met": None, "verdict": "not measured"}
    slopes = chunk_slopes(ours, bare, *STREAMS[label])
    met, verdict, interval = _verdict(slopes, GOAL_PER_CHUNK_US)
    return goal | {"measured_us": median(slopes), "measured_us_ci95": interval, "met": met, "verdict": verdict}


def goals(raw: dict[str, Any], variants: dict[str, Any]) -> list[dict[str, Any]]:
    """Every goal against this run's figures, for wikitrace-otel's defaults."""
    if raw.get("bare", {}).get("status") != "ok":
        return []
    return [_share_goal(raw, variants, case) for case in NON_STREAMING] + [_chunk_goal(raw, s) for s in STREAMS]
