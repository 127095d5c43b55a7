"""Index rows as the JSON-able dicts the API returns."""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from wikitrace_otel.query._fetch import FullSpan
from wikitrace_otel.query._rows import COLUMN_NAMES
from wikitrace_otel.store import any_value

_INDEX = {name: position for position, name in enumerate(COLUMN_NAMES)}
_KIND = {"Unspecified": "INTERNAL", "Internal": "INTERNAL", "Server": "SERVER", "Client": "CLIENT"}
_KIND.update({"Producer": "PRODUCER", "Consumer": "CONSUMER"})


def iso_time(nanoseconds: int) -> str:
    """Nanoseconds since the epoch as ISO 8601 UTC with microseconds (``2026-05-01T12:00:00.123456Z``)."""
    moment = datetime.fromtimestamp(nanoseconds // 1000 / 1e6, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def span_dict(row: Sequence[Any], full: FullSpan | None) -> dict[str, Any]:
    """A span (an index row in ``COLUMN_NAMES`` order) as a JSON-able dict.

    Keys: ``trace_id``, ``span_id``, ``parent_span_id`` (None for a root), ``name``, ``kind``
    (``CLIENT``...), ``start_time_unix_nano``, ``end_time_unix_nano``, ``start_time`` (ISO 8601
    UTC), ``duration_ms``, ``status_code`` (``UNSET``/``OK``/``ERROR``), ``status_message``,
    ``service``, ``scope_name``, ``scope_version``, ``trace_state``; what the index extracted:
    ``operation``, ``provider``, ``request_model``, ``response_model``, ``model_call`` (an
    inference or embeddings call), ``input_tokens``,
    ``output_tokens``, ``cache_read_tokens``, ``cache_write_tokens``, ``reasoning_tokens``,
    ``cost``, ``session_id``, ``user_id``, ``error_type``; and every stored field in full:
    ``attributes`` and ``resource`` (plain values), ``events`` (``name``, ``time_unix_nano``,
    ``attributes``) and ``links`` (``trace_id``, ``span_id``, ``trace_state``, ``attributes``),
    read back from the span's source; ``complete`` is False when that source is gone (the four
    are then empty).
    """
    get = row.__getitem__
    start = get(_INDEX["Timestamp"])
    stored = full.span if full is not None else {}
    duration = get(_INDEX["Duration"])
    return {
        "trace_id": get(_INDEX["TraceId"]),
        "span_id": get(_INDEX["SpanId"]),
        "parent_span_id": get(_INDEX["ParentSpanId"]),
        "name": get(_INDEX["SpanName"]) or "",
        "kind": _KIND.get(get(_INDEX["SpanKind"]), "INTERNAL"),
        "start_time_unix_nano": start,
        "end_time_unix_nano": start + duration,
        "start_time": iso_time(start),
        "duration_ms": duration / 1e6,
        "status_code": (get(_INDEX["StatusCode"]) or "Unset").upper(),
        "status_message": get(_INDEX["StatusMessage"]) or "",
        "service": get(_INDEX["ServiceName"]),
        "scope_name": get(_INDEX["ScopeName"]) or "",
        "scope_version": get(_INDEX["ScopeVersion"]) or "",
        "trace_state": get(_INDEX["TraceState"]) or "",
        "operation": get(_INDEX["OperationName"]),
        "provider": get(_INDEX["ProviderName"]),
        "request_model": get(_INDEX["RequestModel"]),
        "response_model": get(_INDEX["ResponseModel"]),
        "model_call": bool(get(_INDEX["IsModelCall"])),
        "input_tokens": get(_INDEX["InputTokens"]),
        "output_tokens": get(_INDEX["OutputTokens"]),
        "cache_read_tokens": get(_INDEX["CacheReadTokens"]),
        "cache_write_tokens": get(_INDEX["CacheWriteTokens"]),
        "reasoning_tokens": get(_INDEX["ReasoningTokens"]),
        "cost": get(_INDEX["Cost"]),
        "session_id": get(_INDEX["SessionId"]),
        "user_id": get(_INDEX["UserId"]),
        "error_type": get(_INDEX["ErrorType"]),
        "attributes": json_safe(_decoded(stored.get("attributes") or [])),
        "resource": json_safe(_decoded(full.resource)) if full is not None else {},
        "events": [_event(event) for event in stored.get("events") or ()],
        "links": [_link(link) for link in stored.get("links") or ()],
        "complete": full is not None,
    }


def trace_summary(row: Sequence[Any]) -> dict[str, Any]:
    """A row of the trace list query as the API's dict."""
    (trace_id, start, duration, count, root, service, models, tokens_in, tokens_out, cost, errors, session, user) = row
    return {
        "trace_id": trace_id,
        "start_time": iso_time(start),
        "start_time_unix_nano": start,
        "duration_ms": duration / 1e6,
        "root_name": root or "",
        "service": service,
        "span_count": count,
        "models": list(models or ()),
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "tokens": (tokens_in or 0) + (tokens_out or 0) if tokens_in is not None or tokens_out is not None else None,
        "cost": cost,
        "errors": errors,
        "status": "error" if errors else "ok",
        "session_id": session,
        "user_id": user,
    }


def _decoded(key_values: list[dict[str, Any]]) -> dict[str, Any]:
    return {kv["key"]: any_value(kv.get("value")) for kv in key_values}


def _event(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": item.get("name", ""),
        "time_unix_nano": int(item.get("timeUnixNano", 0)),
        "attributes": json_safe(_decoded(item.get("attributes") or [])),
    }


def _link(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "trace_id": str(item.get("traceId", "")).lower(),
        "span_id": str(item.get("spanId", "")).lower(),
        "trace_state": item.get("traceState", ""),
        "attributes": json_safe(_decoded(item.get("attributes") or [])),
    }


def json_safe(value: Any) -> Any:
    """Bytes as base64 text and non-finite floats as ``"NaN"``/``"Infinity"``, so ``json.dumps`` gives strict JSON."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value
