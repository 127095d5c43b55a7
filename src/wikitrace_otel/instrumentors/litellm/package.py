"""Versions of LiteLLM this instrumentor supports (both ends are tested)."""

from __future__ import annotations

_instruments = ("litellm >= 1.80.0, < 2",)
