"""TLS on both listeners (``--tls-cert``/``--tls-key``) and client certificates (``--tls-client-ca``)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from collector_support import PROTOBUF, make_request, raw_export, send_spans, wait_for, wal_span_ids
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from tls_support import Pki, make_pki

from wikitrace_otel.cli import main
from wikitrace_otel.collector import Collector, CollectorConfig

Start = Callable[..., Collector]
HEALTH = b"GET /api/health HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture(autouse=True)
def _no_bundle_override(monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets these take precedence over a session's own CA file, which is how the
    # OpenTelemetry HTTP exporter 1.45 passes certificate_file: with them set it ignores the option.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def tls_settings(pki: Pki, mutual: bool = False) -> dict[str, Any]:
    settings: dict[str, Any] = {"tls_cert": pki.server_cert, "tls_key": pki.server_key}
    if mutual:
        settings["tls_client_ca"] = pki.ca
    return settings


def https(
    port: int, context: ssl.SSLContext, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One HTTPS request (GET without a body, else POST) on a fresh connection."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        conn.request("GET" if body is None else "POST", path, body=body, headers=headers or {})
        answer = conn.getresponse()
        return answer.status, answer.read()
    finally:
        conn.close()


def healthy(port: int, context: ssl.SSLContext) -> bool:
    """Whether ``/api/health`` answers 200 over HTTPS (False while connections are refused)."""
    try:
        return https(port, context, "/api/health")[0] == 200
    except OSError:
        return False


def channel(port: int, pki: Pki, root: Path | None = None, cert: bool = False, stranger: bool = False) -> grpc.Channel:
    """A TLS gRPC channel trusting ``root`` (default: the real CA), with a client certificate if asked."""
    key = chain = None
    if cert or stranger:
        key = (pki.stranger_key if stranger else pki.client_key).read_bytes()
        chain = (pki.stranger_cert if stranger else pki.client_cert).read_bytes()
    credentials = grpc.ssl_channel_credentials((root or pki.ca).read_bytes(), key, chain)
    return grpc.secure_channel(f"127.0.0.1:{port}", credentials)


def grpc_code(call: Callable[[], Any]) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value.code()


def traces_wal(collector: Collector) -> list[str]:
    return wal_span_ids(collector.config.wal_directory("", "traces"))


def test_the_official_http_exporter_delivers_over_tls(start_collector: Start, pki: Pki) -> None:
    collector = start_collector(**tls_settings(pki))
    exporter = HttpSpanExporter(
        endpoint=f"https://127.0.0.1:{collector.http_port}/v1/traces", certificate_file=str(pki.ca)
    )
    ids = send_spans(exporter, 5)

    assert sorted(traces_wal(collector)) == sorted(ids)
    line = collector.ready_line()
    assert f"https://127.0.0.1:{collector.http_port}" in line
    assert f"OTLP/gRPC (TLS) on 127.0.0.1:{collector.grpc_port}" in line


def test_the_official_grpc_exporter_delivers_over_tls_configured_by_environment(
    start_collector: Start, pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    collector = start_collector(**tls_settings(pki))
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_CERTIFICATE", str(pki.ca))
    exporter = GrpcSpanExporter(endpoint=f"https://127.0.0.1:{collector.grpc_port}")
    ids = send_spans(exporter, 4)

    assert sorted(traces_wal(collector)) == sorted(ids)


def test_plaintext_clients_are_refused_and_the_server_keeps_serving(start_collector: Start, pki: Pki) -> None:
    collector = start_collector(**tls_settings(pki))
    with socket.create_connection(("127.0.0.1", collector.http_port), timeout=10) as plain:
        plain.sendall(HEALTH)
        answer = b""
        while chunk := plain.recv(65536):  # the server closes: no HTTP answer in plaintext
            answer += chunk
    assert not answer.startswith(b"HTTP/")
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as insecure:
        body = make_request(1)[0].SerializeToString()
        assert grpc_code(lambda: raw_export(insecure, body)) == grpc.StatusCode.UNAVAILABLE

    assert collector.stats.snapshot()["refused.tls"] == 1
    assert https(collector.http_port, pki.client_context(), "/api/health")[0] == 200
    request, ids = make_request(2)
    with channel(collector.grpc_port, pki) as secure:
        raw_export(secure, request.SerializeToString())
    assert sorted(traces_wal(collector)) == sorted(ids)


def test_a_client_that_does_not_trust_the_ca_fails(start_collector: Start, pki: Pki) -> None:
    collector = start_collector(**tls_settings(pki))
    with pytest.raises(ssl.SSLCertVerificationError):
        https(collector.http_port, pki.client_context(ca=pki.other_ca), "/api/health")
    with channel(collector.grpc_port, pki, root=pki.other_ca) as untrusting:
        body = make_request(1)[0].SerializeToString()
        assert grpc_code(lambda: raw_export(untrusting, body)) == grpc.StatusCode.UNAVAILABLE
    assert traces_wal(collector) == []


def test_mutual_tls_over_http_needs_a_certificate_from_the_client_ca(start_collector: Start, pki: Pki) -> None:
    collector = start_collector(**tls_settings(pki, mutual=True))
    port = collector.http_port
    body = make_request(1)[0].SerializeToString()
    for context in (pki.client_context(), pki.client_context(stranger=True)):
        # TLS 1.3 ends the handshake on the client first: the refusal may surface on the first read.
        with pytest.raises((OSError, http.client.HTTPException)):
            https(port, context, "/v1/traces", body, PROTOBUF)
    assert collector.stats.snapshot()["refused.tls"] == 2

    exporter = HttpSpanExporter(
        endpoint=f"https://127.0.0.1:{port}/v1/traces",
        certificate_file=str(pki.ca),
        client_key_file=str(pki.client_key),
        client_certificate_file=str(pki.client_cert),
    )
    ids = send_spans(exporter, 3)
    assert sorted(traces_wal(collector)) == sorted(ids)
    assert "client certificate required" in collector.ready_line()


def test_mutual_tls_over_grpc_needs_a_certificate_from_the_client_ca(start_collector: Start, pki: Pki) -> None:
    collector = start_collector(**tls_settings(pki, mutual=True))
    request, ids = make_request(2)
    body = request.SerializeToString()
    for options in ({}, {"stranger": True}):
        with channel(collector.grpc_port, pki, **options) as refused:
            assert grpc_code(lambda ch=refused: raw_export(ch, body)) == grpc.StatusCode.UNAVAILABLE  # type: ignore[misc]
    with channel(collector.grpc_port, pki, cert=True) as accepted:
        raw_export(accepted, body)
    assert sorted(traces_wal(collector)) == sorted(ids)


def test_api_keys_are_still_required_over_tls(start_collector: Start, pki: Pki) -> None:
    collector = start_collector(keys=[("", "k")], **tls_settings(pki))
    request, ids = make_request(2)
    body = request.SerializeToString()
    context = pki.client_context()

    assert https(collector.http_port, context, "/v1/traces", body, PROTOBUF)[0] == 401
    assert https(collector.http_port, context, "/api/health")[0] == 401
    with channel(collector.grpc_port, pki) as secure:
        assert grpc_code(lambda: raw_export(secure, body)) == grpc.StatusCode.UNAUTHENTICATED
        raw_export(secure, body, metadata=(("authorization", "Bearer k"),))
    status, answer = https(collector.http_port, context, "/api/health", headers={"Authorization": "Bearer k"})
    assert status == 200
    assert json.loads(answer)["counters"]["traces.accepted"] == 2
    assert sorted(traces_wal(collector)) == sorted(ids)


def test_over_the_connection_limit_a_tls_connection_is_closed_without_plaintext(
    start_collector: Start, pki: Pki
) -> None:
    collector = start_collector(max_connections=1, **tls_settings(pki))
    port = collector.http_port
    context = pki.client_context()
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as first:
        first.sendall(HEALTH)
        assert first.recv(65536).startswith(b"HTTP/1.1 200")  # kept alive: holds the only slot
        with socket.create_connection(("127.0.0.1", port), timeout=10) as second:
            assert second.recv(65536) == b""  # closed at once, nothing written into the TLS stream
        with pytest.raises(OSError):  # what a TLS client sees: the handshake fails
            https(port, context, "/api/health")
    assert collector.stats.snapshot()["refused.connections"] == 2
    assert wait_for(lambda: healthy(port, context))  # the slot frees once the first connection's thread ends


def test_a_client_that_never_finishes_the_handshake_does_not_block_others(start_collector: Start, pki: Pki) -> None:
    collector = start_collector(**tls_settings(pki))
    with socket.create_connection(("127.0.0.1", collector.http_port), timeout=10) as stalled:
        stalled.sendall(b"\x16\x03\x01")  # the start of a TLS record, and then nothing
        assert https(collector.http_port, pki.client_context(), "/api/health")[0] == 200


def test_stopping_closes_idle_tls_connections(start_collector: Start, pki: Pki) -> None:
    collector = start_collector(**tls_settings(pki))
    raw = socket.create_connection(("127.0.0.1", collector.http_port), timeout=10)
    with pki.client_context().wrap_socket(raw, server_hostname="127.0.0.1") as idle:
        idle.sendall(HEALTH)
        assert idle.recv(65536).startswith(b"HTTP/1.1 200")
        collector.stop(grace=1)
        with contextlib.suppress(ssl.SSLError):  # an unclean end is fine too; a timeout is not
            assert idle.recv(65536) == b""


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"tls_cert": "server_cert"}, "--tls-cert and --tls-key go together"),
        ({"tls_key": "server_key"}, "--tls-cert and --tls-key go together"),
        ({"tls_client_ca": "ca"}, "--tls-client-ca needs --tls-cert and --tls-key"),
        ({"tls_cert": "missing", "tls_key": "server_key"}, "cannot read the TLS certificate"),
        ({"tls_cert": "garbage", "tls_key": "server_key"}, "is not PEM"),
        ({"tls_cert": "server_cert", "tls_key": "client_key"}, "the key does not belong to the certificate"),
        ({"tls_cert": "server_cert", "tls_key": "encrypted_key"}, "the TLS key is encrypted"),
        ({"tls_cert": "server_cert", "tls_key": "server_key", "tls_client_ca": "garbage"}, "is not PEM"),
        ({"tls_cert": "server_cert", "tls_key": "server_key", "tls_client_ca": "broken"}, "client CA"),
        ({"tls_cert": "broken", "tls_key": "server_key"}, "not a valid PEM certificate or key"),
    ],
)
def test_bad_tls_settings_stop_the_start_with_a_message(
    pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: dict[str, str], message: str
) -> None:
    (tmp_path / "garbage").write_text("not a certificate\n")
    (tmp_path / "broken").write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    files = {"missing": tmp_path / "missing", "garbage": tmp_path / "garbage", "broken": tmp_path / "broken"}
    paths = {option: files.get(name) or getattr(pki, name) for option, name in settings.items()}
    with pytest.raises(ValueError, match=re.escape(message)):
        Collector(CollectorConfig(store=tmp_path / "store", grpc_port=0, http_port=0, index=False, **paths))

    argv = [arg for option, path in paths.items() for arg in (f"--{option.replace('_', '-')}", str(path))]
    assert main(["collector", "--store", str(tmp_path / "store"), "--grpc-port", "0", "--http-port", "0", *argv]) == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_the_command_line_serves_https_and_the_api_reads_it_back(pki: Pki, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "wikitrace_otel.collector", "--store", str(tmp_path / "store")]
    command += ["--grpc-port", "0", "--http-port", "0", "--api-key", "k"]
    command += ["--tls-cert", str(pki.server_cert), "--tls-key", str(pki.server_key), "--tls-client-ca", str(pki.ca)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"OTLP/gRPC \(TLS\) on [^ ]+:\d+ and OTLP/HTTP and /api on https://[^ ]+:(\d+)", line)
        assert match is not None, line
        assert "client certificate required" in line
        port = int(match.group(1))
        headers = {"Authorization": "Bearer k"}
        exporter = HttpSpanExporter(
            endpoint=f"https://127.0.0.1:{port}/v1/traces",
            certificate_file=str(pki.ca),
            client_key_file=str(pki.client_key),
            client_certificate_file=str(pki.client_cert),
            headers=headers,
        )
        ids = send_spans(exporter, 3)
        context = pki.client_context(cert=True)

        def listed() -> set[str]:
            status, body = https(port, context, "/api/traces", headers=headers)
            assert status == 200, body
            return {trace["trace_id"] for trace in json.loads(body)["traces"]}

        assert wait_for(lambda: len(listed()) == 3)  # one trace per root span
        served = set()
        for trace_id in listed():
            status, body = https(port, context, f"/api/traces/{trace_id}", headers=headers)
            assert status == 200
            served |= {span["span_id"] for span in json.loads(body)["spans"]}
        assert served == ids
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)
