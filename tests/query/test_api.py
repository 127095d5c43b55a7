"""The query API over a store written by the real pipeline (file exporter, OpenAI SDK, fake server)."""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from query_support import AgentRun, by_trace, hex_id, sdk_attributes

from wikitrace_otel.processors.cost import cost_attributes
from wikitrace_otel.query import QueryStore, TraceFilter


def expected_cost(span: ReadableSpan) -> float:
    return cost_attributes(span.attributes).get("gen_ai.usage.cost.amount", 0.0)


@pytest.fixture
def three_traces(agent: AgentRun) -> list[str]:
    """alice twice (one with a failed call), bob once; returned oldest first."""
    return [
        agent("Where is the Paris store?", user="alice", session_id="s-1"),
        agent("How fast do orders ship?", user="bob", session_id="s-2", model="gpt-4o"),
        agent("Can I return shoes?", user="alice", session_id="s-1", fail=True),
    ]


@pytest.fixture
def store(store_dir: Path) -> QueryStore:
    with QueryStore(store_dir) as opened:
        yield opened


def test_list_traces_summarises_each_trace(
    three_traces: list[str], store: QueryStore, span_exporter: InMemorySpanExporter
) -> None:
    sdk = by_trace(span_exporter.get_finished_spans())
    assert store.refresh() == sum(len(spans) for spans in sdk.values()) == 12

    traces = store.list_traces()

    assert [trace["trace_id"] for trace in traces] == three_traces[::-1]
    for trace in traces:
        spans = sdk[trace["trace_id"]]
        chats = [span for span in spans if span.attributes.get("gen_ai.operation.name") == "chat"]
        assert trace["root_name"] == "invoke_agent support"
        assert trace["service"] == "shop"
        assert trace["span_count"] == len(spans) == 4
        start = min(span.start_time for span in spans)
        assert trace["start_time_unix_nano"] == start
        assert trace["duration_ms"] == (max(span.end_time for span in spans) - start) / 1e6
        assert trace["input_tokens"] == sum(span.attributes.get("gen_ai.usage.input_tokens", 0) for span in chats)
        # The instrumentor's spans reach the exporter without cost here: the index prices them.
        assert trace["cost"] == pytest.approx(sum(expected_cost(span) for span in chats))
        assert trace["cost"] > 0
    newest, middle, oldest = traces
    assert (newest["status"], newest["errors"], newest["user_id"], newest["session_id"]) == ("error", 1, "alice", "s-1")
    assert newest["tokens"] == 18  # the failed call reported no usage
    assert (oldest["status"], oldest["tokens"], oldest["models"]) == ("ok", 36, ["gpt-4o-mini"])
    assert (middle["user_id"], middle["models"]) == ("bob", ["gpt-4o"])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"user": "alice"}, [2, 0]),
        ({"session": "s-2"}, [1]),
        ({"model": "gpt-4o"}, [1]),
        ({"model": "gpt-4o-2026-01-01"}, [1]),  # the response model matches too
        ({"provider": "openai", "limit": "2"}, [2, 1]),
        ({"status": "error"}, [2]),
        ({"status": "ok"}, [1, 0]),
        ({"search": "PARIS store"}, [0]),
        ({"search": "shoes", "user": "bob"}, []),
        ({"service": "shop"}, [2, 1, 0]),
        ({"service": "other"}, []),
        ({"since": "1h"}, [2, 1, 0]),
        ({"until": "1h"}, []),
    ],
)
def test_trace_filters(three_traces: list[str], store: QueryStore, params: dict[str, str], expected: list[int]) -> None:
    store.refresh()
    found = [trace["trace_id"] for trace in store.list_traces(TraceFilter.from_params(params))]
    assert found == [three_traces[index] for index in expected]


def test_since_and_until_bound_the_trace_start(three_traces: list[str], store: QueryStore) -> None:
    store.refresh()
    starts = {trace["trace_id"]: trace["start_time_unix_nano"] for trace in store.list_traces()}
    middle = starts[three_traces[1]]
    assert [t["trace_id"] for t in store.list_traces(TraceFilter(since=middle))] == three_traces[:0:-1]
    assert [t["trace_id"] for t in store.list_traces(TraceFilter(until=middle))] == three_traces[1::-1]
    iso = store.list_traces(TraceFilter(since=middle))[-1]["start_time"]  # microseconds: at or before middle
    assert len(store.list_traces(TraceFilter.from_params({"since": iso}))) == 2


def test_get_trace_returns_every_field(
    three_traces: list[str], store: QueryStore, span_exporter: InMemorySpanExporter
) -> None:
    store.refresh()
    sdk = {hex_id(span.context.span_id, 16): span for span in span_exporter.get_finished_spans()}
    spans = store.get_trace(three_traces[2].upper())

    assert spans is not None and len(spans) == 4
    assert [span["start_time_unix_nano"] for span in spans] == sorted(span["start_time_unix_nano"] for span in spans)
    for span in spans:
        original = sdk[span["span_id"]]
        assert span["attributes"] == sdk_attributes(original)
        assert span["resource"] == dict(original.resource.attributes)
        assert span["name"] == original.name
        assert span["kind"] == original.kind.name
        assert span["status_code"] == original.status.status_code.name
        parent = original.parent
        assert span["parent_span_id"] == (hex_id(parent.span_id, 16) if parent else None)
        assert [event["name"] for event in span["events"]] == [event.name for event in original.events]
    failed = next(span for span in spans if span["status_code"] == "ERROR")
    assert failed["error_type"] == sdk[failed["span_id"]].attributes["error.type"]
    assert failed["events"][0]["attributes"]["exception.type"].endswith("InternalServerError")
    assert store.get_trace("0" * 32) is None
    with pytest.raises(ValueError, match="not a trace id"):
        store.get_trace("abc")


def test_stats_by_model(three_traces: list[str], store: QueryStore, span_exporter: InMemorySpanExporter) -> None:
    store.refresh()
    chats = [s for s in span_exporter.get_finished_spans() if s.attributes.get("gen_ai.operation.name") == "chat"]

    rows = {row["key"]: row for row in store.stats("model")}

    assert set(rows) == {"gpt-4o-mini", "gpt-4o"}
    mini = rows["gpt-4o-mini"]
    mini_spans = [s for s in chats if s.attributes["gen_ai.request.model"] == "gpt-4o-mini"]
    assert (mini["calls"], mini["errors"], mini["error_rate"]) == (4, 1, 0.25)
    assert (mini["input_tokens"], mini["output_tokens"]) == (33, 21)
    assert mini["cost"] == pytest.approx(sum(expected_cost(s) for s in mini_spans))
    durations = [(s.end_time - s.start_time) / 1e6 for s in mini_spans]
    p50, p95, p99 = (statistics.quantiles(durations, n=100, method="inclusive")[p - 1] for p in (50, 95, 99))
    assert (mini["p50_ms"], mini["p95_ms"], mini["p99_ms"]) == pytest.approx((p50, p95, p99))
    assert rows["gpt-4o"]["calls"] == 2


@pytest.mark.parametrize(
    ("by", "keys"), [("user", {"alice", "bob"}), ("session", {"s-1", "s-2"}), ("service", {"shop"})]
)
def test_stats_groups(three_traces: list[str], store: QueryStore, by: str, keys: set[str]) -> None:
    store.refresh()
    rows = store.stats(by)
    assert {row["key"] for row in rows} == keys
    assert sum(row["calls"] for row in rows) == 6


def test_stats_by_time_and_filters(three_traces: list[str], store: QueryStore) -> None:
    store.refresh()
    (day,) = store.stats("day")
    (hour,) = store.stats("hour")
    today = store.list_traces()[0]["start_time"]
    assert (day["key"], hour["key"]) == (today[:10], today[:13] + ":00Z")
    assert [row["calls"] for row in store.stats("user", TraceFilter(status="error"))] == [1]
    assert [row["key"] for row in store.stats("model", TraceFilter(user="bob"))] == ["gpt-4o"]
    assert store.stats("model", TraceFilter(until=0)) == []
    with pytest.raises(ValueError, match="cannot group by 'color'"):
        store.stats("color")


def test_an_empty_or_missing_store_answers_empty(tmp_path: Path) -> None:
    with QueryStore(tmp_path / "missing") as store:
        assert store.list_traces() == [] and store.stats("model") == [] and store.get_trace("1" * 32) is None
        assert store.refresh() == 0
        assert store.span_count == 0
