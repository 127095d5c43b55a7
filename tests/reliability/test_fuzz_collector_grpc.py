"""A fuzz run of the running collector's OTLP/gRPC receiver (the three ``Export`` methods).

The barrage, drawn by hypothesis, each kind getting its share of examples:

- through the grpc client with identity serializers (``fuzz_grpc_support``): bodies of
  ``otlp_bodies_support`` (random bytes; valid traces, metrics and logs requests with wrong-length
  or zero ids, huge times, out-of-range enums; items carrying invalid UTF-8, wrong wire types,
  overlong varints, deep AnyValue nesting, tens of thousands of attributes, unknown fields or
  broken tags; truncated and damaged requests; one byte under, at and over the size limit, and far
  over it) on their own method, another signal's method or an unknown one; good, bad, missing
  and odd API keys and reserved headers; gzip; deadlines that run out and cancels in flight;
- as raw HTTP/2 frames (``grpc_frames_support``): gzip and deflate messages, damaged gzip, the
  compressed flag without an encoding, unknown ``grpc-encoding`` values, cut or missing messages,
  two messages in a unary call, lengths declared over the limit, odd content types and
  ``grpc-timeout`` values.

What must hold: every call ends within ``TIMEOUT_S``; a call the receiver handles ends with the
status OTLP prescribes (OK, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, UNAUTHENTICATED, UNIMPLEMENTED;
never INTERNAL or UNKNOWN), with a matching ``google.rpc.Status`` when the receiver refuses it; a
frame gRPC itself refuses ends with the status gRPC gives (INTERNAL only for a message it cannot
decompress, a compressed flag without an encoding, a ``grpc-encoding`` or ``grpc-timeout`` it cannot
parse; a stream reset from older grpcio there); an OK answer reports exactly the items with
invalid ids as rejected; afterwards every signal is still served for both tenants; no request
bytes stay held in the in-flight budget; and each WAL holds every item of the calls answered OK,
plus at most the items of calls that were cancelled or timed out, nothing else.

Calls beyond the concurrency limit are refused with a ``RetryInfo`` too, so that OTLP clients retry
them (grpcio's own refusal beyond ``maximum_concurrent_rpcs`` carries none).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from fuzz_grpc_support import (
    FAMILIES,
    KEYS,
    ROOT_KEY,
    TENANT,
    TENANT_KEY,
    Answer,
    Case,
    cases,
    send,
)
from fuzz_support import fuzz_settings
from google.rpc import error_details_pb2, status_pb2
from grpc_frames_support import FRAME_KINDS, FrameCase, frame_cases, h2_call, stall_calls
from hypothesis import given
from otlp_bodies_support import MAX_BODY, SERVICES, item_key, resource_items, well_formed

from wikitrace_otel.collector import Collector, CollectorConfig
from wikitrace_otel.collector.wal import iter_records

ItemKey = tuple[str, str, bytes]
"""(tenant, signal, item bytes)."""
AnyCase = Case | FrameCase


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    """A collector with gRPC only, two API keys (root and tenant) and a 64 KiB message limit."""
    config = CollectorConfig(
        store=tmp_path / "store", grpc_port=0, http_port=None, keys=KEYS, max_body_bytes=MAX_BODY, index=False
    )
    running = Collector(config)
    running.start()
    yield running
    running.stop(grace=2)


@dataclass
class Ledger:
    """What the barrage was promised, and what it may or may not have stored."""

    promised: Counter[ItemKey] = field(default_factory=Counter)
    """Items of calls answered OK: they must be in the WAL."""
    maybe: Counter[ItemKey] = field(default_factory=Counter)
    """Items of valid calls that were cancelled or ran out of time: the WAL may hold them."""
    counts: Counter[str] = field(default_factory=Counter)


def _check_status_details(answer: Answer) -> None:
    """An error raised by the receiver carries a google.rpc.Status agreeing with the call's status."""
    raw = answer.trailers.get("grpc-status-details-bin")
    if raw is not None:
        details = status_pb2.Status.FromString(raw)
        assert (details.code, details.message) == (grpc.StatusCode[answer.status].value[0], answer.details)


def _check_response(case: AnyCase, answer: Answer) -> None:
    """An OK answer: a response of the service, with the partial success the request deserves."""
    expected = case.expected
    assert expected.service is not None and answer.response is not None
    response = expected.service.response.FromString(answer.response)
    partial = response.partial_success
    assert getattr(partial, expected.service.rejected_field) == expected.rejected
    assert bool(partial.error_message) == bool(expected.rejected)
    assert response.HasField("partial_success") == bool(expected.rejected)


def _judge(case: AnyCase, answer: Answer, ledger: Ledger) -> None:
    """Check one call's end against the oracle and note what it stored."""
    counts = ledger.counts
    counts["inputs"] += 1
    counts[f"status {answer.status}"] += 1
    if answer.status not in case.allowed:
        counts["hangs" if answer.status in ("HANG", "DEADLINE_EXCEEDED") else "server_errors"] += 1
    message = f"{case.describe()}: ended {answer.status} {answer.details!r}, allowed {sorted(case.allowed)}"
    assert answer.status in case.allowed, message
    _check_status_details(answer)
    expected = case.expected
    if expected.service is None:
        return
    keys = Counter((case.tenant or "", expected.service.signal, item) for item in expected.stored)
    if answer.status == "OK":
        assert expected.code is grpc.StatusCode.OK, message
        _check_response(case, answer)
        ledger.promised.update(keys)
        counts["accepted"] += 1
        counts["rejected_items"] += expected.rejected
    elif expected.code is grpc.StatusCode.OK and answer.status in ("DEADLINE_EXCEEDED", "CANCELLED"):
        ledger.maybe.update(keys)
        counts["ended_early"] += 1


def _wal_items(collector: Collector) -> Counter[ItemKey]:
    found: Counter[ItemKey] = Counter()
    for tenant in ("", TENANT):
        for service in SERVICES:
            for _, payload in iter_records(collector.config.wal_directory(tenant, service.signal)):
                items = resource_items(service, service.request.FromString(payload))
                found.update((tenant, service.signal, item_key(item)) for item in items)
    return found


def _client_barrage(channel: grpc.Channel, ledger: Ledger) -> None:
    for family in FAMILIES:  # each family its share: hypothesis alone would favour some

        @fuzz_settings(ci=10, full=300)
        @given(cases(family))
        def call(case: Case) -> None:
            _judge(case, send(channel, case), ledger)

        call()


def _frame_barrage(port: int, ledger: Ledger) -> None:
    for kind in FRAME_KINDS:

        @fuzz_settings(ci=5, full=150)
        @given(frame_cases(kind))
        def call(case: FrameCase) -> None:
            _judge(case, h2_call(port, case), ledger)

        call()


def test_the_grpc_receiver_survives_a_barrage_of_hostile_calls(
    collector: Collector, outcome: Callable[..., None]
) -> None:
    ledger = Ledger()
    assert collector.grpc_port is not None
    with grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel:
        _client_barrage(channel, ledger)
        _frame_barrage(collector.grpc_port, ledger)
        for service in SERVICES:  # still serving every signal, for both tenants
            for tenant, key in ((TENANT, TENANT_KEY), ("", ROOT_KEY)):
                body = well_formed(service, len(tenant))
                case = Case("well formed", service.path, body, (("authorization", f"Bearer {key}"),), tenant)
                answer = send(channel, case)
                assert answer.status == "OK", (case.describe(), answer)
                _judge(case, answer, ledger)
    collector.stop(grace=5)  # calls cancelled on the client side may still be finishing on the server
    assert collector.receiver.budget.used == 0, "request bytes still held in the in-flight budget"
    stored = _wal_items(collector)
    missing = ledger.promised - stored
    unexpected = stored - ledger.promised - ledger.maybe
    assert not missing and not unexpected, (len(missing), len(unexpected))
    counts = ledger.counts
    assert counts["hangs"] == 0 and counts["server_errors"] == 0, counts
    outcome(
        inputs=counts["inputs"],
        crashes=0,
        hangs=counts["hangs"],
        server_errors=counts["server_errors"],
        spans_lost=0,
        items_lost=0,
        items_stored=stored.total(),
        accepted_calls=counts["accepted"],
        rejected_items=counts["rejected_items"],
        ended_early=counts["ended_early"],
        **{key.replace(" ", "_"): value for key, value in sorted(counts.items()) if key.startswith("status")},
    )


def _first_refusal(channel: grpc.Channel) -> grpc.RpcError:
    """Send well-formed exports until one is refused.

    A probe that reaches the server before the stalled calls waits behind them and runs out of time;
    it then counts as in progress too, so the limit is reached all the same.
    """
    export = channel.unary_unary(SERVICES[0].path, request_serializer=None, response_deserializer=None)
    for _ in range(20):
        try:
            export(well_formed(SERVICES[0], 0), timeout=1)
        except grpc.RpcError as error:
            if error.code() is not grpc.StatusCode.DEADLINE_EXCEEDED:  # type: ignore[attr-defined]
                return error
    raise AssertionError("no call was refused while the stalled calls were in progress")


def test_calls_beyond_the_concurrency_limit_are_told_when_to_retry(tmp_path: Path) -> None:
    config = CollectorConfig(store=tmp_path / "store", grpc_port=0, http_port=None, grpc_workers=1, index=False)
    running = Collector(config)
    running.start()
    try:
        assert running.grpc_port is not None
        # grpc_workers=1 allows 4 calls in progress: four stalled ones fill it.
        with (
            stall_calls(running.grpc_port, SERVICES[0].path, 4),
            grpc.insecure_channel(f"127.0.0.1:{running.grpc_port}") as channel,
        ):
            error = _first_refusal(channel)
            code, trailers = error.code(), dict(error.trailing_metadata() or ())  # type: ignore[attr-defined]
    finally:
        running.stop(grace=1)
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED, code
    assert "google.rpc.retryinfo-bin" in trailers, trailers
    retry = error_details_pb2.RetryInfo()
    assert status_pb2.Status.FromString(trailers["grpc-status-details-bin"]).details[0].Unpack(retry)
    assert retry.SerializeToString() == trailers["google.rpc.retryinfo-bin"]
