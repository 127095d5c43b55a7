"""Keeping wikitrace-otel's own failures away from the user's call.

Every piece of instrumentation code that runs around a wrapped SDK call goes through
:func:`report_internal_error`: the first failure at each place is logged with its traceback,
later ones only at debug level, and nothing is raised, so a bug here never breaks the
application. The test suite sets ``WIKITRACE_RAISE_INTERNAL_ERRORS=true`` so bugs surface.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from wikitrace_otel import environment_variables as env
from wikitrace_otel._genai.config import env_flag

_logger = logging.getLogger("wikitrace_otel")
_seen: set[tuple[str, str, int]] = set()
_seen_lock = threading.Lock()
_MAX_SEEN = 1024


class InternalErrorRaised(Exception):  # noqa: N818 - names what happened, not a kind of error
    """Raised (only under WIKITRACE_RAISE_INTERNAL_ERRORS) in place of a swallowed internal error."""


def report_internal_error(exc: BaseException) -> None:
    """Log an internal error once per code location; re-raise it under the test setting."""
    if env_flag(env.WIKITRACE_RAISE_INTERNAL_ERRORS, warn_once=True):
        raise InternalErrorRaised(f"wikitrace-otel internal error: {exc!r}") from exc
    key = _location(exc)
    with _seen_lock:
        first = key not in _seen
        if first and len(_seen) < _MAX_SEEN:
            _seen.add(key)
    if first:
        _logger.warning("wikitrace-otel: telemetry failed; the call itself is unaffected", exc_info=exc)
    else:
        _logger.debug("wikitrace-otel: telemetry failed again: %r", exc)


def _location(exc: BaseException) -> tuple[str, str, int]:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return (type(exc).__name__, "", 0)
    return (type(exc).__name__, tb.tb_frame.f_code.co_filename, tb.tb_lineno)


class internal_errors:  # noqa: N801 - used like a function: ``with internal_errors():``
    """Context manager that swallows (and reports) any exception raised in its block."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        report_internal_error(exc)
        return True


def error_type(exc: BaseException) -> str:
    """The ``error.type`` of an exception: provider code, HTTP status, or qualified class name.

    Private module segments (``openai._exceptions``) are dropped so the name is the one users
    import (``openai.APIConnectionError``); builtins stay bare (``TimeoutError``).
    """
    code = getattr(exc, "code", None)
    if isinstance(code, str) and code:
        return code
    status = getattr(exc, "status_code", None)
    # Only an error status names the failure: a response that failed to parse mid-stream carries
    # its 200 (mistralai's ResponseValidationError), and "200" says nothing about what went wrong.
    if isinstance(status, int) and status >= 400:
        return str(status)
    cls = type(exc)
    module = cls.__module__
    if module == "builtins":
        return cls.__qualname__
    # Drop private segments (`_exceptions`) but keep dunder ones (`__main__`).
    public = [part for part in module.split(".") if not part.startswith("_") or part.startswith("__")]
    return ".".join([*public, cls.__qualname__])
