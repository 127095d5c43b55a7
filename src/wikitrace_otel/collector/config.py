"""The collector's settings, checked once at start-up."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from wikitrace_otel.collector.auth import TENANT_PATTERN, KeyRing, check_tenant
from wikitrace_otel.collector.tls import TlsFiles, tls_files
from wikitrace_otel.collector.upstream import SCHEMES

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_GRPC_PORT: Final = 4317
DEFAULT_HTTP_PORT: Final = 4318
DEFAULT_MAX_BODY_BYTES: Final = 16 * 1024 * 1024
"""Largest request body (after decompression) accepted; larger ones get 413 / RESOURCE_EXHAUSTED."""
DEFAULT_MAX_INFLIGHT_BYTES: Final = 64 * 1024 * 1024
"""Bytes of request bodies held between reading and fsync; beyond it requests get 503."""
DEFAULT_MAX_CONNECTIONS: Final = 64
"""Concurrent HTTP connections (one thread each); more get 503 and are closed."""
DEFAULT_GRPC_WORKERS: Final = 16
DEFAULT_FORWARD_QUEUE_BYTES: Final = 64 * 1024 * 1024
"""Bytes waiting for one upstream; beyond it new data is dropped for that upstream (counted)."""
RETRY_AFTER_S: Final = 1
"""The delay suggested to clients told to back off."""

_SIZE = re.compile(r"(\d+)\s*([kmg]i?b?|b)?", re.IGNORECASE)
_UNITS: Final = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int:
    """``1048576``, ``512KiB``, ``16MiB``, ``1G`` (binary units) as a number of bytes."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        raise ValueError(f"invalid size {text!r}: use a number of bytes, optionally with K, M or G (binary units)")
    unit = (match.group(2) or "")[:1].lower()
    return int(match.group(1)) * _UNITS[unit]


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class CollectorConfig:
    """Everything ``wikitrace-otel collector`` takes from its command line.

    Ports may be 0 to let the system choose (the ready line names the ports chosen), or None to
    disable that protocol.
    """

    host: str = DEFAULT_HOST
    grpc_port: int | None = DEFAULT_GRPC_PORT
    http_port: int | None = DEFAULT_HTTP_PORT
    store: Path = field(default_factory=lambda: Path(os.environ.get("WIKITRACE_DIR") or ".wikitrace"))
    keys: list[tuple[str, str]] = field(default_factory=list)
    """``(tenant, key)`` pairs: tenant "" for ``--api-key`` keys (data in the store root)."""
    insecure: bool = False
    forward: list[str] = field(default_factory=list)
    forward_headers: dict[str, str] = field(default_factory=dict)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_inflight_bytes: int = DEFAULT_MAX_INFLIGHT_BYTES
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    grpc_workers: int = DEFAULT_GRPC_WORKERS
    forward_queue_bytes: int = DEFAULT_FORWARD_QUEUE_BYTES
    refresh_interval_s: float = 0.5
    """Least time between two index refreshes after commits (API and CLI freshness)."""
    index: bool = True
    """Keep the query index fresh from a child process; False leaves indexing to the CLI."""
    tls_cert: Path | None = None
    """PEM certificate (chain) for TLS on both listeners; needs ``tls_key``."""
    tls_key: Path | None = None
    """PEM private key (unencrypted) of ``tls_cert``."""
    tls_client_ca: Path | None = None
    """PEM CA certificate(s): when set, clients must present a certificate it signed (mutual TLS)."""

    def tls(self) -> TlsFiles | None:
        """The TLS files, or None when TLS is off. Raises ValueError on a bad combination of options."""
        return tls_files(self.tls_cert, self.tls_key, self.tls_client_ca)

    def tenants(self) -> list[str]:
        """The store root ("") and every tenant that has data (a directory) in the store."""
        found = {""}
        with contextlib.suppress(OSError):
            found |= {path.name for path in (self.store / "tenants").iterdir() if TENANT_PATTERN.fullmatch(path.name)}
        return sorted(found)

    def validate(self) -> KeyRing:
        """Check the settings; returns the key ring. Raises ValueError with the reason."""
        ring = KeyRing(self.keys)
        for tenant, _ in self.keys:
            if tenant:
                check_tenant(tenant)
        if not is_loopback(self.host) and not ring.enabled and not self.insecure:
            raise ValueError(
                f"refusing to listen on {self.host} without an API key: anyone who can reach it could send and "
                "read traces. Give --api-key/--tenant/--api-keys-file, or --insecure to accept this."
            )
        for port in (self.grpc_port, self.http_port):
            if port is not None and not 0 <= port <= 65535:
                raise ValueError(f"invalid port {port}")
        if self.grpc_port is None and self.http_port is None:
            raise ValueError("both gRPC and HTTP are disabled: nothing to listen on")
        self.tls()
        if self.max_body_bytes <= 0 or self.max_inflight_bytes <= 0:
            raise ValueError("size limits must be positive")
        for url in self.forward:
            if not url.startswith(SCHEMES) or not urlsplit(url).netloc:
                raise ValueError(f"--forward needs an http://, https://, grpc:// or grpcs:// URL, got {url!r}")
        return ring

    def tenant_root(self, tenant: str) -> Path:
        """The store directory of ``tenant`` ("" is the store root)."""
        return self.store / "tenants" / tenant if tenant else self.store

    def wal_directory(self, tenant: str, signal: str) -> Path:
        """Where ``tenant``'s WAL of ``signal`` lives."""
        return self.tenant_root(tenant) / "wal" / signal
