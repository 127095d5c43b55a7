"""API keys, tenants, and refusing to listen beyond loopback without a key."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from collector_support import PROTOBUF, make_request, post, raw_export, wal_span_ids

from wikitrace_otel.collector import Collector, CollectorConfig
from wikitrace_otel.collector.auth import KeyRing, read_keys_file


@pytest.fixture
def keyed(start_collector: Callable[..., Collector]) -> Collector:
    return start_collector(keys=[("", "root-key"), ("acme", "acme-key"), ("globex", "globex-key")])


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"x-api-key": "wrong"}, {"Authorization": "Basic root-key"}],
    ids=["none", "wrong-bearer", "wrong-x-api-key", "not-bearer"],
)
def test_http_without_a_valid_key_gets_401(keyed: Collector, headers: dict[str, str]) -> None:
    request, _ = make_request(1)
    status, answer_headers, _ = post(
        keyed.http_port, "/v1/traces", request.SerializeToString(), {**PROTOBUF, **headers}
    )
    assert status == 401
    assert answer_headers["www-authenticate"].startswith("Bearer")
    assert post(keyed.http_port, "/api/health", b"", headers, method="GET")[0] == 401
    assert not (keyed.config.store / "wal").exists()


def test_grpc_without_a_valid_key_is_unauthenticated(keyed: Collector) -> None:
    request, _ = make_request(1)
    with grpc.insecure_channel(f"127.0.0.1:{keyed.grpc_port}") as channel:
        for metadata in [(), (("authorization", "Bearer nope"),)]:
            with pytest.raises(grpc.RpcError) as caught:
                raw_export(channel, request.SerializeToString(), metadata)
            assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED  # type: ignore[attr-defined]
        raw_export(channel, request.SerializeToString(), (("x-api-key", "acme-key"),))


def test_each_tenant_is_stored_apart_and_untenanted_keys_use_the_root(keyed: Collector) -> None:
    store = keyed.config.store
    sent = {}
    for tenant, headers in [
        ("", {"Authorization": "Bearer root-key"}),
        ("acme", {"x-api-key": "acme-key"}),
        ("globex", {"authorization": "bearer globex-key"}),
    ]:
        request, ids = make_request(2, service=tenant or "root")
        assert post(keyed.http_port, "/v1/traces", request.SerializeToString(), {**PROTOBUF, **headers})[0] == 200
        sent[tenant] = ids

    assert sorted(wal_span_ids(store / "wal" / "traces")) == sorted(sent[""])
    assert sorted(wal_span_ids(store / "tenants" / "acme" / "wal" / "traces")) == sorted(sent["acme"])
    assert sorted(wal_span_ids(store / "tenants" / "globex" / "wal" / "traces")) == sorted(sent["globex"])


def test_health_shows_counters_only_to_keys_of_the_root(keyed: Collector) -> None:
    import json

    status, _, body = post(keyed.http_port, "/api/health", b"", {"x-api-key": "root-key"}, method="GET")
    assert status == 200
    assert "counters" in json.loads(body)
    status, _, body = post(keyed.http_port, "/api/health", b"", {"x-api-key": "acme-key"}, method="GET")
    assert (status, json.loads(body)["status"]) == (200, "ok")
    assert "counters" not in json.loads(body)


def test_keys_file_accepts_plain_and_hashed_keys(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"secret-two").hexdigest()
    path = tmp_path / "keys"
    path.write_text(f"# operators\nsecret-one\n\nacme=sha256:{digest}\n", encoding="utf-8")
    ring = KeyRing(read_keys_file(path))

    assert ring.tenant_for("secret-one") == ""
    assert ring.tenant_for("secret-two") == "acme"
    assert ring.tenant_for(f"sha256:{digest}") is None
    assert ring.tenant_for("other") is None


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ([("../etc", "k")], "invalid tenant"),
        ([("a", "k"), ("b", "k")], "two tenants"),
        ([("", " padded ")], "surrounding spaces"),
        ([("", "sha256:xyz")], "64 hex"),
    ],
)
def test_bad_keys_and_tenant_names_are_refused(tmp_path: Path, keys: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CollectorConfig(store=tmp_path, keys=keys).validate()


def test_listening_beyond_loopback_needs_a_key_or_insecure(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="without an API key"):
        CollectorConfig(host="0.0.0.0", store=tmp_path).validate()
    assert not CollectorConfig(host="0.0.0.0", store=tmp_path, keys=[("", "k")]).validate().tenants - {""}
    CollectorConfig(host="0.0.0.0", store=tmp_path, insecure=True).validate()
    CollectorConfig(host="::1", store=tmp_path).validate()
