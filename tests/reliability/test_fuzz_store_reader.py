"""The store readers against damaged files: torn tails, garbage lines, cut records, bit flips.

What each format promises, and what is checked:

- OTLP JSON Lines (``wikitrace_otel.store.read_spans``, the indexer): a line that does not parse is
  skipped whole, so every line left intact still yields its spans, in order; damage never raises.
  JSON has no checksum, so a bit flip inside a string can still parse: such a line may yield a
  changed span, but never more spans than were written.
- WAL segments (``collector.wal.iter_records``, ``query._wal.read_records``): records are length-
  and CRC-framed with no resynchronisation marker, so a segment is read up to its first damaged
  record, and reading goes on with the next segment. Exactly those records come out, in order,
  byte for byte; a later read resumes where an earlier one stopped; a restarted writer cuts the
  damaged tail of the last segment off and appends after the intact records.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from fuzz_support import SeededIds, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from wikitrace_otel.collector import wal
from wikitrace_otel.exporters import FileSpanExporter
from wikitrace_otel.query import QueryStore
from wikitrace_otel.query import _wal as query_wal
from wikitrace_otel.store import ReadStats, StoredSpan, read_spans

SPANS = 24
SEGMENT_BYTES = 700


def _write_spans(directory: Path, count: int = SPANS) -> None:
    """``count`` spans through the real SDK and file exporter: one line each (a simple processor)."""
    provider = TracerProvider(resource=Resource.create({"service.name": "fuzz"}), id_generator=SeededIds(count))
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(directory)))
    tracer = provider.get_tracer("fuzz")
    for index in range(count):
        attributes = {"gen_ai.request.model": f"m-{index % 3}", "user.id": f"u\"'{index}", "n": index, "x": 0.5}
        start = 1_780_000_000_000_000_000 + index * 10**6
        span = tracer.start_span(f"chat {index} ✓", attributes=attributes, start_time=start)
        if index % 5 == 0:
            span.set_status(Status(StatusCode.ERROR, "broke"))
        span.end(end_time=start + 12345)
    provider.shutdown()


@pytest.fixture(scope="module")
def jsonl_base(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, dict[str, StoredSpan]]:
    """The bytes of one store file and its spans by span id, read while intact."""
    directory = tmp_path_factory.mktemp("jsonl")
    _write_spans(directory)
    (path,) = directory.glob("*.jsonl")
    spans = {span.span_id: span for span in read_spans(directory)}
    assert len(spans) == SPANS
    return path.read_bytes(), spans


def _garbage_line(rng: random.Random) -> bytes:
    choices = (
        lambda: rng.randbytes(rng.randint(1, 60)).replace(b"\n", b""),
        lambda: json.dumps(rng.choice([[1, 2], "text", 3.5, None, True, {"resourceSpans": 7}])).encode(),
        lambda: b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "no ids"}]}]}]}',
        lambda: b"\xff\xfe not utf-8",
    )
    return rng.choice(choices)() + b"\n"


def damage_jsonl(data: bytes, rng: random.Random) -> bytes:
    """1-3 of: a torn tail, bit flips, a garbage line between two lines, an overwritten stretch."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("tear", "flip", "garbage", "overwrite"))
        where = rng.randrange(max(len(out), 1))
        if kind == "tear":
            del out[where:]
        elif kind == "flip" and out:
            out[where] ^= 1 << rng.randrange(8)
        elif kind == "garbage":
            boundary = out.rfind(b"\n", 0, where) + 1
            out[boundary:boundary] = _garbage_line(rng)
        else:
            patch = rng.randbytes(rng.randint(1, 20))
            out[where : where + len(patch)] = patch
    return bytes(out)


def _line_ids(data: bytes) -> list[tuple[bytes, str]]:
    """Each line of an intact store file with its span id."""
    lines = data.splitlines(keepends=True)
    return [(line, json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["spanId"]) for line in lines]


def intact_span_ids(original: bytes, damaged: bytes) -> list[str]:
    """Span ids of the original lines that are still whole lines, newline included, in order."""
    left = set(damaged.splitlines(keepends=True))
    return [span_id for line, span_id in _line_ids(original) if line in left]


def test_jsonl_reader_skips_damage_and_keeps_every_intact_line(
    jsonl_base: tuple[bytes, dict[str, StoredSpan]], tmp_path: Path, outcome: Callable[..., None]
) -> None:
    original, spans = jsonl_base
    counts: Counter[str] = Counter()

    @fuzz_settings(ci=60, full=400)
    @given(st.integers(0, 2**32))
    def check(seed: int) -> None:
        rng = random.Random(seed)
        for attempt in range(5):
            damaged = damage_jsonl(original, rng)
            path = tmp_path / f"damaged-{attempt}.jsonl"
            path.write_bytes(damaged)
            stats = ReadStats()
            read = list(read_spans(path, stats=stats))  # must not raise
            expected = intact_span_ids(original, damaged)
            intact = [span for span in read if span.span_id in spans and span == spans[span.span_id]]
            assert [span.span_id for span in intact if span.span_id in expected] == expected
            assert len(read) <= SPANS, "damage produced more spans than were written"
            counts["inputs"] += 1
            counts["spans_intact"] += len(expected)
            counts["skipped_lines"] += stats.skipped_lines

    check()
    outcome(
        inputs=counts["inputs"],
        spans_intact=counts["spans_intact"],
        skipped_lines=counts["skipped_lines"],
        spans_lost=0,
        crashes=0,
    )


def _payload(index: int, rng: random.Random) -> bytes:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    for number in range(rng.randint(1, 3)):
        span = scope.spans.add(trace_id=rng.randbytes(15) + b"\x01", span_id=rng.randbytes(7) + b"\x01")
        span.name = f"record {index} span {number}"
        span.start_time_unix_nano = 1_700_000_000_000_000_000 + index
        span.end_time_unix_nano = span.start_time_unix_nano + 5
    return request.SerializeToString()


Record = tuple[int, int, int, bytes]
"""(segment number, start offset, end offset, payload)."""


def write_wal(directory: Path, count: int = 20) -> list[Record]:
    """``count`` records of real requests through the collector's writer, in segments of ~700 bytes."""
    rng = random.Random(7)
    writer = wal.WalWriter(directory, segment_bytes=SEGMENT_BYTES)
    writer.append([_payload(index, rng) for index in range(count)])
    writer.close()
    return [(seg, end - wal.HEADER.size - len(p), end, p) for (seg, end), p in wal.iter_records(directory)]


def damage_wal(directory: Path, records: list[Record], rng: random.Random) -> tuple[dict[int, int], set[int]]:
    """1-3 of: a torn segment, a bit flip, garbage appended, a huge record length, a removed segment.

    Returns the first damaged offset per segment and the removed segments.
    """
    first: dict[int, int] = {}
    removed: set[int] = set()
    segments = dict(wal.list_segments(directory))
    for _ in range(rng.randint(1, 3)):
        number = rng.choice(sorted(segments))
        path = segments[number]
        if number in removed:
            continue
        data = bytearray(path.read_bytes())
        where = rng.randrange(max(len(data), 1))
        kind = rng.choice(("tear", "flip", "garbage", "length", "remove"))
        if kind == "tear":
            del data[where:]
        elif kind == "flip" and data:
            data[where] ^= 1 << rng.randrange(8)
        elif kind == "garbage":
            where = len(data)
            data += rng.randbytes(rng.randint(1, 40))
        elif kind == "length":
            where = rng.choice([start for seg, start, _end, _p in records if seg == number] or [0])
            data[where : where + 4] = (0xFFFFFFF0).to_bytes(4, "little")
        else:
            path.unlink()
            removed.add(number)
            continue
        path.write_bytes(bytes(data))
        first[number] = min(first.get(number, where), where)
    return first, removed


def expected_payloads(records: list[Record], first: dict[int, int], removed: set[int]) -> list[bytes]:
    """Each segment's records before its first damage; none of a removed segment."""
    inf = float("inf")
    return [p for seg, _start, end, p in records if seg not in removed and end <= first.get(seg, inf)]


def test_wal_readers_yield_exactly_the_intact_records(tmp_path: Path, outcome: Callable[..., None]) -> None:
    counts: Counter[str] = Counter()

    @fuzz_settings(ci=40, full=500)
    @given(st.integers(0, 2**32))
    def check(seed: int) -> None:
        rng = random.Random(seed)
        directory = Path(tempfile.mkdtemp(dir=tmp_path))  # fresh even when hypothesis replays a seed
        records = write_wal(directory)
        assert len({seg for seg, *_ in records}) >= 4, "the base WAL spans several segments"
        first, removed = damage_wal(directory, records, rng)
        expected = expected_payloads(records, first, removed)
        read = list(wal.iter_records(directory))
        assert [payload for _, payload in read] == expected
        assert [payload for _, payload in query_wal.read_records(directory)] == expected
        # A later read resumes after any record it was given.
        cut = rng.randint(0, len(read))
        start = read[cut - 1][0] if cut else (0, 0)
        assert [payload for _, payload in wal.iter_records(directory, start)] == expected[cut:]
        assert [payload for _, payload in query_wal.read_records(directory, start)] == expected[cut:]
        # A restarted writer cuts the damaged tail of the last segment off and appends after it.
        writer = wal.WalWriter(directory, segment_bytes=SEGMENT_BYTES)
        writer.append([b"after restart"])
        writer.close()
        assert [payload for _, payload in wal.iter_records(directory)] == [*expected, b"after restart"]
        counts["inputs"] += 1
        counts["records_intact"] += len(expected)
        counts["records_damaged"] += len(records) - len(expected)

    check()
    outcome(
        inputs=counts["inputs"],
        records=counts["records_intact"],
        records_damaged=counts["records_damaged"],
        spans_lost=0,
        corrupt=0,
        crashes=0,
    )


def test_index_of_a_damaged_store_holds_every_intact_span(
    jsonl_base: tuple[bytes, dict[str, StoredSpan]], tmp_path: Path, outcome: Callable[..., None]
) -> None:
    original, _spans = jsonl_base
    counts: Counter[str] = Counter()

    @fuzz_settings(ci=6, full=60)
    @given(st.integers(0, 2**32))
    def check(seed: int) -> None:
        rng = random.Random(seed)
        root = Path(tempfile.mkdtemp(dir=tmp_path))
        damaged = damage_jsonl(original, rng)
        (root / "spans-a.jsonl").write_bytes(damaged)
        directory = root / "wal" / "traces"
        records = write_wal(directory)
        first, removed = damage_wal(directory, records, rng)
        wal_span_ids = {
            span.span_id.hex()
            for payload in expected_payloads(records, first, removed)
            for span in ExportTraceServiceRequest.FromString(payload).resource_spans[0].scope_spans[0].spans
        }
        with QueryStore(root, threads=1) as store:
            store.refresh()  # must not raise
            indexed, _batch = store.spans_after(0, full=False)
        from_wal = {span["span_id"] for span in indexed if span["name"].startswith("record ")}
        from_jsonl = [span["span_id"] for span in indexed if not span["name"].startswith("record ")]
        assert from_wal == wal_span_ids, "the index holds exactly the intact WAL records' spans"
        assert set(intact_span_ids(original, damaged)) <= set(from_jsonl) and len(from_jsonl) <= SPANS
        counts["inputs"] += 1
        counts["spans"] += len(indexed)

    check()
    outcome(inputs=counts["inputs"], spans=counts["spans"], spans_lost=0, crashes=0)


# --- damage the readers do not survive yet -------------------------------------------------------


def _line(**span: object) -> bytes:
    fields = {"traceId": "ab" * 16, "spanId": "cd" * 8, "name": "bad", **span}
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [fields]}]}]}).encode() + b"\n"


_GOOD = _line(spanId="01" * 8, name="good")
# Python's json reads the bare tokens Infinity and NaN (and writes them for float("inf")).
_RAISING_LINES = {
    "nested 100000 deep": b"[" * 100_000 + b"\n",
    "Infinity as the kind": _line(kind=float("inf")),
    "Infinity as a token count": _line(
        attributes=[{"key": "gen_ai.usage.input_tokens", "value": {"intValue": float("inf")}}]
    ),
}


@pytest.mark.parametrize("damage", sorted(_RAISING_LINES))
def test_reader_skips_a_line_that_makes_the_decoder_raise(damage: str, tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(_GOOD + _RAISING_LINES[damage] + _GOOD)
    assert len(list(read_spans(tmp_path))) == 2


@pytest.mark.parametrize("damage", sorted(_RAISING_LINES))
def test_indexer_skips_a_line_that_makes_the_decoder_raise(damage: str, tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(_GOOD + _RAISING_LINES[damage] + _GOOD)
    with QueryStore(tmp_path, threads=1) as store:
        store.refresh()
        assert store.span_count >= 2  # the damaged line skipped whole, or indexed without the bad value


@pytest.mark.parametrize("ids", [{"traceId": "ab " * 16}, {"spanId": "cd"}, {"traceId": ""}])
def test_reader_skips_spans_with_malformed_ids(ids: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(_GOOD + _line(**ids))
    assert [span.name for span in read_spans(tmp_path)] == ["good"]


@pytest.mark.parametrize(
    "field",
    [
        {"startTimeUnixNano": str(2**64 - 1)},
        {"attributes": [{"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(10**20)}}]},
    ],
)
def test_indexer_survives_integers_beyond_int64(field: dict[str, object], tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_bytes(_GOOD + _line(**field))
    errors = []
    with QueryStore(tmp_path, threads=1) as store:
        for _ in range(2):
            try:
                store.refresh()
            except Exception as error:  # noqa: BLE001 - the failure is what this test looks for
                errors.append(error)
            (tmp_path / "b.jsonl").write_bytes(_line(spanId="02" * 8, name="later"))
        names = {span["name"] for span in store.spans_after(0, full=False)[0]}
    assert not errors and {"good", "later"} <= names, errors


_BOUNDED_MEMORY_READ = """
import resource, struct, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
from wikitrace_otel.collector import wal
directory = Path(sys.argv[1])
good = b"intact record"
data = wal.encode_record(good) + good + struct.pack("<II", 0xFFFFFFF0, 0) + b"garbage"
(directory / wal.segment_name(1)).write_bytes(data)
assert [payload for _, payload in wal.iter_records(directory)] == [good]
wal.WalWriter(directory).close()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is enforced this way on Linux only")
def test_collector_wal_reader_does_not_allocate_a_damaged_length(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", _BOUNDED_MEMORY_READ, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr[-2000:]
