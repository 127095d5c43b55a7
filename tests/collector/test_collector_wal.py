"""The WAL segment format: round trips, resuming, roll-over, torn tails and damaged segments."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from wikitrace_otel.collector.wal import (
    HEADER,
    WalReadStats,
    WalWriter,
    iter_records,
    list_segments,
    segment_name,
)


def test_records_round_trip_in_the_documented_format(tmp_path: Path) -> None:
    writer = WalWriter(tmp_path)
    writer.append([b"first", b"", b"third"])
    writer.sync()
    writer.close()

    raw = (tmp_path / segment_name(1)).read_bytes()
    assert raw[:8] == struct.pack("<II", 5, zlib.crc32(b"first"))
    assert raw[8:13] == b"first"
    assert [payload for _, payload in iter_records(tmp_path)] == [b"first", b"", b"third"]
    assert segment_name(1) == "00000000000000000001.wal"


def test_reading_resumes_after_the_last_position(tmp_path: Path) -> None:
    writer = WalWriter(tmp_path)
    writer.append([b"a", b"b"])
    writer.sync()
    positions = [position for position, _ in iter_records(tmp_path)]
    writer.append([b"c"])
    writer.sync()

    assert [payload for _, payload in iter_records(tmp_path, start=positions[-1])] == [b"c"]
    assert [payload for _, payload in iter_records(tmp_path, start=positions[0])] == [b"b", b"c"]
    writer.close()


def test_segments_roll_over_and_a_record_never_spans_two(tmp_path: Path) -> None:
    writer = WalWriter(tmp_path, segment_bytes=100)
    payloads = [bytes([i]) * 40 for i in range(5)]
    for payload in payloads:
        writer.append([payload])
    writer.close()

    segments = list_segments(tmp_path)
    assert [number for number, _ in segments] == [1, 2, 3]
    assert all(path.stat().st_size <= 100 for _, path in segments)
    assert [payload for _, payload in iter_records(tmp_path)] == payloads
    # Resuming at the end of a full segment moves on to the next one.
    first_end = next(position for position, _ in iter_records(tmp_path))
    assert [p for _, p in iter_records(tmp_path, start=first_end)] == payloads[1:]


def test_a_torn_last_record_is_not_read_and_is_truncated_on_restart(tmp_path: Path) -> None:
    writer = WalWriter(tmp_path)
    writer.append([b"kept"])
    writer.close()
    segment = tmp_path / segment_name(1)
    with open(segment, "ab") as stream:
        stream.write(HEADER.pack(100, 0) + b"partial")  # a crash in the middle of a write

    assert [payload for _, payload in iter_records(tmp_path)] == [b"kept"]
    writer = WalWriter(tmp_path)
    assert segment.stat().st_size == HEADER.size + 4
    writer.append([b"after"])
    writer.close()
    assert [payload for _, payload in iter_records(tmp_path)] == [b"kept", b"after"]


def test_a_crc_failure_in_the_last_segment_stops_reading_there(tmp_path: Path) -> None:
    writer = WalWriter(tmp_path)
    writer.append([b"one", b"two"])
    writer.close()
    segment = tmp_path / segment_name(1)
    data = bytearray(segment.read_bytes())
    data[-1] ^= 0xFF
    segment.write_bytes(bytes(data))

    assert [payload for _, payload in iter_records(tmp_path)] == [b"one"]


def test_damage_in_an_earlier_segment_ends_that_segment_and_is_counted(tmp_path: Path) -> None:
    writer = WalWriter(tmp_path, segment_bytes=30)
    writer.append([b"a" * 10])
    writer.append([b"b" * 10])  # 18 + 18 > 30: second segment
    writer.close()
    with open(tmp_path / segment_name(1), "ab") as stream:
        stream.write(b"\x07garbage")

    stats = WalReadStats()
    assert [payload for _, payload in iter_records(tmp_path, stats=stats)] == [b"a" * 10, b"b" * 10]
    assert (stats.damaged_segments, stats.skipped_bytes) == (1, 8)


def test_a_restarted_writer_continues_the_numbering(tmp_path: Path) -> None:
    writer = WalWriter(tmp_path, segment_bytes=20)
    writer.append([b"x" * 10])
    writer.append([b"y" * 10])
    writer.close()
    writer = WalWriter(tmp_path, segment_bytes=20)
    writer.append([b"z" * 10])
    writer.close()

    assert [number for number, _ in list_segments(tmp_path)] == [1, 2, 3]
    assert [payload for _, payload in iter_records(tmp_path)] == [b"x" * 10, b"y" * 10, b"z" * 10]


def test_a_missing_directory_reads_as_empty(tmp_path: Path) -> None:
    assert list(iter_records(tmp_path / "nothing")) == []
