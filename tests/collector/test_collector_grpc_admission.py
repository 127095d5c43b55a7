"""gRPC admission: calls past the limit get RESOURCE_EXHAUSTED with a RetryInfo, and nothing is stored."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager

import grpc
import h2.config
import h2.connection
import h2.events
import pytest
from collector_support import make_request, raw_export, wait_for, wal_span_ids
from google.rpc import error_details_pb2, status_pb2

from grpc_h2_support import binary_header, call_headers, client_connection, grpc_frame
from wikitrace_otel.collector import Collector
from wikitrace_otel.collector.grpc_admission import HARD_CAP_FACTOR, REFUSAL_THREADS, AdmissionPool, refusing

TRACES = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


@pytest.fixture
def pool() -> Iterator[AdmissionPool]:
    running = AdmissionPool(workers=2, limit=3, thread_name_prefix="test-admission")
    yield running
    running.shutdown(wait=True, cancel_futures=True)


def _held(pool: AdmissionPool, release: threading.Event, count: int) -> list[Future[bool]]:
    """Submit ``count`` tasks that wait for ``release``; each returns whether it ran as a refusal."""

    def task() -> bool:
        release.wait(10)
        return refusing()

    return [pool.submit(task) for _ in range(count)]


def test_the_pool_admits_up_to_its_limit_queued_or_running(pool: AdmissionPool) -> None:
    release = threading.Event()
    held = _held(pool, release, 3)  # two running, one queued: all admitted
    assert pool.admitted == 3
    assert pool.submit(refusing).result(timeout=10) is True
    assert pool.admitted == 3
    release.set()
    assert [future.result(timeout=10) for future in held] == [False, False, False]
    assert wait_for(lambda: pool.admitted == 0)
    assert pool.submit(refusing).result(timeout=10) is False


def test_refusals_run_even_while_every_worker_is_busy(pool: AdmissionPool) -> None:
    release = threading.Event()
    held = _held(pool, release, 3)
    refused = [pool.submit(refusing) for _ in range(REFUSAL_THREADS * 3)]
    assert all(future.result(timeout=10) for future in refused)
    release.set()
    assert not any(future.result(timeout=10) for future in held)


def test_a_failing_or_cancelled_task_frees_its_place(pool: AdmissionPool) -> None:
    def fail() -> None:
        raise ValueError("the task failed")

    with pytest.raises(ValueError, match="the task failed"):
        pool.submit(fail).result(timeout=10)
    assert wait_for(lambda: pool.admitted == 0)  # the place is given back just after the result
    release = threading.Event()
    held = _held(pool, release, 2)  # both workers busy: the next task waits in the queue
    queued = pool.submit(refusing)
    assert queued.cancel()
    assert pool.admitted == 2
    release.set()
    for future in held:
        future.result(timeout=10)
    assert wait_for(lambda: pool.admitted == 0)


def test_the_pool_checks_its_sizes_and_sets_the_hard_cap() -> None:
    with pytest.raises(ValueError, match="workers"):
        AdmissionPool(workers=4, limit=3)
    with pytest.raises(ValueError, match="workers"):
        AdmissionPool(workers=0, limit=3)
    pool = AdmissionPool(workers=2, limit=8)
    assert pool.hard_cap == 8 * HARD_CAP_FACTOR
    pool.shutdown()
    with pytest.raises(RuntimeError):
        pool.submit(refusing)
    assert pool.admitted == 0


@contextmanager
def stalled_then_called(port: int, stalled: int, body: bytes) -> Iterator[dict[str, str]]:
    """On one raw HTTP/2 connection: ``stalled`` traces Export calls that send half a message, then one
    that sends ``body``; yields the last call's headers and trailers once it has ended.

    The stalled calls stay in progress (a worker waits for the rest of their message) until the
    block ends and the connection closes. One connection keeps the calls in order on the server.
    """
    connection = client_connection()
    headers = call_headers(TRACES, ("content-type", "application/grpc"))
    for _ in range(stalled):
        stream = connection.get_next_available_stream_id()
        connection.send_headers(stream, headers)
        connection.send_data(stream, grpc_frame(b"", length=100))  # none of the 100 bytes follows
    last = connection.get_next_available_stream_id()
    connection.send_headers(last, headers)
    connection.send_data(last, grpc_frame(body), end_stream=True)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(connection.data_to_send())
        answer: dict[str, str] = {}
        ended = False
        while not ended:
            received = sock.recv(65536)
            assert received, "the connection closed before the call ended"
            for event in connection.receive_data(received):
                if isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
                    if event.stream_id == last:
                        answer.update((str(name), str(value)) for name, value in event.headers)
                elif isinstance(event, h2.events.StreamEnded | h2.events.StreamReset):
                    ended = ended or event.stream_id == last
            sock.sendall(connection.data_to_send())
        yield answer


def _exported(channel: grpc.Channel, body: bytes) -> bool:
    """Whether an export of ``body`` succeeds; a refusal while the server is still busy is False."""
    try:
        raw_export(channel, body)
    except grpc.RpcError as error:
        if error.code() is not grpc.StatusCode.RESOURCE_EXHAUSTED:  # type: ignore[attr-defined]
            raise
        return False
    return True


def test_a_call_past_the_limit_is_told_when_to_retry_and_nothing_is_stored(
    start_collector: Callable[..., Collector],
) -> None:
    collector = start_collector(grpc_workers=1, http_port=None)  # admits 4 calls in progress
    refused_request, refused_ids = make_request(3)
    with stalled_then_called(collector.grpc_port, 4, refused_request.SerializeToString()) as answer:
        assert answer["grpc-status"] == str(grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]), answer
        status = status_pb2.Status.FromString(binary_header(answer["grpc-status-details-bin"]))
        retry = error_details_pb2.RetryInfo()
        assert status.code == grpc.StatusCode.RESOURCE_EXHAUSTED.value[0] and status.details[0].Unpack(retry)
        assert retry.retry_delay.seconds == 1
        assert binary_header(answer["google.rpc.retryinfo-bin"]) == retry.SerializeToString()
        assert collector.stats.snapshot()["refused.calls"] == 1

    # The stalled calls end with their connection: calls are admitted again.
    admitted_request, admitted_ids = make_request(2)
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
        assert wait_for(lambda: _exported(channel, admitted_request.SerializeToString()))
    collector.stop(grace=2)
    assert collector.stats.snapshot()["traces.requests"] == 1
    stored = set(wal_span_ids(collector.config.store / "wal" / "traces"))
    assert stored == admitted_ids and not stored & refused_ids


def test_calls_up_to_the_limit_are_all_served(start_collector: Callable[..., Collector]) -> None:
    collector = start_collector(grpc_workers=1, http_port=None)  # admits 4 calls in progress
    requests = [make_request(2) for _ in range(4)]
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
        export = channel.unary_unary(TRACES)
        calls = [export.future(request.SerializeToString(), timeout=10) for request, _ in requests]
        for call in calls:
            call.result()
    collector.stop(grace=2)
    expected = set().union(*(ids for _, ids in requests))
    assert set(wal_span_ids(collector.config.store / "wal" / "traces")) == expected
    assert "refused.calls" not in collector.stats.snapshot()


def test_stopping_the_collector_ends_its_grpc_threads(start_collector: Callable[..., Collector]) -> None:
    collector = start_collector(grpc_workers=2, http_port=None)
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
        channel.unary_unary(TRACES)(make_request(1)[0].SerializeToString(), timeout=10)
    assert any(thread.name.startswith("wikitrace-grpc") for thread in threading.enumerate())
    collector.stop(grace=2)
    assert wait_for(lambda: not any(t.name.startswith("wikitrace-grpc") for t in threading.enumerate()), 10)
