"""Versions of the Anthropic SDK this instrumentor supports (both ends are tested)."""

from __future__ import annotations

_instruments = ("anthropic >= 0.70.0, < 3",)
