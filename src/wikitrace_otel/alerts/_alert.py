"""What an alert says, and how it is written for Slack and for generic webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("budget.exceeded", "budget.warning", "error_rate", "latency", "evaluation.failed", "test")
SIGNATURE_HEADER = "X-Wikitrace-Signature"
TIMESTAMP_HEADER = "X-Wikitrace-Timestamp"
_SEVERITY_ICON = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}


@dataclass(frozen=True)
class Alert:
    """One alert.

    Attributes:
        kind: one of :data:`KINDS`.
        title: one line saying what happened.
        severity: ``critical``, ``warning`` or ``info``.
        details: how much (``spent_usd``, ``limit_usd``, ``error_rate``, ``duration_s``...).
        service, user, session, model: where it happened, when known.
        trace_id: the trace of the call that fired it (32 hex digits), when there is one.
        key: alerts with the same key within the deduplication window are sent once.
        time: seconds since the epoch.
    """

    kind: str
    title: str
    severity: str = "warning"
    details: dict[str, Any] = field(default_factory=dict)
    service: str | None = None
    user: str | None = None
    session: str | None = None
    model: str | None = None
    trace_id: str | None = None
    key: str = ""
    time: float = field(default_factory=time.time)

    def where(self) -> str:
        """``service=... user=...`` for the parts that are known."""
        parts = [("service", self.service), ("user", self.user), ("session", self.session), ("model", self.model)]
        return " ".join(f"{name}={value}" for name, value in parts if value)

    def as_json(self) -> dict[str, Any]:
        """The generic-webhook body."""
        body = asdict(self)
        body["source"] = "wikitrace-otel"
        return body

    def as_slack(self) -> dict[str, Any]:
        """A Slack incoming-webhook message: ``text`` for notifications, blocks for the layout."""
        icon = _SEVERITY_ICON.get(self.severity, "")
        headline = f"{icon} *{self.title}*".strip()
        facts = [f"*{name}:* {_fact(value)}" for name, value in self.details.items() if value is not None]
        if self.where():
            facts.append(f"*where:* {self.where()}")
        if self.trace_id:
            facts.append(f"*trace:* `{self.trace_id}`")
        text = "\n".join([headline, *facts])
        return {
            "text": f"{self.title} ({self.where()})" if self.where() else self.title,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        }


def _fact(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def encode(body: dict[str, Any]) -> bytes:
    """The request body: compact JSON, UTF-8."""
    return json.dumps(body, separators=(",", ":"), default=str).encode()


def signature_headers(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """HMAC-SHA256 headers over ``<timestamp>.<body>``: receivers recompute it with the shared
    secret and reject old timestamps to stop replays."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: f"sha256={digest}"}


def verify(body: bytes, headers: dict[str, str], secret: str) -> bool:
    """True when the headers carry a valid signature of ``body`` (for receivers and tests)."""
    stamp = headers.get(TIMESTAMP_HEADER, "")
    expected = signature_headers(body, secret, int(stamp) if stamp.isdigit() else 0)[SIGNATURE_HEADER]
    return hmac.compare_digest(expected, headers.get(SIGNATURE_HEADER, ""))
