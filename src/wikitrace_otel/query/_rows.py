"""One index row per span: the columns queries need, and where the whole span is stored.

Column names follow the OpenTelemetry Collector ClickHouse exporter's ``otel_traces`` table where
one exists there (``Timestamp``, ``TraceId``, ``SpanName``, ``ServiceName``, ``Duration``,
``StatusCode``, ``SpanAttributes`` ...). The GenAI columns are attributes pulled out of
``SpanAttributes`` for speed; :data:`CLICKHOUSE_EXPRESSIONS` says how each reads in ClickHouse.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel.processors.cost import PRICED_OPERATIONS, cost_attributes
from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.semconv import legacy
from wikitrace_otel.semconv import wikitrace as w

COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("Timestamp", "BIGINT"),  # span start, ns since the epoch
    ("Duration", "BIGINT"),  # ns
    ("TraceId", "VARCHAR"),  # lowercase hex
    ("SpanId", "VARCHAR"),
    ("ParentSpanId", "VARCHAR"),  # NULL for a root span
    ("TraceState", "VARCHAR"),
    ("Flags", "BIGINT"),  # OTLP span flags (W3C trace flags, parent-is-remote bits)
    ("SpanName", "VARCHAR"),
    ("SpanKind", "VARCHAR"),  # Unspecified | Internal | Server | Client | Producer | Consumer
    ("ServiceName", "VARCHAR"),
    ("ScopeName", "VARCHAR"),
    ("ScopeVersion", "VARCHAR"),
    ("StatusCode", "VARCHAR"),  # Unset | Ok | Error
    ("StatusMessage", "VARCHAR"),
    ("OperationName", "VARCHAR"),
    ("ProviderName", "VARCHAR"),
    ("RequestModel", "VARCHAR"),
    ("ResponseModel", "VARCHAR"),
    ("IsModelCall", "BOOLEAN"),  # an inference or embeddings call (what `stats` counts)
    ("InputTokens", "BIGINT"),
    ("OutputTokens", "BIGINT"),
    ("CacheReadTokens", "BIGINT"),
    ("CacheWriteTokens", "BIGINT"),
    ("ReasoningTokens", "BIGINT"),
    ("Cost", "DOUBLE"),  # USD
    ("SessionId", "VARCHAR"),
    ("UserId", "VARCHAR"),
    ("ErrorType", "VARCHAR"),
    ("Content", "VARCHAR"),  # captured message content, for --search
    ("Source", "VARCHAR"),  # where the whole span is: a JSONL file or WAL segment, relative to the root
    ("SourceOffset", "BIGINT"),  # byte offset of its line or record there
    ("Batch", "BIGINT"),  # the refresh that indexed the span (what `tail` follows)
)
"""The index schema: (name, DuckDB type), in row order."""

COLUMN_NAMES: Final = tuple(name for name, _type in COLUMNS)

CLICKHOUSE_EXPRESSIONS: Final[Mapping[str, str]] = {
    "Timestamp": "toUnixTimestamp64Nano(Timestamp)",
    "ParentSpanId": "nullIf(ParentSpanId, '')",
    "OperationName": "SpanAttributes['gen_ai.operation.name']",
    "ProviderName": "SpanAttributes['gen_ai.provider.name']",
    "RequestModel": "SpanAttributes['gen_ai.request.model']",
    "ResponseModel": "SpanAttributes['gen_ai.response.model']",
    "InputTokens": "toInt64OrNull(SpanAttributes['gen_ai.usage.input_tokens'])",
    "OutputTokens": "toInt64OrNull(SpanAttributes['gen_ai.usage.output_tokens'])",
    "Cost": "toFloat64OrNull(SpanAttributes['gen_ai.usage.cost.amount'])",
    "SessionId": "SpanAttributes['session.id']",
    "UserId": "SpanAttributes['user.id']",
    "ErrorType": "SpanAttributes['error.type']",
}
"""How the index's derived columns read against the ClickHouse exporter's ``otel_traces`` table."""

KIND_NAMES: Final = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_NAMES: Final = ("Unset", "Ok", "Error")

INPUT_KEYS: Final = (g.GEN_AI_USAGE_INPUT_TOKENS, legacy.PROMPT_TOKENS)
OUTPUT_KEYS: Final = (g.GEN_AI_USAGE_OUTPUT_TOKENS, legacy.COMPLETION_TOKENS)
CACHE_READ_KEYS: Final = (g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, legacy.CACHE_READ_INPUT_TOKENS)
CACHE_WRITE_KEYS: Final = (
    g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    g.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    legacy.CACHE_CREATION_INPUT_TOKENS,
)
REASONING_KEYS: Final = (g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,)
# Attributes whose text `--search` looks through: the GenAI content attributes, the decorators'
# arguments and results, and OpenInference's input/output values (Phoenix-style instrumentations).
CONTENT_KEYS: Final = (
    g.GEN_AI_SYSTEM_INSTRUCTIONS,
    g.GEN_AI_INPUT_MESSAGES,
    g.GEN_AI_OUTPUT_MESSAGES,
    g.GEN_AI_TOOL_CALL_ARGUMENTS,
    g.GEN_AI_TOOL_CALL_RESULT,
    w.WIKITRACE_FUNCTION_ARGUMENTS,
    w.WIKITRACE_FUNCTION_RESULT,
    "input.value",
    "output.value",
)
MAX_CONTENT_CHARS: Final = 1_000_000
"""Captured content searched per span; the rest of a longer text is not searched (it is still stored)."""
INDEXED_KEYS: Final = frozenset(
    {
        g.GEN_AI_OPERATION_NAME,
        g.GEN_AI_PROVIDER_NAME,
        g.GEN_AI_SYSTEM,
        g.GEN_AI_REQUEST_MODEL,
        g.GEN_AI_RESPONSE_MODEL,
        g.OPENAI_RESPONSE_SERVICE_TIER,  # pricing reads it
        g.ERROR_TYPE,
        w.GEN_AI_USAGE_COST_AMOUNT,
        w.GEN_AI_USAGE_COST,
        w.SESSION_ID,
        w.USER_ID,
        *INPUT_KEYS,
        *OUTPUT_KEYS,
        *CACHE_READ_KEYS,
        *CACHE_WRITE_KEYS,
        *REASONING_KEYS,
        *CONTENT_KEYS,
    }
)
"""The attributes the index reads (the rest is only stored)."""
# Not model calls even when they name a model (an agent span may carry its model and totals).
NOT_MODEL_CALLS: Final = frozenset({"invoke_agent", "invoke_workflow", "execute_tool", "retrieval", "create_agent"})


def build_row(
    span: tuple[str, str, str | None, str, int, str, int, int, int, int, str, str, str],
    attributes: dict[str, Any],
    service: str | None,
    source: tuple[str, int],
    batch: int,
) -> tuple[Any, ...]:
    """One index row (the indexer builds the same values column by column, see ``_decode``).

    Args:
        span: (trace id, span id, parent id or None, trace state, flags, name, OTLP kind,
            start ns, end ns, OTLP status code, status message, scope name, scope version).
        attributes: the span's attributes in :data:`INDEXED_KEYS`, as plain values (others may be
            there too, and are ignored).
        service: the resource's ``service.name``.
        source: the file (relative to the store root) and byte offset of the line or WAL
            record that holds the whole span.
        batch: the refresh number.
    """
    trace_id, span_id, parent, state, flags, name, kind, start, end, code, message, scope, scope_version = span
    head = (
        start,
        max(end - start, 0),
        trace_id,
        span_id,
        parent or None,
        state or None,
        flags or None,
        _clean(name),
        KIND_NAMES[kind] if 0 <= kind < len(KIND_NAMES) else KIND_NAMES[0],
        service_column(service),
        scope or None,
        scope_version or None,
        STATUS_NAMES[code] if 0 <= code < len(STATUS_NAMES) else STATUS_NAMES[0],
        _clean(message) or None,
    )
    return head + genai_columns(attributes) + source + (batch,)


def service_column(service: str | None) -> str | None:
    """The ServiceName value of a resource's ``service.name``."""
    return _clean(service) if service else None


NO_GENAI: Final = (None, None, None, None, False, None, None, None, None, None, None, None, None, None, None)
""":func:`genai_columns` of a span without indexed attributes."""
_CONTENT_SET: Final = frozenset(CONTENT_KEYS)
_USAGE_KEYS: Final = frozenset((*INPUT_KEYS, *OUTPUT_KEYS, *CACHE_READ_KEYS, *CACHE_WRITE_KEYS, *REASONING_KEYS))
_NO_USAGE: Final = (None, None, None, None, None)
CARRIED_COST_KEYS: Final = (w.GEN_AI_USAGE_COST_AMOUNT, w.GEN_AI_USAGE_COST)


def genai_columns(attributes: dict[str, Any]) -> tuple[Any, ...]:
    """The columns OperationName ... Content (see :data:`COLUMNS`) of a span's indexed attributes.

    The reference, span by span: the indexer computes the same values a group of spans at a time
    (``_genai_block.genai_block``), and a test holds the two equal.
    """
    if not attributes:
        return NO_GENAI
    get = attributes.get
    operation = text_value(get(g.GEN_AI_OPERATION_NAME))
    request_model = text_value(get(g.GEN_AI_REQUEST_MODEL))
    response_model = text_value(get(g.GEN_AI_RESPONSE_MODEL))
    model_call = operation in PRICED_OPERATIONS or (
        operation not in NOT_MODEL_CALLS and bool(request_model or response_model)
    )
    cost = _cost(attributes) if model_call else number(attributes, CARRIED_COST_KEYS)
    usage = (
        _NO_USAGE
        if _USAGE_KEYS.isdisjoint(attributes)
        else (
            integer(attributes, INPUT_KEYS),
            integer(attributes, OUTPUT_KEYS),
            integer(attributes, CACHE_READ_KEYS),
            integer(attributes, CACHE_WRITE_KEYS),
            integer(attributes, REASONING_KEYS),
        )
    )
    return (
        operation,
        text_value(get(g.GEN_AI_PROVIDER_NAME)) or text_value(get(g.GEN_AI_SYSTEM)),
        request_model,
        response_model,
        model_call,
        *usage,
        cost,
        text_value(get(w.SESSION_ID)),
        text_value(get(w.USER_ID)),
        text_value(get(g.ERROR_TYPE)),
        None if _CONTENT_SET.isdisjoint(attributes) else content(attributes),
    )


def _cost(attributes: dict[str, Any]) -> float | None:
    carried = number(attributes, CARRIED_COST_KEYS)
    if carried is not None:
        return carried
    try:
        # Spans from other SDKs (received by the collector) arrive without a cost: price them here.
        return number(cost_attributes(attributes), (w.GEN_AI_USAGE_COST_AMOUNT,))
    except Exception as error:  # noqa: BLE001 - an unpriceable span is indexed without a cost
        report_internal_error(error)
        return None


def text_value(value: Any) -> str | None:
    """An attribute value as a name column holds it: None when empty, else its text without NUL."""
    if not value:  # None, "", and the rare 0 / False / [] carry no name either
        return None
    if value.__class__ is not str:
        value = str(value)
    return value.replace("\x00", "") if "\x00" in value else value  # type: ignore[no-any-return]


def _clean(text: str) -> str:
    # NUL cannot travel through the CSV bulk load; nothing queries by it.
    return text.replace("\x00", "") if "\x00" in text else text


def integer(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> int | None:
    """The first of ``keys`` holding a number (not a bool), as an int; None when none does."""
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return int(value)
    return None


def number(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    """The first of ``keys`` holding a finite number (not a bool), as a float; None when none does."""
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


def content(attributes: Mapping[str, Any]) -> str | None:
    """The Content column: the texts of :data:`CONTENT_KEYS`, one per line, cut at :data:`MAX_CONTENT_CHARS`."""
    if _CONTENT_SET.isdisjoint(attributes):
        return None
    texts = [value for key in CONTENT_KEYS if isinstance(value := attributes.get(key), str) and value]
    return _clean("\n".join(texts)[:MAX_CONTENT_CHARS]) if texts else None
