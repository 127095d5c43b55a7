"""Settings shared by the GenAI instrumentors, resolved argument > environment > default."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from wikitrace_otel import environment_variables as env

_logger = logging.getLogger(__name__)

DEFAULT_MAX_CONTENT_SIZE = 64 * 1024
MIN_MAX_CONTENT_SIZE = 256
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})
_warned: set[tuple[str, str]] = set()


class ContentCapture(str, Enum):
    """Where captured prompt and completion content is written."""

    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"

    @property
    def on_span(self) -> bool:
        """True when content goes on the span as JSON attributes."""
        return self in (ContentCapture.SPAN_ONLY, ContentCapture.SPAN_AND_EVENT)

    @property
    def on_event(self) -> bool:
        """True when content goes on a ``gen_ai.client.inference.operation.details`` event."""
        return self in (ContentCapture.EVENT_ONLY, ContentCapture.SPAN_AND_EVENT)

    @property
    def enabled(self) -> bool:
        """True when content is captured at all."""
        return self is not ContentCapture.NO_CONTENT


@dataclass(frozen=True)
class GenAISettings:
    """Resolved settings of one instrumentor.

    Attributes:
        capture_content: where message content goes (off by default).
        max_content_size: largest content attribute in bytes of JSON.
        legacy_semconv: also emit older metric and attribute names.
        include_usage: add ``stream_options.include_usage`` to OpenAI streams.
        provider_hosts: ``host`` or ``host:port`` (lower-case) to provider name.
    """

    capture_content: ContentCapture = ContentCapture.NO_CONTENT
    max_content_size: int = DEFAULT_MAX_CONTENT_SIZE
    legacy_semconv: bool = False
    include_usage: bool = False
    provider_hosts: dict[str, str] = field(default_factory=dict)

    @classmethod
    def resolve(cls, **kwargs: Any) -> GenAISettings:
        """Build settings from instrument() keyword arguments, then the environment.

        Raises:
            ValueError: an explicit argument has a bad value.
        """
        return cls(
            capture_content=_capture_setting(kwargs.get("capture_content")),
            max_content_size=_size_setting(kwargs.get("max_content_size")),
            legacy_semconv=_bool_setting("legacy_semconv", kwargs.get("legacy_semconv"), env.WIKITRACE_SEMCONV_LEGACY),
            include_usage=_bool_setting(
                "include_usage", kwargs.get("include_usage"), env.WIKITRACE_OPENAI_INCLUDE_USAGE
            ),
            provider_hosts=_hosts_setting(kwargs.get("provider_hosts")),
        )


def _capture_setting(explicit: Any) -> ContentCapture:
    if explicit is not None:
        if isinstance(explicit, bool):
            return ContentCapture.SPAN_ONLY if explicit else ContentCapture.NO_CONTENT
        try:
            return ContentCapture(str(explicit.value if isinstance(explicit, Enum) else explicit).upper())
        except ValueError:
            raise ValueError(
                f"capture_content={explicit!r}: expected a bool or one of {[c.value for c in ContentCapture]}"
            ) from None
    raw = os.environ.get(env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT)
    if raw is None or not raw.strip():
        return ContentCapture.NO_CONTENT
    try:
        return ContentCapture(raw.strip().upper())
    except ValueError:
        _logger.warning(
            "%s=%r is not one of %s; content capture stays off",
            env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT,
            raw,
            ", ".join(c.value for c in ContentCapture),
        )
        return ContentCapture.NO_CONTENT


def _size_setting(explicit: Any) -> int:
    if explicit is not None:
        if isinstance(explicit, bool) or not isinstance(explicit, int) or explicit < MIN_MAX_CONTENT_SIZE:
            raise ValueError(f"max_content_size={explicit!r}: expected an int >= {MIN_MAX_CONTENT_SIZE}")
        return explicit
    raw = os.environ.get(env.WIKITRACE_GENAI_MAX_CONTENT_SIZE)
    if raw is None or not raw.strip():
        return DEFAULT_MAX_CONTENT_SIZE
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < MIN_MAX_CONTENT_SIZE:
        _logger.warning(
            "%s=%r is not an integer >= %d; using %d",
            env.WIKITRACE_GENAI_MAX_CONTENT_SIZE,
            raw,
            MIN_MAX_CONTENT_SIZE,
            DEFAULT_MAX_CONTENT_SIZE,
        )
        return DEFAULT_MAX_CONTENT_SIZE
    return value


def env_flag(name: str, warn_once: bool = False) -> bool | None:
    """Read a boolean environment variable; None when unset, False (with a warning) when unreadable.

    Args:
        warn_once: for flags read on a hot path: warn about a given bad value only once.
    """
    raw = os.environ.get(name)
    if raw is None:
        return None
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value not in _FALSE and not (warn_once and (name, raw) in _warned):
        if warn_once and len(_warned) < 64:
            _warned.add((name, raw))
        _logger.warning("%s=%r is not a boolean (true/false); treating it as false", name, raw)
    return False


def _bool_setting(name: str, explicit: Any, variable: str) -> bool:
    if explicit is not None:
        if not isinstance(explicit, bool):
            raise ValueError(f"{name}={explicit!r}: expected a bool")
        return explicit
    return bool(env_flag(variable))


def _hosts_setting(explicit: Any) -> dict[str, str]:
    if explicit is not None:
        if not isinstance(explicit, dict) or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in explicit.items()
        ):
            raise ValueError(f"provider_hosts={explicit!r}: expected a dict of non-empty str to str")
        return {k.lower(): v for k, v in explicit.items()}
    raw = os.environ.get(env.WIKITRACE_GENAI_PROVIDER_HOSTS, "")
    hosts: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        host, sep, provider = pair.partition("=")
        if not sep or not host.strip() or not provider.strip():
            _logger.warning("%s: ignoring %r (expected host[:port]=provider)", env.WIKITRACE_GENAI_PROVIDER_HOSTS, pair)
            continue
        hosts[host.strip().lower()] = provider.strip()
    return hosts
