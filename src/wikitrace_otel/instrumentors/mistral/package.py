"""Versions of the Mistral SDK this instrumentor supports (both ends are tested)."""

from __future__ import annotations

_instruments = ("mistralai >= 1.9.1, < 4",)
