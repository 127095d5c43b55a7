"""Content capture for decorator spans: resolved once, then read from a cache on every call.

Decorator spans record arguments and return values only when
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` puts content on spans (``SPAN_ONLY`` or
``SPAN_AND_EVENT``; decorators emit no events, so ``EVENT_ONLY`` records nothing), capped at
``WIKITRACE_GENAI_MAX_CONTENT_SIZE`` bytes, with the same rules as the instrumentors
(:class:`~wikitrace_otel._genai.config.GenAISettings`).

Why a cache: reading the two variables costs about 3 µs per call (``os.environ`` lookups of
unset keys are slow), as much as the span itself. So the environment is read at the first
traced call and kept. :func:`configure` replaces the cached value: ``install()`` passes its
resolved settings (explicit argument > environment > default); ``configure()`` with no argument
makes the next call read the environment again (tests use it after changing a variable).
"""

from __future__ import annotations

from typing import Final

from wikitrace_otel._genai.config import GenAISettings

_UNRESOLVED: Final = -1
# Byte cap when content goes on spans, None when it does not, _UNRESOLVED before the first read.
_limit: int | None = _UNRESOLVED


def content_limit() -> int | None:
    """The byte cap for captured arguments and results, or None when content capture is off."""
    limit = _limit
    if limit == _UNRESOLVED:
        limit = _store(GenAISettings.resolve())
    return limit


def configure(settings: GenAISettings | None = None) -> None:
    """Use ``settings`` for decorator spans from now on; None re-reads the environment.

    Args:
        settings: resolved settings, e.g. ``GenAISettings.resolve(capture_content=True)``.
    """
    global _limit
    if settings is None:
        _limit = _UNRESOLVED
    else:
        _store(settings)


def _store(settings: GenAISettings) -> int | None:
    global _limit
    limit = settings.max_content_size if settings.capture_content.on_span else None
    _limit = limit
    return limit
