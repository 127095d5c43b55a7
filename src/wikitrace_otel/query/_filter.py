"""Which traces or spans a query looks at: :class:`TraceFilter`, and the times it accepts."""

from __future__ import annotations

import dataclasses
import math
import re
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, Final

DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 100_000
STATUSES: Final = ("error", "ok")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$", re.IGNORECASE)
_UNIT_NS: Final = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9, "w": 604800 * 10**9}
# Parameters /api/stats passes along with the filter's own.
_IGNORED_PARAMS: Final = frozenset({"by"})
# Stored times are signed 64-bit nanoseconds; bounds beyond them select the same spans as these.
_EARLIEST_NS: Final = -(2**63)
_LATEST_NS: Final = 2**63 - 1


def parse_duration(text: str) -> int:
    """``30s``, ``15m``, ``1h``, ``7d``, ``2w``, ``500ms`` as nanoseconds.

    Raises:
        ValueError: not such a duration.
    """
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30m, 1h, 7d)")
    nanoseconds = float(match.group(1)) * _UNIT_NS[match.group(2).lower()]
    if not math.isfinite(nanoseconds):
        raise ValueError(f"not a duration: {text!r} is too long")
    return int(nanoseconds)


def parse_time(text: str, now_ns: int | None = None) -> int:
    """A point in time as nanoseconds since the epoch.

    Accepts a duration back from now (``1h`` means one hour ago) or an ISO 8601 timestamp
    (``2026-05-01``, ``2026-05-01T12:00``, ``2026-05-01T12:00:00Z``, with any UTC offset; a time
    without an offset is UTC).

    Raises:
        ValueError: neither a duration nor a timestamp.
    """
    if _DURATION.match(text):
        return (now_ns if now_ns is not None else time.time_ns()) - parse_duration(text)
    stamp = text.strip()
    if stamp.endswith(("Z", "z")):
        stamp = stamp[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        raise ValueError(
            f"not a time: {text!r} (use a duration like 1h or 7d, or ISO 8601 like 2026-05-01T12:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000


@dataclasses.dataclass(frozen=True)
class TraceFilter:
    """What to select. Every field is optional; the empty filter selects everything.

    For trace lists, export and ``tail``, a trace (a span, for ``tail``) is selected when one
    of its spans matches each given field; ``since``/``until`` bound the trace's start.
    For ``stats``, each model call is checked on its own, ``since``/``until`` bounding its start.

    Attributes:
        service: ``service.name`` equals this.
        model: ``gen_ai.request.model`` or ``gen_ai.response.model`` equals this.
        provider: ``gen_ai.provider.name`` (or the older ``gen_ai.system``) equals this.
        status: ``"error"`` (a span has status ERROR) or ``"ok"`` (none has).
        user: ``user.id`` equals this.
        session: ``session.id`` equals this.
        since: start at or after this time (ns since the epoch).
        until: start at or before this time (ns since the epoch).
        search: captured content contains this text (case-insensitive).
        limit: at most this many traces in a list (newest first).
    """

    service: str | None = None
    model: str | None = None
    provider: str | None = None
    status: str | None = None
    user: str | None = None
    session: str | None = None
    since: int | None = None
    until: int | None = None
    search: str | None = None
    limit: int = DEFAULT_LIMIT

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {self.status!r}")
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be a whole number from 1 to {MAX_LIMIT}, got {self.limit!r}")
        if self.since is not None and self.until is not None and self.since > self.until:
            raise ValueError("since is later than until")
        for bound in ("since", "until"):
            value = getattr(self, bound)
            if value is not None and not _EARLIEST_NS <= value <= _LATEST_NS:
                object.__setattr__(self, bound, min(max(value, _EARLIEST_NS), _LATEST_NS))

    @classmethod
    def from_params(cls, params: Mapping[str, str], now_ns: int | None = None) -> TraceFilter:
        """A filter from text parameters (an HTTP query string, command-line options).

        Keys are the field names; ``since``/``until`` take what :func:`parse_time` accepts,
        ``limit`` a number; empty values are ignored, and so is ``by`` (the stats grouping).

        Raises:
            ValueError: an unknown key or a bad value, with a message that says which.
        """
        fields = {field.name for field in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in params.items():
            if key in _IGNORED_PARAMS or value is None or value == "":
                continue
            if key not in fields:
                raise ValueError(f"unknown filter {key!r} (known: {', '.join(sorted(fields))})")
            values[key] = _convert(key, str(value), now_ns)
        return cls(**values)


def _convert(key: str, value: str, now_ns: int | None) -> Any:
    if key in ("since", "until"):
        try:
            return parse_time(value, now_ns)
        except ValueError as error:
            raise ValueError(f"bad {key}: {error}") from None
    if key == "limit":
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"bad limit: {value!r} is not a whole number") from None
    if key == "status":
        return value.lower()
    return value
