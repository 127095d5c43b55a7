"""Sustained overload of the collector: refusals are retryable, memory stays bounded, retries deliver.

``wikitrace-otel collector`` runs with a 1 MiB in-flight budget (``--max-inflight``: bytes of request
bodies held between reading and fsync) and 512 KiB bodies at most. For ``sized(ci=8, full=30)``
seconds it gets, at once:

- a raw flood: eight threads (six OTLP/HTTP, two gRPC) re-sending 300 kB requests as fast as they
  can, without any back-off, on keep-alive connections: far more than the budget holds, so most of
  them are refused;
- the official OpenTelemetry exporters (two HTTP, two gRPC threads) exporting 256-span batches
  (~25 kB) with their own retry, which honours ``Retry-After`` / ``RetryInfo`` (1 s here);
- for the first 2 s, two clients that declared 512 KiB bodies and stall, holding the whole budget:
  every request is refused then, the exporters' included.

Every refusal must be retryable: HTTP 503 or 429 with ``Retry-After``, gRPC ``RESOURCE_EXHAUSTED``
or ``UNAVAILABLE``; never a 500, another status, or a connection dropped without an answer.

Memory: the collector's RSS (``/proc/<pid>/status`` VmRSS sampled every 20 ms, and VmHWM) must stay under
``baseline + 64 x max body + 8 x max in-flight + 48 MiB``. The baseline is its RSS once it has served one
request of each kind. gRPC reads a whole message before the collector's handler sees it, so up to
``maximum_concurrent_rpcs`` (4 x 16 workers = 64) bodies of at most 512 KiB can be held outside the
budget; HTTP bodies are read only after the budget admits them, and the decoded request costs a few
times its body, hence 8 x the budget; 48 MiB covers thread stacks and allocator slack.

Delivery: every span of every request answered 200 / OK must be in the WAL, and every span given to
the official exporters must be too, none twice. Their retry is capped at 6 attempts, 5 waits of 1 s
here, whatever the timeout; the ``timeout`` is set to 120 s so that its deadline never cuts the retries
short, and a batch an exporter gives up on counts as lost. That cap is why the flood's requests are
300 kB: three fit in the budget and a fourth does not, so once the stalled clients are gone there is
always room for an exporter's batch next to the flood. A flood that left no room at all for minutes
would make any OTLP exporter give up, by design of its retry, not for a fault of the collector.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from process_support import (
    Answer,
    CollectorProcess,
    Processes,
    RawSender,
    make_request,
    partial_request,
    wait_until,
    wal_spans,
)
from reliability_sizes import sized

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads VmRSS from /proc")

MAX_INFLIGHT = 1024 * 1024
MAX_BODY = 512 * 1024
RETRYABLE_HTTP = {"503", "429"}
RETRYABLE_GRPC = {"RESOURCE_EXHAUSTED", "UNAVAILABLE"}
EXPORTER_TIMEOUT_S = 120
SQUEEZE_S = 2.0
"""How long a stalled client holds the whole budget: well inside the exporters' ~5 s of retries."""


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    yield started
    started.close()


class RetryLog(logging.Handler):
    """Counts the official exporters' "retrying" warnings: proof that they were refused and backed off."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "retrying" in record.getMessage():
            self.retries += 1


@pytest.fixture
def retry_log() -> Iterator[RetryLog]:
    handler = RetryLog()
    logger = logging.getLogger("opentelemetry.exporter")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


class RssSampler(threading.Thread):
    """Samples the collector's RSS every 20 ms until stopped; keeps the peak."""

    def __init__(self, collector: CollectorProcess) -> None:
        super().__init__(daemon=True)
        self.collector = collector
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak_kb = max(self.peak_kb, self.collector.rss_kb())


class Load:
    """The flood and the exporters; everything they were told, under one lock."""

    def __init__(self, collector: CollectorProcess) -> None:
        self.collector = collector
        self.flood_stop = threading.Event()
        self.exporters_stop = threading.Event()
        self.lock = threading.Lock()
        self.answers: Counter[str] = Counter()
        self.bad: list[tuple[str, Answer]] = []
        self.flood_acked: dict[str, int] = {}
        self.given: list[str] = []
        self.gave_up = 0
        self.exported_batches = 0
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for kind in ("http",) * 6 + ("grpc",) * 2:
            self._thread(self._flood, kind)
        for kind in ("http", "http", "grpc", "grpc"):
            self._thread(self._export, kind)

    def _thread(self, target: Callable[[str], None], kind: str) -> None:
        thread = threading.Thread(target=target, args=(kind,), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _flood(self, kind: str) -> None:
        port = self.collector.grpc_port if kind == "grpc" else self.collector.http_port
        sender = RawSender(kind, port)
        template, trace_id, span_ids = make_request(2000, 100)  # ~300 kB
        try:
            while not self.flood_stop.is_set():
                fresh = os.urandom(16)  # a new trace id per request, so each acknowledgement is checked
                answer = sender.send(template.replace(bytes.fromhex(trace_id), fresh))
                self._note(kind, answer, fresh.hex(), len(span_ids))
        finally:
            sender.close()

    def _note(self, kind: str, answer: Answer, trace_id: str, spans: int) -> None:
        retryable = RETRYABLE_GRPC if kind == "grpc" else RETRYABLE_HTTP
        with self.lock:
            self.answers[f"{kind} {answer.outcome}"] += 1
            if answer.outcome == "ok":
                self.flood_acked[trace_id] = spans
            elif answer.outcome not in retryable or (kind == "http" and not answer.retry_after):
                self.bad.append((kind, answer))

    def _export(self, kind: str) -> None:
        exporter = official_exporter(kind, self.collector)
        memory = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(memory))
        tracer = provider.get_tracer("overload")
        try:
            while not self.exporters_stop.is_set():
                for index in range(256):
                    tracer.start_span(f"chat {index}", attributes={"gen_ai.request.model": "gpt-4o-mini"}).end()
                batch: list[ReadableSpan] = list(memory.get_finished_spans())
                memory.clear()
                ids = [f"{span.get_span_context().span_id:016x}" for span in batch]
                with self.lock:
                    self.given += ids
                result = exporter.export(batch)
                with self.lock:
                    self.exported_batches += 1
                    self.gave_up += result is not SpanExportResult.SUCCESS
        finally:
            exporter.shutdown()
            provider.shutdown()


def official_exporter(kind: str, collector: CollectorProcess) -> Any:
    """The OpenTelemetry OTLP span exporter for ``kind``, with a deadline that never cuts its retries."""
    if kind == "http":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

        return HttpExporter(endpoint=f"http://127.0.0.1:{collector.http_port}/v1/traces", timeout=EXPORTER_TIMEOUT_S)
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

    return GrpcExporter(endpoint=f"127.0.0.1:{collector.grpc_port}", insecure=True, timeout=EXPORTER_TIMEOUT_S)


def warm_up(collector: CollectorProcess) -> None:
    """One accepted request per protocol, so the baseline RSS includes what serving costs once."""
    for kind, port in (("http", collector.http_port), ("grpc", collector.grpc_port)):
        sender = RawSender(kind, port)
        assert sender.send(make_request(10)[0]).outcome == "ok"
        sender.close()


def hold_the_budget(collector: CollectorProcess) -> list[socket.socket]:
    """Clients that declared bodies filling the whole budget and stall; returns once the budget is held."""
    probe = RawSender("http", collector.http_port)
    for _ in range(20):
        stalled = [partial_request(collector.http_port, MAX_BODY) for _ in range(MAX_INFLIGHT // MAX_BODY)]
        time.sleep(0.2)  # the collector takes both budgets before the probe arrives
        if probe.send(make_request(1)[0]).outcome == "503":
            probe.close()
            return stalled
        for connection in stalled:  # one of them was refused after all: try again
            connection.close()
    raise AssertionError("the stalled clients never held the whole budget")


def test_sustained_overload_is_refused_retryably_and_delivered_afterwards(
    tmp_path: Path, processes: Processes, retry_log: RetryLog, outcome: Callable[..., None]
) -> None:
    seconds = sized(ci=8, full=30)
    options = ("--max-inflight", str(MAX_INFLIGHT), "--max-body-size", str(MAX_BODY), "--no-index")
    collector = CollectorProcess(processes, tmp_path / "store", *options)
    warm_up(collector)
    baseline_kb = collector.rss_kb()
    bound_kb = baseline_kb + (64 * MAX_BODY + 8 * MAX_INFLIGHT) // 1024 + 48 * 1024
    sampler = RssSampler(collector)
    sampler.start()
    stalled = hold_the_budget(collector)
    load = Load(collector)
    load.start()
    time.sleep(SQUEEZE_S)
    for connection in stalled:
        connection.close()  # the collector reads a short body, answers 400 and frees the budget
    time.sleep(seconds - SQUEEZE_S)
    load.flood_stop.set()  # the load drops; the exporters' batches in retry now get through
    time.sleep(1)
    load.exporters_stop.set()
    for thread in load.threads:
        thread.join(EXPORTER_TIMEOUT_S)
        assert not thread.is_alive(), "a sender hung"
    sampler.done.set()
    sampler.join()
    sampler.peak_kb = max(sampler.peak_kb, collector.rss_kb("VmHWM"))  # the kernel's own peak, between samples too

    stored = wal_spans(collector.store)
    assert collector.stop() == 0
    by_trace = Counter(trace_id for trace_id, _ in stored)
    stored_ids = Counter(span_id for _, span_id in stored)
    flood_lost = sum(count - min(count, by_trace[trace]) for trace, count in load.flood_acked.items())
    exporter_lost = [span for span in load.given if span not in stored_ids]
    # Each retry of an exporter follows a refusal of its previous attempt.
    refused = sum(count for answer, count in load.answers.items() if not answer.endswith(" ok")) + retry_log.retries
    requests = sum(load.answers.values()) + load.exported_batches + retry_log.retries
    print(f"answers {dict(load.answers)}; exporter batches {load.exported_batches}, retries {retry_log.retries}")
    print(f"RSS baseline {baseline_kb} kB, peak {sampler.peak_kb} kB, bound {bound_kb} kB")

    assert not load.bad, f"{len(load.bad)} refusals that are not retryable, e.g. {load.bad[:3]}"
    assert refused > 0, "the load never overflowed the collector"
    assert retry_log.retries > 0, "the official exporters were never refused"
    assert load.gave_up == 0, f"the exporters gave up on {load.gave_up} batches"
    assert flood_lost == 0, f"{flood_lost} acknowledged flood spans are not in the WAL"
    assert not exporter_lost, f"{len(exporter_lost)} exporter spans are not in the WAL"
    assert all(by_trace[trace] == count for trace, count in load.flood_acked.items()), "flood spans stored twice"
    twice = [span for span in load.given if stored_ids[span] > 1]
    assert not twice, f"{len(twice)} exporter spans stored twice"
    assert sampler.peak_kb < bound_kb, f"peak RSS {sampler.peak_kb} kB over the bound {bound_kb} kB"
    outcome(
        seconds=seconds,
        requests=requests,
        refused=refused,
        exporter_retries=retry_log.retries,
        exporter_batches=load.exported_batches,
        peak_rss_mb=round(sampler.peak_kb / 1024, 1),
        rss_bound_mb=round(bound_kb / 1024, 1),
        spans_lost=flood_lost + len(exporter_lost),
    )


class UnansweredRefusalError(AssertionError):
    """A refused request got no answer: the connection was reset under the client."""


def test_a_large_request_refused_for_overload_gets_its_503(tmp_path: Path, processes: Processes) -> None:
    collector = CollectorProcess(processes, tmp_path / "store", "--max-inflight", "100KiB", "--no-index")
    stalled = partial_request(collector.http_port, 90_000)  # holds most of the budget
    probe = RawSender("http", collector.http_port)
    assert wait_until(lambda: probe.send(make_request(1, payload=20_000)[0]).outcome == "503", 30)
    probe.close()
    body = b"\x00" * 8_000_000  # never read: far larger than the socket buffers, so the client is still sending
    answers = []
    for _ in range(3):
        sender = RawSender("http", collector.http_port)
        answers.append(sender.send(body))
        sender.close()
    stalled.close()

    if [(answer.outcome, answer.retry_after) for answer in answers] != [("503", "1")] * 3:
        raise UnansweredRefusalError(answers)
