"""Versions of langchain-core this instrumentor supports (both ends are tested)."""

from __future__ import annotations

_instruments = ("langchain-core >= 0.3.72, < 2",)
