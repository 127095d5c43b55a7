"""A traced call's metrics, with attribute sets built once per combination and reused.

Every call records its durations and token counts under attributes drawn from a small set:
operation, provider, request model, server address and port, response model and, on the
duration and per-call token histograms, the error type (SEMCONV "Metrics"). Building those
dicts for every call, sorting them for the token counters and queueing one histogram value at
a time cost more than the rest of a call's bookkeeping. So :class:`CallMetrics` keeps, per
combination, the attribute dicts and the token counters' total entries (a bounded cache,
:class:`MetricSets`); a call adds its tokens to those entries under one lock, and queues all
its histogram values as one entry of the deferred recorder, recorded by :func:`_replay` when
metrics are collected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from wikitrace_otel.semconv import gen_ai as g

if TYPE_CHECKING:
    from wikitrace_otel._genai.telemetry import Instruments

CACHE_LIMIT = 1024
"""Combinations kept; past it the cache starts over (a rebuilt entry costs one call's dicts)."""

# Attributes allowed on metrics: low cardinality only.
_METRIC_KEYS = (
    g.GEN_AI_OPERATION_NAME,
    g.GEN_AI_PROVIDER_NAME,
    g.GEN_AI_REQUEST_MODEL,
    g.SERVER_ADDRESS,
    g.SERVER_PORT,
)
_MISSING = object()  # an absent attribute, distinct from any value in the cache key
INFERENCE_OPERATIONS = frozenset({"chat", "text_completion", "generate_content"})
_EXTRA_KEYS = (
    g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
)
COUNTERS = ("usage_input", "usage_output", "usage_cache_read", "usage_cache_write", "usage_reasoning")
"""The token counters of :class:`~wikitrace_otel._genai.telemetry.Instruments`, in the order of
a call's amounts: input, output, and the response attributes of ``_EXTRA_KEYS``."""


class CallMetrics:
    """The metric attributes of one combination. Its dicts are shared by every call of the
    combination and handed to the SDK as they are: they are never changed after creation."""

    __slots__ = ("base", "timed", "text", "entries")

    def __init__(self, base: dict[str, Any], err: str | None) -> None:
        self.base = base
        """Operation, provider, models, server: time-to-first-chunk and per-chunk histograms."""
        self.timed = {**base, g.ERROR_TYPE: err} if err is not None else base
        """``base`` plus ``error.type`` when the call failed: durations and per-call tokens."""
        self.text = {**base, g.GEN_AI_TOKEN_MODALITY: "text"}
        """``base`` plus the text modality: token counters."""
        self.entries: list[list[Any] | None] = [None] * len(COUNTERS)
        """Each token counter's total entry for :attr:`text`, created on first count (so a
        counter that never counts this combination reports no zero for it)."""


class MetricSets:
    """A bounded cache of :class:`CallMetrics` by combination."""

    def __init__(self, limit: int = CACHE_LIMIT) -> None:
        self._sets: dict[tuple[Any, ...], CallMetrics] = {}
        self._limit = limit

    def get(self, attributes: dict[str, Any], response_model: Any, err: str | None) -> CallMetrics:
        """The metrics of a call with these span attributes, response model and error type."""
        get = attributes.get
        key = (
            get(g.GEN_AI_OPERATION_NAME, _MISSING),
            get(g.GEN_AI_PROVIDER_NAME, _MISSING),
            get(g.GEN_AI_REQUEST_MODEL, _MISSING),
            get(g.SERVER_ADDRESS, _MISSING),
            get(g.SERVER_PORT, _MISSING),
            response_model,
            err,
        )
        try:
            found = self._sets.get(key)
        except TypeError:  # an unhashable attribute value: correct, just not cached
            return CallMetrics(_base(attributes, response_model), err)
        if found is None:
            found = CallMetrics(_base(attributes, response_model), err)
            if len(self._sets) >= self._limit:
                self._sets.clear()
            self._sets[key] = found
        return found


def _base(attributes: dict[str, Any], response_model: Any) -> dict[str, Any]:
    base = {key: attributes[key] for key in _METRIC_KEYS if key in attributes}
    if response_model is not None:
        base[g.GEN_AI_RESPONSE_MODEL] = response_model
    return base


def record_call(
    instruments: Instruments,
    attributes: dict[str, Any],
    response: dict[str, Any],
    err: str | None,
    timing: tuple[str, float, float | None, list[float]],
    audio_tokens: tuple[int, int],
) -> None:
    """Count a finished call's tokens and queue its histogram values.

    Args:
        attributes / response: the span's request and response attributes.
        err: its ``error.type``, or None.
        timing: operation, duration, time to first chunk (streams) and the gaps between chunks.
        audio_tokens: input and output tokens of the audio modality (counted apart from text).
    """
    metrics = instruments.sets.get(attributes, response.get(g.GEN_AI_RESPONSE_MODEL), err)
    get = response.get
    input_tokens, output_tokens = get(g.GEN_AI_USAGE_INPUT_TOKENS), get(g.GEN_AI_USAGE_OUTPUT_TOKENS)
    amounts = (input_tokens, output_tokens, *map(get, _EXTRA_KEYS))
    if audio_tokens[0] > 0 or audio_tokens[1] > 0:
        amounts = _count_audio(instruments, metrics, amounts, audio_tokens)
    _count_text(instruments, metrics, amounts)
    operation, duration, first_chunk, gaps = timing
    args = (
        instruments,
        metrics,
        operation in INFERENCE_OPERATIONS,
        duration,
        first_chunk,
        gaps,
        input_tokens,
        output_tokens,
    )
    deferred = instruments.deferred
    if not deferred.defer(_replay, args):
        deferred.dropped += _value_count(*args)


def _count_text(instruments: Instruments, metrics: CallMetrics, amounts: tuple[Any, ...]) -> None:
    """Add the positive amounts to the text-modality totals, in the order of :data:`COUNTERS`."""
    entries = metrics.entries
    extras = amounts[2:]
    # The usual call counts input and output only: the others are absent or zero.
    indices = [0, 1] + [index for index, amount in enumerate(extras, 2) if amount] if any(extras) else _IN_OUT
    counted = []
    for index in indices:
        amount = amounts[index]
        if amount is not None and amount > 0:
            entry = entries[index]
            if entry is None:  # first count of this combination on this counter
                counter = getattr(instruments, COUNTERS[index])
                entry = entries[index] = counter.entry(metrics.text)
            counted.append((entry, amount))
    if counted:
        with instruments.counter_lock:
            for entry, amount in counted:
                entry[1] += amount


_IN_OUT = (0, 1)


def _count_audio(
    instruments: Instruments, metrics: CallMetrics, amounts: tuple[Any, ...], audio_tokens: tuple[int, int]
) -> tuple[Any, ...]:
    """Count the audio part of the input and output tokens (rare: no cached entry); returns the
    amounts left for the text modality."""
    left = list(amounts)
    audio_attributes = {**metrics.base, g.GEN_AI_TOKEN_MODALITY: "audio"}
    for index, audio in enumerate(audio_tokens):
        total = amounts[index]
        if total is not None and audio > 0:
            getattr(instruments, COUNTERS[index]).add(audio, audio_attributes)
            left[index] = total - audio
    return tuple(left)


def _replay(
    instruments: Instruments,
    metrics: CallMetrics,
    inference: bool,
    duration: float,
    first_chunk: float | None,
    gaps: Sequence[float],
    input_tokens: Any,
    output_tokens: Any,
) -> None:
    """Record one call's histogram values into the SDK (at collection, off the call path)."""
    timed, base = metrics.timed, metrics.base
    if inference:
        instruments.inference_duration.record(duration, timed)
    if not inference or instruments.legacy:
        instruments.operation_duration.record(duration, timed)
    if first_chunk is not None:
        instruments.time_to_first_chunk.record(first_chunk, base)
        per_chunk = instruments.time_per_output_chunk
        for gap in gaps:
            per_chunk.record(gap, base)
    if input_tokens is not None:
        instruments.operation_input.record(input_tokens, timed)
    if output_tokens is not None:
        instruments.operation_output.record(output_tokens, timed)
    legacy = instruments.legacy_token_usage
    if legacy is not None:
        if input_tokens is not None:
            legacy.record(input_tokens, {**base, g.GEN_AI_TOKEN_TYPE: "input"})
        if output_tokens is not None:
            legacy.record(output_tokens, {**base, g.GEN_AI_TOKEN_TYPE: "output"})


def _value_count(
    instruments: Instruments,
    metrics: CallMetrics,
    inference: bool,
    duration: float,
    first_chunk: float | None,
    gaps: Sequence[float],
    input_tokens: Any,
    output_tokens: Any,
) -> int:
    """How many histogram values :func:`_replay` would record for these arguments."""
    durations = int(inference) + int(not inference or instruments.legacy)
    chunks = 1 + len(gaps) if first_chunk is not None else 0
    tokens = int(input_tokens is not None) + int(output_tokens is not None)
    legacy = tokens if instruments.legacy_token_usage is not None else 0
    return durations + chunks + tokens + legacy
