"""TLS for the collector's two listeners, from PEM files checked once at start-up.

Both listeners take the same certificate and key. With a client CA, both also require a client
certificate signed by it (mutual TLS). Every file is read and checked before anything listens,
so a missing file, a key that does not match the certificate or a file that is not PEM stops
the start with a message instead of failing at the first connection.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn


@dataclass(frozen=True)
class TlsFiles:
    """The PEM files the listeners use: certificate (chain), its key, and optionally client CAs."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    @property
    def mutual(self) -> bool:
        """Whether clients must present a certificate signed by ``client_ca``."""
        return self.client_ca is not None


def tls_files(cert: Path | None, key: Path | None, client_ca: Path | None) -> TlsFiles | None:
    """The TLS settings from the three options; None when TLS is off. Raises ValueError on a bad combination."""
    if cert is None and key is None:
        if client_ca is not None:
            raise ValueError("--tls-client-ca needs --tls-cert and --tls-key: client certificates are a TLS feature")
        return None
    if cert is None or key is None:
        raise ValueError("--tls-cert and --tls-key go together: give both (PEM certificate and its private key)")
    return TlsFiles(Path(cert), Path(key), None if client_ca is None else Path(client_ca))


def _encrypted_key() -> NoReturn:
    # Without a password callback OpenSSL would prompt on the terminal, and block a service.
    raise ValueError("the TLS key is encrypted: give an unencrypted PEM key (protect it with file permissions)")


def _read(path: Path, what: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"cannot read the TLS {what} {str(path)!r}: {exc.strerror or exc}") from None
    if b"-----BEGIN " not in data:
        raise ValueError(f"the TLS {what} {str(path)!r} is not PEM (expected a '-----BEGIN ...' block)")
    return data


def server_context(files: TlsFiles) -> ssl.SSLContext:
    """An ``SSLContext`` for the HTTP listener: TLS 1.2 or later, client certificates when mutual.

    Raises:
        ValueError: a file is missing, unreadable or not PEM, or the key does not match the certificate.
    """
    for path, what in ((files.cert, "certificate"), (files.key, "key"), (files.client_ca, "client CA")):
        if path is not None:
            _read(path, what)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(files.cert, files.key, password=_encrypted_key)
    except ssl.SSLError as exc:
        pair = f"the TLS certificate {str(files.cert)!r} with key {str(files.key)!r}"
        raise ValueError(f"cannot use {pair}: {_why(exc)}") from None
    if files.client_ca is not None:
        try:
            context.load_verify_locations(cafile=files.client_ca)
        except ssl.SSLError as exc:
            raise ValueError(f"cannot use the TLS client CA {str(files.client_ca)!r}: {_why(exc)}") from None
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def _why(exc: ssl.SSLError) -> str:
    # OpenSSL's reason codes; some errors come with none and only a message ("PEM lib").
    reason = exc.reason or str(exc)
    if "KEY_VALUES_MISMATCH" in reason:
        return "the key does not belong to the certificate"
    if "PEM" in reason or "BASE64" in reason or "NO_CERTIFICATE" in reason or "ASN1" in reason:
        return f"not a valid PEM certificate or key ({reason})"
    return str(exc)


def grpc_credentials(files: TlsFiles) -> Any:
    """``grpc.ServerCredentials`` for the gRPC listener (call :func:`server_context` first: it checks the files)."""
    import grpc

    root = _read(files.client_ca, "client CA") if files.client_ca is not None else None
    return grpc.ssl_server_credentials(
        [(_read(files.key, "key"), _read(files.cert, "certificate"))],
        root_certificates=root,
        require_client_auth=files.mutual,
    )
