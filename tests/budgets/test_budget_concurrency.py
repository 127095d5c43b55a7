"""Many workers under one budget: overspend is bounded by the calls already in flight.

Each call costs the same, so the limit is crossed by call ``n = ceil(limit / cost)``. After
that, a worker can only finish the call it had already started: the server can see at most
``n + workers - 1`` requests, however many each worker tries.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import threading
from typing import Any

import pytest
from budget_support import COST_PER_CALL, achat, chat

import wikitrace_otel as wt

LIMIT = 0.1
ATTEMPTS_PER_WORKER = 20


def _bound(workers: int) -> int:
    return math.ceil(LIMIT / COST_PER_CALL) + workers - 1


def _requests(server: Any) -> int:
    return sum(1 for request in server.requests if request.method == "POST")


def test_eight_threads_never_overspend_beyond_calls_in_flight(instrumented: Any, client: Any, fake_openai: Any) -> None:
    refused: list[int] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        for _ in range(ATTEMPTS_PER_WORKER):
            try:
                chat(client)
            except wt.BudgetExceeded:
                refused.append(1)
                return

    with wt.budget(usd=LIMIT) as b:
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(worker,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    sent = _requests(fake_openai)
    assert len(refused) == 8  # every worker was stopped
    assert math.ceil(LIMIT / COST_PER_CALL) <= sent <= _bound(8)
    assert b.calls == sent and b.in_flight == 0
    assert b.spent == pytest.approx(sent * COST_PER_CALL)
    # The crossing call plus at most the other seven workers' calls in flight.
    assert b.spent <= (math.ceil(LIMIT / COST_PER_CALL) + 7) * COST_PER_CALL + 1e-9


async def test_fifty_tasks_never_overspend_beyond_calls_in_flight(
    instrumented: Any, async_client: Any, fake_openai: Any
) -> None:
    refused = 0

    async def worker() -> None:
        nonlocal refused
        for _ in range(ATTEMPTS_PER_WORKER):
            try:
                await achat(async_client)
            except wt.BudgetExceeded:
                refused += 1
                return

    async with wt.budget(usd=LIMIT) as b:
        await asyncio.gather(*(worker() for _ in range(50)))
    sent = _requests(fake_openai)
    assert refused == 50
    assert math.ceil(LIMIT / COST_PER_CALL) <= sent <= _bound(50)
    assert b.calls == sent and b.in_flight == 0
