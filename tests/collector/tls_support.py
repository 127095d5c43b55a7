"""A throw-away PKI for the TLS tests: a CA, a server certificate for 127.0.0.1, client certificates.

Everything is made at test time with ``cryptography`` (EC P-256 keys: fast to generate) and
written as PEM files into a directory; :class:`Pki` names them.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Pki:
    """PEM files: ``ca`` signed ``server_*`` and ``client_*``; ``other_ca`` signed ``stranger_*``."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path
    stranger_cert: Path
    stranger_key: Path
    encrypted_key: Path

    def client_context(self, ca: Path | None = None, cert: bool = False, stranger: bool = False) -> ssl.SSLContext:
        """A client ``SSLContext`` trusting ``ca`` (default: the real CA), with a client certificate if asked."""
        context = ssl.create_default_context(cafile=str(ca or self.ca))
        if cert:
            context.load_cert_chain(self.client_cert, self.client_key)
        if stranger:
            context.load_cert_chain(self.stranger_cert, self.stranger_key)
        return context


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: x509.Name, key: Any) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
    )


def _ca(subject: str) -> tuple[x509.Certificate, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(subject, _name(subject), key)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            # digital signatures, certificate and CRL signing
            x509.KeyUsage(True, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def _leaf(subject: str, ca: x509.Certificate, ca_key: Any, server: bool) -> tuple[x509.Certificate, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(subject, ca.subject, key)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
    )
    if server:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def _write(directory: Path, name: str, cert: x509.Certificate | None = None, key: Any = None) -> Path:
    path = directory / name
    if cert is not None:
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return path


def make_pki(directory: Path) -> Pki:
    """Create the CA, the certificates and keys as PEM files under ``directory``."""
    ca, ca_key = _ca("wikitrace test CA")
    server, server_key = _leaf("127.0.0.1", ca, ca_key, server=True)
    client, client_key = _leaf("test client", ca, ca_key, server=False)
    other_ca, other_key = _ca("some other CA")
    stranger, stranger_key = _leaf("stranger", other_ca, other_key, server=False)
    encrypted = directory / "encrypted.key"
    encrypted.write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    return Pki(
        ca=_write(directory, "ca.pem", ca),
        server_cert=_write(directory, "server.pem", server),
        server_key=_write(directory, "server.key", key=server_key),
        client_cert=_write(directory, "client.pem", client),
        client_key=_write(directory, "client.key", key=client_key),
        other_ca=_write(directory, "other-ca.pem", other_ca),
        stranger_cert=_write(directory, "stranger.pem", stranger),
        stranger_key=_write(directory, "stranger.key", key=stranger_key),
        encrypted_key=encrypted,
    )
