"""TraceFilter and the times and durations it reads."""

from __future__ import annotations

import pytest

from wikitrace_otel.query import TraceFilter, parse_duration, parse_time

NOW = 1_800_000_000 * 10**9


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("30s", 30 * 10**9),
        ("15m", 900 * 10**9),
        ("1h", 3600 * 10**9),
        ("7d", 7 * 86400 * 10**9),
        ("2w", 14 * 86400 * 10**9),
        ("500ms", 5 * 10**8),
        ("1.5h", 5400 * 10**9),
        (" 2H ", 7200 * 10**9),
    ],
)
def test_durations(text: str, ns: int) -> None:
    assert parse_duration(text) == ns
    assert parse_time(text, NOW) == NOW - ns


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2027-01-15", 1_800_000_000 - 8 * 3600),
        ("2027-01-15T08:00:00Z", 1_800_000_000),
        ("2027-01-15T10:00:00+02:00", 1_800_000_000),
        ("2027-01-15T08:00", 1_800_000_000),
    ],
)
def test_iso_timestamps_are_utc_unless_they_say_otherwise(text: str, seconds: int) -> None:
    assert parse_time(text) == seconds * 10**9


def test_microseconds_are_kept() -> None:
    assert parse_time("1970-01-01T00:00:01.000002Z") == 1_000_002_000


@pytest.mark.parametrize("text", ["yesterday", "1y", "-1h", "", "2027-13-01"])
def test_bad_times(text: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        parse_time(text)


def test_from_params() -> None:
    selection = TraceFilter.from_params(
        {"service": "shop", "status": "ERROR", "since": "1h", "limit": "5", "by": "model", "user": ""}, now_ns=NOW
    )
    assert selection == TraceFilter(service="shop", status="error", since=NOW - 3600 * 10**9, limit=5)
    assert TraceFilter.from_params({}) == TraceFilter()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sevice": "x"}, "unknown filter 'sevice'"),
        ({"since": "soon"}, "bad since: not a time: 'soon'"),
        ({"until": "1x"}, "bad until"),
        ({"limit": "ten"}, "bad limit"),
        ({"limit": "0"}, "limit must be"),
        ({"limit": "1000001"}, "limit must be"),
        ({"status": "broken"}, "status must be one of error, ok"),
        ({"since": "1h", "until": "2h"}, "since is later than until"),
    ],
)
def test_from_params_errors(params: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TraceFilter.from_params(params)


def test_public_names() -> None:
    import wikitrace_otel.query as query

    assert query.__all__ == sorted(query.__all__)
    assert set(query.__all__) == {
        "QueryStore",
        "STATS_GROUPS",
        "TraceFilter",
        "iso_time",
        "json_safe",
        "parse_duration",
        "parse_time",
        "span_dict",
    }
