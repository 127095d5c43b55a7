"""Marks the context of a call this instrumentor traces, so a traced method that the SDK calls
from inside another (today none; a future SDK's chat or agent helper might) adds no second span."""

from __future__ import annotations

from contextvars import ContextVar

in_traced_call: ContextVar[bool] = ContextVar("wikitrace_google_genai_in_call", default=False)
