"""Versions of the Cohere SDK this instrumentor supports (both ends are tested)."""

from __future__ import annotations

_instruments = ("cohere >= 5.14.0, < 8",)
