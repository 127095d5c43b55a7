"""Versions of boto3 this instrumentor supports (both ends are tested)."""

from __future__ import annotations

_instruments = ("boto3 >= 1.35.0, < 2",)
