"""Versions of the OpenAI SDK this instrumentor supports (both ends are tested)."""

from __future__ import annotations

_instruments = ("openai >= 1.99.0, < 4",)
