"""Durable ingest rate and peak memory of ``wikitrace-otel collector``.

Starts the collector as a subprocess on a fresh store in /tmp, then load generator processes
send pre-encoded ``ExportTraceServiceRequest`` batches (512 GenAI-like spans each) as fast as the
collector answers, over OTLP/HTTP protobuf, over gRPC, or through the official OpenTelemetry
exporters (which encode the spans themselves, so they measure the client as much as the server).
Every span counted was acknowledged, i.e. fsync'ed. The collector's peak RSS (VmHWM) is reported.

    python bench/collector_ingest.py                       # http and grpc, 10 s each
    python bench/collector_ingest.py --mode exporter-http --seconds 5
    python bench/collector_ingest.py --mode overload       # 16 senders, 1 MiB in-flight budget
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from typing import Any

BATCH = 512


def make_request(batch: int = BATCH, seed: int = 0) -> bytes:
    """One ExportTraceServiceRequest with ``batch`` spans carrying GenAI-like attributes."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

    def kv(key: str, value: Any) -> KeyValue:
        if isinstance(value, str):
            return KeyValue(key=key, value=AnyValue(string_value=value))
        if isinstance(value, float):
            return KeyValue(key=key, value=AnyValue(double_value=value))
        return KeyValue(key=key, value=AnyValue(int_value=value))

    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.extend([kv("service.name", "bench"), kv("telemetry.sdk.language", "python")])
    scope = resource.scope_spans.add()
    scope.scope.name = "wikitrace_otel.instrumentors.openai"
    start = time.time_ns()
    for index in range(batch):
        span = scope.spans.add()
        span.trace_id = os.urandom(16)
        span.span_id = os.urandom(8)
        span.parent_span_id = os.urandom(8) if index % 4 else b""
        span.name = "chat gpt-4o-mini"
        span.kind = 3
        span.start_time_unix_nano = start + index * 1000
        span.end_time_unix_nano = start + index * 1000 + 250_000_000
        span.attributes.extend(
            [
                kv("gen_ai.operation.name", "chat"),
                kv("gen_ai.provider.name", "openai"),
                kv("gen_ai.request.model", "gpt-4o-mini"),
                kv("gen_ai.response.model", "gpt-4o-mini-2024-07-18"),
                kv("gen_ai.response.id", f"chatcmpl-{seed}-{index}"),
                kv("gen_ai.usage.input_tokens", 120 + index),
                kv("gen_ai.usage.output_tokens", 40),
                kv("gen_ai.usage.cost.amount", 0.0000432),
                kv("server.address", "api.openai.com"),
                kv("session.id", f"session-{index % 17}"),
                kv("user.id", f"user-{index % 5}@example.com"),
            ]
        )
    return request.SerializeToString()


def _http_sender(port: int, seconds: float, counter: Any, refused: Any) -> None:
    import http.client

    bodies = [make_request(seed=i) for i in range(4)]
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "application/x-protobuf"}
    deadline = time.monotonic() + seconds
    sent = rejected = 0
    while time.monotonic() < deadline:
        conn.request("POST", "/v1/traces", body=bodies[sent % 4], headers=headers)
        answer = conn.getresponse()
        answer.read()
        if answer.status == 200:
            sent += 1
        else:
            rejected += 1
            if answer.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port)
    with counter.get_lock():
        counter.value += sent * BATCH
    with refused.get_lock():
        refused.value += rejected


def _grpc_sender(port: int, seconds: float, counter: Any, refused: Any) -> None:
    import grpc

    bodies = [make_request(seed=i) for i in range(4)]
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    export = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export")
    deadline = time.monotonic() + seconds
    sent = rejected = 0
    while time.monotonic() < deadline:
        try:
            export(bodies[sent % 4], timeout=30)
            sent += 1
        except grpc.RpcError:
            rejected += 1
    channel.close()
    with counter.get_lock():
        counter.value += sent * BATCH
    with refused.get_lock():
        refused.value += rejected


def _exporter_sender(port: int, seconds: float, counter: Any, refused: Any, protocol: str) -> None:
    """The official exporter encoding and sending SDK spans (built once, exported repeatedly)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("bench")
    for index in range(BATCH):
        with tracer.start_as_current_span("chat gpt-4o-mini") as span:
            span.set_attributes({"gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini"})
            span.set_attributes({"gen_ai.usage.input_tokens": index, "gen_ai.usage.output_tokens": 40})
    spans = memory.get_finished_spans()
    if protocol == "http":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter: Any = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{port}/v1/traces")
    else:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        exporter = GrpcExporter(endpoint=f"127.0.0.1:{port}", insecure=True)
    deadline = time.monotonic() + seconds
    sent = 0
    while time.monotonic() < deadline:
        if exporter.export(spans) == SpanExportResult.SUCCESS:
            sent += 1
    exporter.shutdown()
    with counter.get_lock():
        counter.value += sent * BATCH


def _start_collector(store: str, extra: list[str]) -> tuple[subprocess.Popen[str], int, int]:
    command = [sys.executable, "-m", "wikitrace_otel.collector", "--store", store, "--grpc-port", "0"]
    process = subprocess.Popen([*command, "--http-port", "0", *extra], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    grpc_port = int(re.search(r"gRPC on [^ ]+:(\d+)", line).group(1))  # type: ignore[union-attr]
    http_port = int(re.search(r"http://[^ ]+:(\d+)", line).group(1))  # type: ignore[union-attr]
    return process, grpc_port, http_port


def _peak_rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(mode: str, seconds: float, senders: int, extra: list[str]) -> dict[str, Any]:
    """Run one mode; returns spans/s, refused requests, the collector's peak RSS and its counters."""
    with tempfile.TemporaryDirectory(prefix="wikitrace-bench-") as store:
        process, grpc_port, http_port = _start_collector(store, extra)
        counter, refused = multiprocessing.Value("q", 0), multiprocessing.Value("q", 0)
        if mode in ("http", "overload"):
            target, args = _http_sender, (http_port,)
        elif mode == "grpc":
            target, args = _grpc_sender, (grpc_port,)
        else:
            protocol = mode.split("-", 1)[1]
            target, args = _exporter_sender, (http_port if protocol == "http" else grpc_port,)
            args = (*args, seconds, counter, refused, protocol)
        if len(args) == 1:
            args = (*args, seconds, counter, refused)
        workers = [multiprocessing.Process(target=target, args=args) for _ in range(senders)]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        elapsed = time.monotonic() - started
        with urllib.request.urlopen(f"http://127.0.0.1:{http_port}/api/health") as answer:
            health = json.loads(answer.read())
        rss = _peak_rss_mib(process.pid)
        cpu = _cpu_seconds(process.pid)
        process.terminate()
        process.wait(30)
        if process.stdout is not None:
            process.stdout.close()
    spans = counter.value
    return {
        "spans_per_s": spans / elapsed,
        "refused": refused.value,
        "peak_rss_mib": rss,
        "cpu_us_per_span": cpu / spans * 1e6 if spans else float("nan"),
        "collector_counters": health.get("counters", {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--mode", choices=["http", "grpc", "exporter-http", "exporter-grpc", "overload", "all"], default="all"
    )
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--senders", type=int, default=4, help="load generator processes")
    args = parser.parse_args()
    modes = ["http", "grpc"] if args.mode == "all" else [args.mode]
    for mode in modes:
        extra, senders = [], args.senders
        if mode == "overload":
            extra, senders = ["--max-inflight", "1MiB"], max(args.senders, 16)
        result = run(mode, args.seconds, senders, extra)
        print(
            f"{mode:14} {senders:2} senders  {result['spans_per_s']:>10,.0f} spans/s durable  "
            f"{result['refused']:>6} refused  peak RSS {result['peak_rss_mib']:.0f} MiB  "
            f"collector CPU {result['cpu_us_per_span']:.1f} µs/span",
            flush=True,
        )


if __name__ == "__main__":
    main()
