"""Versions of the Google Gen AI SDK this instrumentor supports (both ends are tested)."""

from __future__ import annotations

_instruments = ("google-genai >= 1.10.0, < 4",)
