"""Rebuilding budget-rule spend from the local store at start-up, so a restart does not
reset a user's daily spend."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wikitrace_otel.budgets._gatekeeper import BudgetGate, tokens_of
from wikitrace_otel.budgets._rules import RuleBook
from wikitrace_otel.processors.cost import PRICED_OPERATIONS
from wikitrace_otel.semconv import gen_ai as g
from wikitrace_otel.store import ReadStats, read_spans, store_files

_logger = logging.getLogger("wikitrace_otel.budgets")


def restore(gate: BudgetGate, book: RuleBook, store: str | os.PathLike[str], service_name: str | None) -> int:
    """Charge the rules with the GenAI calls of ``service_name`` stored in ``store`` within the
    longest rule window (all of them when a rule has no window). Returns the calls counted.

    Only this service's spans count: the rules are this process's limits, and other services
    writing to the same store keep their own.
    """
    windows = [rule.seconds for rule in book.rules]
    since = None if any(w is None for w in windows) else time.time() - max(w for w in windows if w is not None)
    counted = 0
    stats = ReadStats()
    for path in _files_since(Path(store), since):
        for span in read_spans(path, stats=stats):
            attributes = span.attributes
            if attributes.get(g.GEN_AI_OPERATION_NAME) not in PRICED_OPERATIONS:
                continue
            if service_name is not None and span.resource.get("service.name") != service_name:
                continue
            ended = span.end_time_unix_nano / 1e9
            if since is not None and ended < since:
                continue
            counted += _charge(gate, book, {**span.resource, **attributes}, ended)
    if counted:
        _logger.info("wikitrace-otel: budget rules resumed from %d stored calls in %s", counted, store)
    return counted


def _files_since(store: Path, since: float | None) -> list[Path]:
    if not store.is_dir():
        return []
    files = store_files(store)
    if since is None:
        return files
    # A file last written before the window opened holds nothing inside it.
    return [path for path in files if path.stat().st_mtime >= since]


def _charge(gate: BudgetGate, book: RuleBook, values: Mapping[str, Any], ended: float) -> int:
    keys = book.keys(values)
    if not keys:
        return 0
    usd = gate.cost(values)
    book.charge(keys, usd or 0.0, tokens_of(values), at=ended)
    return 1
