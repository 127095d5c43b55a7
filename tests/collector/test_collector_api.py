"""The ``/api/*`` routes: what exporters sent is readable back, per tenant and only per tenant."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from collector_support import PROTOBUF, get_json, make_request, post, send_spans, wait_for
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter

from wikitrace_otel.collector import Collector

Spawn = Callable[..., tuple[subprocess.Popen[str], int, int]]


def traces(port: int, headers: dict[str, str], query: str = "") -> list[dict[str, Any]]:
    status, document = get_json(port, f"/api/traces{query}", headers)
    assert status == 200, document
    return list(document["traces"])


@pytest.mark.slow
def test_spans_from_the_official_exporter_are_served_by_the_api(spawn_collector: Spawn, tmp_path: Path) -> None:
    _, _, port = spawn_collector("--store", str(tmp_path / "store"), "--api-key", "k")
    headers = {"Authorization": "Bearer k"}
    exporter = HttpSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces", headers=headers)
    ids = send_spans(exporter, 6)

    assert wait_for(lambda: len(traces(port, headers)) == 6)
    listed = traces(port, headers, "?service=e2e&limit=2")
    assert len(listed) == 2
    trace_id = listed[0]["trace_id"]
    status, document = get_json(port, f"/api/traces/{trace_id}", headers)
    assert status == 200
    assert {span["span_id"] for span in document["spans"]} <= ids
    status, document = get_json(port, "/api/stats?by=service", headers)
    assert status == 200
    assert [(row["key"], row["calls"]) for row in document["rows"]] == [("e2e", 6)]
    assert get_json(port, "/api/traces", {})[0] == 401


def test_a_tenant_key_reads_only_its_own_tenant(start_collector: Callable[..., Collector]) -> None:
    collector = start_collector(keys=[("acme", "a"), ("globex", "g"), ("", "root")], index=True)
    port = collector.http_port
    sent = {}
    for tenant, key in [("acme", "a"), ("globex", "g"), ("", "root")]:
        request, _ = make_request(2, service=tenant or "root")
        assert post(port, "/v1/traces", request.SerializeToString(), {**PROTOBUF, "x-api-key": key})[0] == 200
        sent[tenant] = request.resource_spans[0].scope_spans[0].spans[0].trace_id.hex()

    for tenant, key in [("acme", "a"), ("globex", "g"), ("", "root")]:
        headers = {"x-api-key": key}
        assert wait_for(lambda h=headers: len(traces(port, h)) == 1)  # type: ignore[misc]
        assert [trace["trace_id"] for trace in traces(port, headers)] == [sent[tenant]]
        for other, trace_id in sent.items():
            status, _ = get_json(port, f"/api/traces/{trace_id}", headers)
            assert status == (200 if other == tenant else 404)


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/traces?bogus=1", 400),
        ("/api/traces?since=yesterday-ish", 400),
        ("/api/stats?by=planet", 400),
        ("/api/traces/not-an-id", 400),
        ("/api/traces/" + "ab" * 16, 404),
        ("/api/nothing", 404),
    ],
)
def test_bad_queries_get_a_json_error(collector: Collector, path: str, status: int) -> None:
    answer_status, document = get_json(collector.http_port, path)
    assert answer_status == status
    assert document["error"]


def test_data_stored_before_a_restart_is_indexed_at_start(
    start_collector: Callable[..., Collector], tmp_path: Path
) -> None:
    from wikitrace_otel.collector.wal import WalWriter

    store = tmp_path / "earlier"
    request, _ = make_request(3, service="earlier-run")
    writer = WalWriter(store / "wal" / "traces")
    writer.append([request.SerializeToString()])
    writer.close()

    collector = start_collector(store=store, index=True)
    assert wait_for(lambda: len(traces(collector.http_port, {})) == 1)
    assert traces(collector.http_port, {})[0]["service"] == "earlier-run"
