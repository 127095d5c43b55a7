"""Versions of the OpenAI Agents SDK the instrumentor supports (both ends are tested)."""

from __future__ import annotations

_instruments = ("openai-agents >= 0.2.9, < 1",)
