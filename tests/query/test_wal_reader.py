"""The WAL reader written from the segment format, checked against the collector's own reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from query_support import wal_record

from wikitrace_otel.query import _wal


def segment(directory: Path, number: int, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{number:020d}.wal").write_bytes(data)


@pytest.fixture
def wal(tmp_path: Path) -> Path:
    return tmp_path / "wal" / "traces"


def test_reads_records_in_order_and_resumes(wal: Path) -> None:
    segment(wal, 1, wal_record(b"a") + wal_record(b"bb"))
    segment(wal, 2, wal_record(b"ccc"))
    records = list(_wal.read_records(wal))
    assert records == [((1, 9), b"a"), ((1, 19), b"bb"), ((2, 11), b"ccc")]
    assert list(_wal.read_records(wal, (1, 19))) == [((2, 11), b"ccc")]
    assert list(_wal.read_records(wal, (2, 11))) == []


def test_stops_at_a_torn_last_segment_and_resumes_when_complete(wal: Path) -> None:
    full = wal_record(b"payload")
    segment(wal, 1, wal_record(b"a") + full[:5])
    assert [payload for _position, payload in _wal.read_records(wal)] == [b"a"]
    segment(wal, 1, wal_record(b"a") + full[:-1])  # header complete, payload short
    assert list(_wal.read_records(wal, (1, 9))) == []
    segment(wal, 1, wal_record(b"a") + full)
    assert list(_wal.read_records(wal, (1, 9))) == [((1, 24), b"payload")]


def test_a_bad_crc_ends_an_earlier_segment_but_stops_the_last(wal: Path) -> None:
    bad = bytearray(wal_record(b"xyz"))
    bad[4] ^= 1
    segment(wal, 1, wal_record(b"a") + bytes(bad) + wal_record(b"lost"))
    segment(wal, 2, wal_record(b"b") + bytes(bad))
    before = _wal.skipped_segment_tails
    assert [payload for _position, payload in _wal.read_records(wal)] == [b"a", b"b"]
    assert _wal.skipped_segment_tails == before + 1


def test_a_huge_torn_length_is_not_read(wal: Path) -> None:
    segment(wal, 1, b"\xff\xff\xff\x7f\x00\x00\x00\x00")
    assert list(_wal.read_records(wal)) == []


def test_missing_directory_has_no_records(tmp_path: Path) -> None:
    assert list(_wal.read_records(tmp_path / "nope")) == []


def test_agrees_with_the_collectors_reader(wal: Path) -> None:
    collector_wal = pytest.importorskip("wikitrace_otel.collector.wal")
    reader = getattr(collector_wal, "iter_records", None)
    if reader is None:
        pytest.skip("the collector has no WAL reader")
    full = wal_record(b"tail")
    segment(wal, 1, wal_record(b"a") + wal_record(b"") + wal_record(b"b" * 1000))
    segment(wal, 3, wal_record(b"c") + full[:7])
    for start in [(0, 0), (1, 9), (1, 17), (3, 0), (3, 9)]:
        assert list(reader(wal, start=start)) == list(_wal.read_records(wal, start)), start
