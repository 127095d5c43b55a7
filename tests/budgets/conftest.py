"""Budget fixtures: known prices, and the process-wide budget state reset around each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from budget_support import PRICES

from wikitrace_otel import alerts, budgets
from wikitrace_otel.budgets._gatekeeper import ensure_gate


@pytest.fixture(autouse=True)
def budget_state() -> Iterator[None]:
    budgets.use_prices(PRICES)
    yield
    gate = ensure_gate()
    gate.set_rules([], {})
    gate.prices = None
    alerts.disable(timeout=5)
