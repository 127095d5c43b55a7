"""What the query commands (``traces``, ``show``, ``stats``, ``tail``, ``export``) share: options,
opening the store, errors and number formats."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from wikitrace_otel.query._filter import TraceFilter
from wikitrace_otel.query._store import QueryStore

EXIT_NOT_FOUND: Final = 1
"""Nothing to show: an empty store, an unknown trace."""
EXIT_USAGE: Final = 2
"""Bad input: a bad option value, a missing store."""
_TENANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FILTERS: Final = ("service", "model", "provider", "status", "user", "session", "since", "until", "search")
REFRESH_WAIT_SECONDS: Final = 10.0


class CommandError(Exception):
    """A failure to report in one line, with the exit status to return."""

    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def add_common_options(parser: argparse.ArgumentParser) -> None:
    """``--store``, ``--tenant`` and ``--json``."""
    parser.add_argument(
        "--store", metavar="DIR", help="the store directory (default: $WIKITRACE_DIR, else ./.wikitrace)"
    )
    parser.add_argument("--tenant", metavar="NAME", help="read the tenant's data: DIR/tenants/NAME")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def add_filter_options(parser: argparse.ArgumentParser, *, limit: bool = True) -> None:
    """The filters of :class:`TraceFilter` as options."""
    group = parser.add_argument_group("filters")
    group.add_argument("--service", help="service.name equals this")
    group.add_argument("--model", help="request or response model equals this")
    group.add_argument("--provider", help="gen_ai.provider.name equals this (openai, anthropic, ...)")
    group.add_argument("--status", choices=("error", "ok"), help="traces with (error) or without (ok) an error")
    group.add_argument("--user", help="user.id equals this")
    group.add_argument("--session", help="session.id equals this")
    group.add_argument("--since", metavar="TIME", help="started at or after: a duration back (30m, 1h, 7d) or ISO 8601")
    group.add_argument("--until", metavar="TIME", help="started at or before: a duration back or ISO 8601")
    group.add_argument("--search", metavar="TEXT", help="captured content contains TEXT (case-insensitive)")
    if limit:
        group.add_argument("--limit", type=int, default=50, metavar="N", help="at most N traces (default 50)")


def build_filter(args: argparse.Namespace) -> TraceFilter:
    """The filter the options ask for.

    Raises:
        CommandError: a bad value (e.g. ``--since yesterday``).
    """
    params = {name: getattr(args, name, None) for name in _FILTERS}
    if getattr(args, "limit", None) is not None:
        params["limit"] = str(args.limit)
    try:
        return TraceFilter.from_params({key: value for key, value in params.items() if value is not None})
    except ValueError as error:
        raise CommandError(str(error)) from None


def store_root(args: argparse.Namespace) -> Path:
    """The root the options name, checked to exist.

    Raises:
        CommandError: a bad tenant name, or no store there.
    """
    from wikitrace_otel.exporters.file import resolve_directory

    root = resolve_directory(args.store)
    if args.tenant is not None:
        if not _TENANT.match(args.tenant):
            raise CommandError(f"bad tenant name {args.tenant!r}: 1 to 64 of A-Z a-z 0-9 _ -")
        root = root / "tenants" / args.tenant
    if not root.is_dir():
        raise CommandError(f"no span store at {root} (use --store DIR or set WIKITRACE_DIR)")
    return root


def open_store(args: argparse.Namespace, *, require_spans: bool = True) -> QueryStore:
    """The store the options name, refreshed.

    Raises:
        CommandError: no store there, or (``require_spans``) a store without spans.
    """
    root = store_root(args)
    store = QueryStore(root)
    try:
        store.refresh(timeout=REFRESH_WAIT_SECONDS)
    except PermissionError as error:
        store.close()
        raise CommandError(f"cannot index {root}: {error}") from None
    if require_spans and store.span_count == 0:
        store.close()
        raise CommandError(f"the store at {root} holds no spans yet", EXIT_NOT_FOUND)
    return store


def run_guarded(name: str, body: Callable[[], int]) -> int:
    """Run a command body; a :class:`CommandError` or ``ValueError`` becomes one line on stderr and its status."""
    try:
        return body()
    except CommandError as error:
        print(f"wikitrace-otel {name}: {error}", file=sys.stderr)
        return error.status
    except (ValueError, ImportError) as error:  # ImportError: DuckDB is not installed
        print(f"wikitrace-otel {name}: {error}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # `wikitrace-otel traces | head`
        return 0


def print_json(value: Any) -> None:
    """Strict JSON on stdout."""
    print(json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False))


def ms(value: float | None) -> str:
    """A duration in ms, short."""
    if value is None:
        return "-"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    if value >= 100:
        return f"{value:.0f} ms"
    return f"{value:.1f} ms"


def cost(value: float | None) -> str:
    """USD, with enough digits for fractions of a cent."""
    if value is None:
        return "-"
    if value == 0 or abs(value) >= 0.01:
        return f"${value:,.2f}"
    decimals = min(12, 1 - math.floor(math.log10(abs(value))))  # two significant digits
    return f"${value:.{decimals}f}"


def tokens(span: dict[str, Any]) -> str | None:
    """``11 in / 7 out`` (or just one side) for a span that reported usage, else None."""
    parts = [f"{span[key]:,} {label}" for key, label in (("input_tokens", "in"), ("output_tokens", "out")) if span[key]]
    return " / ".join(parts) or None


def model_note(span: dict[str, Any]) -> str | None:
    """The span's model when its name does not already say it."""
    model = span["request_model"] or span["response_model"]
    return model if model and model not in span["name"] else None


def count(value: int | None) -> str:
    """An integer with thousands separators, ``-`` for none."""
    return "-" if value is None else f"{value:,}"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    """A plain text table; ``right`` says which columns are right-aligned."""
    widths = [max([len(header)] + [len(row[i]) for row in rows]) for i, header in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        out = [cell.rjust(w) if r else cell.ljust(w) for cell, w, r in zip(cells, widths, right, strict=True)]
        return "  ".join(out).rstrip()

    return "\n".join([line(headers), *(line(row) for row in rows)])
