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

_INPUT: Final = (g.GEN_AI_USAGE_INPUT_TOKENS, legacy.PROMPT_TOKENS)
_OUTPUT: Final = (g.GEN_AI_USAGE_OUTPUT_TOKENS, legacy.COMPLETION_TOKENS)
_CACHE_READ: Final = (g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, legacy.CACHE_READ_INPUT_TOKENS)
_CACHE_WRITE: Final = (
    g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    g.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS,
    legacy.CACHE_CREATION_INPUT_TOKENS,
)
_REASONING: Final = (g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,)
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
        *_INPUT,
        *_OUTPUT,
        *_CACHE_READ,
        *_CACHE_WRITE,
        *_REASONING,
        *CONTENT_KEYS,
    }
)
"""The attributes the index reads (the rest is only stored)."""
# Not model calls even when they name a model (an agent span may carry its model and totals).
_NOT_MODEL_CALLS: Final = frozenset({"invoke_agent", "invoke_workflow", "execute_tool", "retrieval", "create_agent"})


def build_row(
    span: tuple[str, str, str | None, str, int, str, int, int, int, int, str, str, str],
    attributes: dict[str, Any],
    service: str | None,
    source: tuple[str, int],
    batch: int,
) -> tuple[Any, ...]:
    """One index row.

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
        _clean(service) if service else None,
        scope or None,
        scope_version or None,
        STATUS_NAMES[code] if 0 <= code < len(STATUS_NAMES) else STATUS_NAMES[0],
        _clean(message) or None,
    )
    return head + (_genai_columns(attributes) if attributes else _NO_GENAI) + source + (batch,)


_NO_GENAI: Final = (None, None, None, None, False, None, None, None, None, None, None, None, None, None, None)
_CONTENT_SET: Final = frozenset(CONTENT_KEYS)
_USAGE_KEYS: Final = frozenset((*_INPUT, *_OUTPUT, *_CACHE_READ, *_CACHE_WRITE, *_REASONING))


def _genai_columns(attributes: dict[str, Any]) -> tuple[Any, ...]:
    """OperationName ... Content (see :data:`COLUMNS`)."""
    operation = _text(attributes, g.GEN_AI_OPERATION_NAME)
    request_model = _text(attributes, g.GEN_AI_REQUEST_MODEL)
    response_model = _text(attributes, g.GEN_AI_RESPONSE_MODEL)
    model_call = operation in PRICED_OPERATIONS or (
        operation not in _NOT_MODEL_CALLS and bool(request_model or response_model)
    )
    cost = _cost(attributes) if model_call else _number(attributes, (w.GEN_AI_USAGE_COST_AMOUNT, w.GEN_AI_USAGE_COST))
    usage = (
        (
            _integer(attributes, _INPUT),
            _integer(attributes, _OUTPUT),
            _integer(attributes, _CACHE_READ),
            _integer(attributes, _CACHE_WRITE),
            _integer(attributes, _REASONING),
        )
        if not _USAGE_KEYS.isdisjoint(attributes)
        else (None, None, None, None, None)
    )
    return (
        operation,
        _text(attributes, g.GEN_AI_PROVIDER_NAME) or _text(attributes, g.GEN_AI_SYSTEM),
        request_model,
        response_model,
        model_call,
        *usage,
        cost,
        _text(attributes, w.SESSION_ID),
        _text(attributes, w.USER_ID),
        _text(attributes, g.ERROR_TYPE),
        _content(attributes),
    )


def _cost(attributes: dict[str, Any]) -> float | None:
    carried = _number(attributes, (w.GEN_AI_USAGE_COST_AMOUNT, w.GEN_AI_USAGE_COST))
    if carried is not None:
        return carried
    try:
        # Spans from other SDKs (received by the collector) arrive without a cost: price them here.
        return _number(cost_attributes(attributes), (w.GEN_AI_USAGE_COST_AMOUNT,))
    except Exception as error:  # noqa: BLE001 - an unpriceable span is indexed without a cost
        report_internal_error(error)
        return None


def _text(attributes: Mapping[str, Any], key: str) -> str | None:
    value = attributes.get(key)
    if not value:  # None, "", and the rare 0 / False / [] carry no name either
        return None
    if value.__class__ is not str:
        value = str(value)
    return value.replace("\x00", "") if "\x00" in value else value


def _clean(text: str) -> str:
    # NUL cannot travel through the CSV bulk load; nothing queries by it.
    return text.replace("\x00", "") if "\x00" in text else text


def _integer(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, float) and math.isfinite(value):
            return int(value)
    return None


def _number(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> float | None:
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            return float(value)
    return None


def _content(attributes: Mapping[str, Any]) -> str | None:
    if _CONTENT_SET.isdisjoint(attributes):
        return None
    texts = [value for key in CONTENT_KEYS if isinstance(value := attributes.get(key), str) and value]
    return _clean("\n".join(texts)[:MAX_CONTENT_CHARS]) if texts else None
