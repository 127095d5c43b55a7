"""API keys and tenants: which key may send and read, and whose data it reaches.

Only SHA-256 hashes of the keys are kept in memory. A key is given as ``Authorization: Bearer
<key>`` or ``x-api-key: <key>`` (HTTP headers or gRPC metadata). Each key maps to a tenant name,
or to "" for the store root (keys given with ``--api-key``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Final, Protocol

TENANT_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""Allowed tenant names: also the directory name under ``<store>/tenants/``."""
_HASH_PREFIX: Final = "sha256:"


def hash_key(key: str) -> str:
    """The hex SHA-256 of a key, the only form in which keys are kept."""
    return hashlib.sha256(key.encode()).hexdigest()


def _stored_hash(text: str) -> str:
    """A key as written by the operator (plain, or ``sha256:<hex>`` to keep it out of files)."""
    if text.startswith(_HASH_PREFIX):
        digest = text[len(_HASH_PREFIX) :].lower()
        if not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ValueError("a 'sha256:' key must be followed by 64 hex digits")
        return digest
    if not text or text != text.strip():
        raise ValueError("an API key must be non-empty and have no surrounding spaces")
    return hash_key(text)


def check_tenant(name: str) -> str:
    """``name`` if it is a valid tenant name; raises ValueError otherwise."""
    if not TENANT_PATTERN.fullmatch(name):
        raise ValueError(f"invalid tenant name {name!r}: use 1 to 64 of A-Z a-z 0-9 _ -")
    return name


def parse_tenant_key(text: str) -> tuple[str, str]:
    """``TENANT=KEY`` as ``(tenant, key)``; raises ValueError if malformed."""
    tenant, sep, key = text.partition("=")
    if not sep:
        raise ValueError(f"expected TENANT=KEY, got {text!r}")
    return check_tenant(tenant.strip()), key.strip()


def read_keys_file(path: str | Path) -> list[tuple[str, str]]:
    """The ``(tenant, key)`` pairs of a keys file; tenant "" for keys of the store root.

    One key per line: ``KEY`` or ``TENANT=KEY``, where KEY may be ``sha256:<hex digest>`` so the
    file need not hold the key itself. Blank lines and lines starting with ``#`` are ignored.
    """
    pairs = []
    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            pairs.append(parse_tenant_key(line) if "=" in line else ("", line))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
    return pairs


class Headers(Protocol):
    """Request headers or gRPC metadata: anything with ``get(name)`` (names in lower case)."""

    def get(self, name: str, /) -> str | None: ...


class KeyRing:
    """Maps API-key hashes to tenants. Empty means authentication is off.

    Args:
        keys: ``(tenant, key)`` pairs; tenant "" means the store root.
    """

    def __init__(self, keys: Iterable[tuple[str, str]] = ()) -> None:
        self._tenants: dict[str, str] = {}
        for tenant, key in keys:
            digest = _stored_hash(key)
            if self._tenants.get(digest, tenant) != tenant:
                raise ValueError("the same API key is given for two tenants")
            self._tenants[digest] = tenant

    @property
    def enabled(self) -> bool:
        """Whether requests need a key."""
        return bool(self._tenants)

    @property
    def tenants(self) -> set[str]:
        """The tenant names keys map to ("" is the store root)."""
        return set(self._tenants.values())

    def tenant_for(self, key: str | None) -> str | None:
        """The tenant of ``key`` ("" for the root), or None if the key is unknown or missing."""
        if not key:
            return None
        # Lookup by hash: timing can at most reveal bits of a SHA-256 digest, never of a key.
        return self._tenants.get(hash_key(key))

    def authenticate(self, headers: Headers) -> str | None:
        """The tenant of a request given its (lower-case) headers, or None if it is refused.

        With no keys configured every request is accepted for the store root.
        """
        if not self._tenants:
            return ""
        return self.tenant_for(key_from_headers(headers))


def key_from_headers(headers: Headers) -> str | None:
    """The key of ``authorization: Bearer <key>`` or else ``x-api-key`` (header names lower-case)."""
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
    key = headers.get("x-api-key")
    return key.strip() if key else None
