"""The queries, as SQL over a ``spans`` relation with the index's columns.

They use only portable SQL plus a few functions that exist under other names in ClickHouse
(``quantile_cont`` is ``quantilesExact``/``quantiles``, ``bool_or`` is ``max``, ``list`` is
``groupArray``); see the README's "Querying the store" for the ClickHouse versions.
"""

from __future__ import annotations

from typing import Any, Final

from wikitrace_otel.query._filter import TraceFilter

MODEL: Final = "coalesce(RequestModel, ResponseModel)"
_DAY: Final = "strftime(make_timestamp(Timestamp // 1000), '%Y-%m-%d')"
_HOUR: Final = "strftime(make_timestamp(Timestamp // 1000), '%Y-%m-%dT%H:00Z')"
GROUPS: Final = {
    "model": MODEL,
    "provider": "ProviderName",
    "service": "ServiceName",
    "user": "UserId",
    "session": "SessionId",
    "day": _DAY,
    "hour": _HOUR,
}
"""``stats --by`` keys and the expression each groups by."""


def span_conditions(selection: TraceFilter, *, with_status: bool) -> tuple[list[str], list[Any]]:
    """WHERE conditions (and their parameters) that a single span is checked against."""
    conditions: list[str] = []
    params: list[Any] = []
    for column, value in (
        ("ServiceName", selection.service),
        ("ProviderName", selection.provider),
        ("UserId", selection.user),
        ("SessionId", selection.session),
    ):
        if value is not None:
            conditions.append(f"{column} = ?")
            params.append(value)
    if selection.model is not None:
        conditions.append("(RequestModel = ? OR ResponseModel = ?)")
        params += [selection.model, selection.model]
    if selection.search is not None:
        conditions.append("contains(lower(Content), lower(?))")
        params.append(selection.search)
    if with_status and selection.status == "error":
        conditions.append("StatusCode = 'Error'")
    return conditions, params


def candidate_traces(selection: TraceFilter) -> tuple[str, list[Any]] | None:
    """The TraceIds with a span matching each span-level field, or None when the filter has none.

    One ``DISTINCT`` scan per field, intersected: each scan reads only the rows its condition
    keeps, where an ``IN`` per field would join every span of the store once per field.
    """
    conditions = _span_match_conditions(selection)
    if not conditions:
        return None
    # A trace that starts at or after `since` has every span at or after it.
    since = f" AND Timestamp >= {int(selection.since)}" if selection.since is not None else ""
    selects = [f"SELECT DISTINCT TraceId FROM spans WHERE {condition}{since}" for condition, _ in conditions]
    return " INTERSECT ".join(selects), [value for _, values in conditions for value in values]


def matching_traces(selection: TraceFilter, *, page: bool = False, candidates: bool = False) -> tuple[str, list[Any]]:
    """A subquery of the TraceIds the filter selects (by its trace-level meaning).

    ``page``: only the newest ``selection.limit`` of them, so the costly per-trace figures are
    computed for one page only. ``candidates``: the span-level fields were resolved already by
    :func:`candidate_traces`, whose ids are the first parameter (a list).
    """
    params: list[Any] = []
    parts: list[str] = []
    if candidates:
        parts.append("TraceId IN (SELECT unnest(?::VARCHAR[]))")
        params.append(None)  # the caller's list of ids goes here
    else:
        for condition, value in _span_match_conditions(selection):
            parts.append(f"TraceId IN (SELECT TraceId FROM spans WHERE {condition})")
            params += value
    having: list[str] = []
    if selection.since is not None:
        having.append("min(Timestamp) >= ?")
        params.append(selection.since)
    if selection.until is not None:
        having.append("min(Timestamp) <= ?")
        params.append(selection.until)
    if selection.status == "error":
        having.append("bool_or(StatusCode = 'Error')")
    elif selection.status == "ok":
        having.append("NOT bool_or(StatusCode = 'Error')")
    where = f"WHERE {' AND '.join(parts)}" if parts else ""
    if selection.since is not None:  # a trace starting after `since` has every span after it
        where = f"{where} {'AND' if where else 'WHERE'} Timestamp >= {int(selection.since)}"
    having_sql = f"HAVING {' AND '.join(having)}" if having else ""
    if page:
        newest = f"ORDER BY min(Timestamp) DESC, TraceId LIMIT {int(selection.limit)}"
        return f"SELECT TraceId FROM spans {where} GROUP BY TraceId {having_sql} {newest}", params
    return f"SELECT TraceId FROM spans {where} GROUP BY TraceId {having_sql}", params


def _span_match_conditions(selection: TraceFilter) -> list[tuple[str, list[Any]]]:
    # Each field may be matched by a different span of the trace, so each is its own IN.
    conditions, params = span_conditions(selection, with_status=False)
    result: list[tuple[str, list[Any]]] = []
    index = 0
    for condition in conditions:
        count = condition.count("?")
        result.append((condition, params[index : index + count]))
        index += count
    return result


def list_traces() -> str:
    """One summary row per trace whose id is in the list parameter, newest first.

    Run with the ids of :func:`matching_traces` ``(page=True)``: given as a list, not as a
    subquery, DuckDB filters the scan by them instead of summarising every trace first.
    """
    root = "ParentSpanId IS NULL"
    return f"""
        SELECT TraceId,
            min(Timestamp) AS start,
            max(Timestamp + Duration) - min(Timestamp) AS duration,
            count(*) AS span_count,
            coalesce(arg_min(SpanName, Timestamp) FILTER (WHERE {root}), arg_min(SpanName, Timestamp)) AS root_name,
            coalesce(arg_min(ServiceName, Timestamp) FILTER (WHERE {root}), arg_min(ServiceName, Timestamp)) AS service,
            list_sort(list_distinct(list({MODEL}) FILTER (WHERE IsModelCall AND {MODEL} IS NOT NULL))) AS models,
            sum(InputTokens) FILTER (WHERE IsModelCall) AS input_tokens,
            sum(OutputTokens) FILTER (WHERE IsModelCall) AS output_tokens,
            sum(Cost) FILTER (WHERE IsModelCall) AS cost,
            count(*) FILTER (WHERE StatusCode = 'Error') AS errors,
            max(SessionId) AS session,
            max(UserId) AS user_id
        FROM spans
        WHERE TraceId IN (SELECT unnest(?::VARCHAR[]))
        GROUP BY TraceId
        ORDER BY start DESC, TraceId
    """


def stats(by: str, selection: TraceFilter) -> tuple[str, list[Any]]:
    """Per-group figures over the selected model calls."""
    key = GROUPS[by]
    conditions, params = span_conditions(selection, with_status=True)
    conditions.insert(0, "IsModelCall")
    if selection.status == "ok":
        conditions.append("StatusCode <> 'Error'")
    if selection.since is not None:
        conditions.append("Timestamp >= ?")
        params.append(selection.since)
    if selection.until is not None:
        conditions.append("Timestamp <= ?")
        params.append(selection.until)
    sql = f"""
        SELECT {key} AS key,
            count(*) AS calls,
            count(*) FILTER (WHERE StatusCode = 'Error') AS errors,
            coalesce(sum(InputTokens), 0) AS input_tokens,
            coalesce(sum(OutputTokens), 0) AS output_tokens,
            coalesce(sum(CacheReadTokens), 0) AS cache_read_tokens,
            coalesce(sum(ReasoningTokens), 0) AS reasoning_tokens,
            sum(Cost) AS cost,
            quantile_cont(Duration, [0.5, 0.95, 0.99]) AS latency
        FROM spans
        WHERE {" AND ".join(conditions)}
        GROUP BY key
        ORDER BY {"key" if by in ("day", "hour") else "calls DESC, key"}
    """
    return sql, params
