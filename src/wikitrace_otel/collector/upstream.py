"""How a forwarded request reaches one upstream: OTLP/HTTP (``http(s)://``) or OTLP/gRPC (``grpc(s)://``).

``send`` returns None on success, a delay in seconds to retry after (0: use the backoff), or a
negative number when the upstream refused the data for good (it is dropped and counted).
"""

from __future__ import annotations

import http.client
import logging
from typing import Any, Final, Protocol
from urllib.parse import urlsplit

from wikitrace_otel.version import __version__

_logger = logging.getLogger(__name__)

TIMEOUT_S: Final = 10.0
RETRYABLE_HTTP: Final = frozenset({429, 502, 503, 504})
_SERVICES: Final = {
    "traces": "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
    "metrics": "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
    "logs": "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
}
SCHEMES: Final = ("http://", "https://", "grpc://", "grpcs://")
"""URL schemes ``--forward`` accepts."""


class Upstream(Protocol):
    """One upstream endpoint, used by a single forwarding thread."""

    def send(self, signal: str, payload: bytes) -> float | None: ...

    def close(self) -> None: ...


def open_upstream(url: str, headers: dict[str, str]) -> Upstream:
    """The transport for ``url`` (its scheme picks HTTP or gRPC, plain or TLS)."""
    if url.startswith(("grpc://", "grpcs://")):
        return GrpcUpstream(url, headers)
    return HttpUpstream(url, headers)


class HttpUpstream:
    """POSTs to ``<url>/v1/<signal>`` over one keep-alive connection."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        self._https = parts.scheme == "https"
        self._netloc = parts.netloc
        self._prefix = parts.path
        self._headers = {"Content-Type": "application/x-protobuf", "User-Agent": f"wikitrace-otel/{__version__}"}
        self._headers.update(headers)
        self._conn: http.client.HTTPConnection | None = None

    def send(self, signal: str, payload: bytes) -> float | None:
        try:
            if self._conn is None:
                factory = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
                self._conn = factory(self._netloc, timeout=TIMEOUT_S)
            self._conn.request("POST", f"{self._prefix}/v1/{signal}", body=payload, headers=self._headers)
            answer = self._conn.getresponse()
            answer.read()
        except (OSError, http.client.HTTPException) as exc:
            _logger.debug("forwarding to %s failed: %s", self.url, exc)
            self.close()
            return 0.0
        if answer.status < 300:
            return None
        if answer.status in RETRYABLE_HTTP:
            retry_after = answer.getheader("Retry-After") or ""
            return float(retry_after) if retry_after.isdigit() else 0.0
        _logger.warning("forwarding to %s: HTTP %d, dropping the request", self.url, answer.status)
        return -1.0

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class GrpcUpstream:
    """Calls the OTLP ``Export`` methods with the raw request bytes (no re-encoding)."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        import grpc

        self.url = url
        target = urlsplit(url).netloc
        if url.startswith("grpcs://"):
            self._channel = grpc.secure_channel(target, grpc.ssl_channel_credentials())
        else:
            self._channel = grpc.insecure_channel(target)
        self._metadata = tuple((name.lower(), value) for name, value in headers.items())
        self._grpc = grpc
        self._retryable = {
            grpc.StatusCode.UNAVAILABLE,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            grpc.StatusCode.DEADLINE_EXCEEDED,
            grpc.StatusCode.ABORTED,
            grpc.StatusCode.CANCELLED,
        }

    def send(self, signal: str, payload: bytes) -> float | None:
        method = self._channel.unary_unary(_SERVICES[signal])
        try:
            method(payload, timeout=TIMEOUT_S, metadata=self._metadata)
        except self._grpc.RpcError as error:
            return self._classify(error)
        return None

    def _classify(self, error: Any) -> float:
        code = error.code()
        if code in self._retryable:
            _logger.debug("forwarding to %s failed: %s", self.url, code)
            return _retry_delay(error)
        _logger.warning("forwarding to %s: %s, dropping the request", self.url, code)
        return -1.0

    def close(self) -> None:
        self._channel.close()


def _retry_delay(error: Any) -> float:
    """The delay a gRPC error's RetryInfo asks for, or 0 (use the backoff)."""
    from google.rpc import error_details_pb2

    raw = dict(error.trailing_metadata() or ()).get("google.rpc.retryinfo-bin")
    if not isinstance(raw, bytes):
        return 0.0
    info = error_details_pb2.RetryInfo.FromString(raw)
    return info.retry_delay.seconds + info.retry_delay.nanos / 1e9
