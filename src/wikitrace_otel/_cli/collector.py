"""``wikitrace-otel collector``: the bundled OTLP receiver (see :mod:`wikitrace_otel.collector`)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any


def _port(text: str) -> int | None:
    """A port number; ``off`` disables the protocol."""
    if text.lower() == "off":
        return None
    return int(text)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Add the ``collector`` subparser."""
    from wikitrace_otel.collector import config as defaults

    parser: argparse.ArgumentParser = commands.add_parser(
        "collector",
        help="run an OTLP receiver (gRPC and HTTP) that stores traces durably in the local store",
        description="Receive OTLP traces, metrics and logs over gRPC and HTTP, store them durably in a "
        "write-ahead log under the store directory, serve queries on /api, and optionally forward "
        "everything to upstream OTLP endpoints.",
    )
    add = parser.add_argument
    add("--host", default=defaults.DEFAULT_HOST, help="interface to listen on (default: 127.0.0.1)")
    add("--grpc-port", type=_port, default=defaults.DEFAULT_GRPC_PORT, help="OTLP/gRPC port, 0 for any, 'off'")
    add("--http-port", type=_port, default=defaults.DEFAULT_HTTP_PORT, help="OTLP/HTTP and API port, 0 for any, 'off'")
    add("--store", type=Path, default=None, help="store directory (default: $WIKITRACE_DIR or ./.wikitrace)")
    add("--api-key", action="append", default=[], metavar="KEY", help="accept this key (repeatable)")
    add("--tenant", action="append", default=[], metavar="NAME=KEY", help="a key whose data is kept apart under NAME")
    add("--api-keys-file", type=Path, metavar="FILE", help="keys, one per line: KEY or NAME=KEY, or sha256:<hex>")
    add("--insecure", action="store_true", help="allow listening beyond loopback without an API key")
    add("--forward", action="append", default=[], metavar="URL", help="also send everything to this OTLP/HTTP URL")
    add("--forward-header", action="append", default=[], metavar="NAME=VALUE", help="header sent to upstreams")
    add("--max-body-size", default="16MiB", metavar="SIZE", help="largest request body (default: 16MiB)")
    add("--max-inflight", default="64MiB", metavar="SIZE", help="bytes in flight before 503 (default: 64MiB)")
    add("--tls-cert", type=Path, metavar="PEM", help="serve both ports over TLS with this certificate (chain)")
    add("--tls-key", type=Path, metavar="PEM", help="the certificate's private key (unencrypted PEM)")
    add("--tls-client-ca", type=Path, metavar="PEM", help="require client certificates signed by this CA (mTLS)")
    add("--no-index", action="store_true", help="do not keep the query index fresh (receive and forward only)")
    add("--log-level", default="info", choices=["debug", "info", "warning", "error"], help="default: info")
    return parser


def _config(args: argparse.Namespace) -> Any:
    from wikitrace_otel.collector.auth import parse_tenant_key, read_keys_file
    from wikitrace_otel.collector.config import CollectorConfig, parse_size

    keys = [("", key) for key in args.api_key] + [parse_tenant_key(text) for text in args.tenant]
    if args.api_keys_file is not None:
        keys += read_keys_file(args.api_keys_file)
    headers = {}
    for text in args.forward_header:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"--forward-header expects NAME=VALUE, got {text!r}")
        headers[name.strip()] = value.strip()
    config = CollectorConfig(
        host=args.host,
        grpc_port=args.grpc_port,
        http_port=args.http_port,
        keys=keys,
        insecure=args.insecure,
        forward=list(args.forward),
        forward_headers=headers,
        max_body_bytes=parse_size(args.max_body_size),
        max_inflight_bytes=parse_size(args.max_inflight),
        index=not args.no_index,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        tls_client_ca=args.tls_client_ca,
    )
    if args.store is not None:
        config.store = args.store
    config.store = config.store.expanduser().absolute()
    return config


def run(args: argparse.Namespace) -> int:
    """Run the collector until SIGINT/SIGTERM; returns the exit status."""
    from wikitrace_otel.collector.server import serve

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    try:
        config = _config(args)
        return serve(config)
    except (ValueError, OSError) as exc:
        print(f"wikitrace-otel collector: error: {exc}", file=sys.stderr)
        return 2
