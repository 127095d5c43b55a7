"""Shared by the budget tests: known prices and one-line chat calls."""

from __future__ import annotations

from typing import Any

MODEL = "budget-model"
# $1000 per million tokens for everything: the fake server's chat usage (11 input tokens, 3 of
# them cached, and 7 output tokens) costs 18 * $0.001.
PRICES = {MODEL: {"input": 1000, "output": 1000, "cache_read": 1000}}
COST_PER_CALL = 0.018
TOKENS_PER_CALL = 18


def chat(client: Any, **kwargs: Any) -> Any:
    """One chat call of the budget model."""
    return client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], **kwargs)


async def achat(client: Any, **kwargs: Any) -> Any:
    return await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}], **kwargs)
