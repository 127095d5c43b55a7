"""OTLP/gRPC receiver: the three ``Export`` methods as generic handlers on raw bytes.

The request arrives as bytes (gRPC does not parse it), is checked and stored by the shared
:class:`~wikitrace_otel.collector.ingest.Receiver`, and the answer goes back as bytes, so each
message is parsed exactly once. Errors carry a ``google.rpc.Status`` in ``grpc-status-details-bin``
and, when the client should retry, a ``RetryInfo`` (also under ``google.rpc.retryinfo-bin``,
where the OpenTelemetry Python exporter looks for it).

Calls past the admission limit (``grpc_workers * 4`` in progress) are refused at once with
``RESOURCE_EXHAUSTED`` and a ``RetryInfo``: see :mod:`wikitrace_otel.collector.grpc_admission`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NoReturn

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from wikitrace_otel.collector import otlp
from wikitrace_otel.collector.auth import KeyRing
from wikitrace_otel.collector.commit import OverloadedError, UnavailableError
from wikitrace_otel.collector.config import RETRY_AFTER_S, CollectorConfig
from wikitrace_otel.collector.grpc_admission import AdmissionPool, refusing
from wikitrace_otel.collector.ingest import Receiver
from wikitrace_otel.collector.tls import TlsFiles, grpc_credentials

_logger = logging.getLogger(__name__)


def _abort(context: Any, code: grpc.StatusCode, message: str, retry: bool = False) -> NoReturn:
    status = status_pb2.Status(code=code.value[0], message=message)
    trailers: list[tuple[str, bytes]] = []
    if retry:
        retry_info = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=RETRY_AFTER_S))
        detail = any_pb2.Any()
        detail.Pack(retry_info)
        status.details.append(detail)
        trailers.append(("google.rpc.retryinfo-bin", retry_info.SerializeToString()))
    trailers.append(("grpc-status-details-bin", status.SerializeToString()))
    context.set_trailing_metadata(trailers)
    context.abort(code, message)
    raise AssertionError("unreachable: abort raises")  # pragma: no cover


def _export_method(signal: otlp.Signal, receiver: Receiver, keys: KeyRing) -> Callable[[bytes, Any], bytes]:
    def export(request: bytes, context: Any) -> bytes:
        if refusing():  # past the admission limit: answer before any work
            receiver.note_refused("calls")
            _abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, "overloaded, retry later (too many calls)", retry=True)
        metadata = {key.lower(): value for key, value in context.invocation_metadata() if isinstance(value, str)}
        tenant = keys.authenticate(metadata)
        if tenant is None:
            receiver.note_refused("unauthenticated", client=context.peer())
            _abort(
                context,
                grpc.StatusCode.UNAUTHENTICATED,
                "missing or unknown API key: send 'authorization: Bearer <key>'",
            )
        try:
            receiver.budget.acquire(len(request))
        except OverloadedError as exc:
            receiver.note_refused("overloaded")
            _abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED, f"overloaded, retry later ({exc})", retry=True)
        try:
            decoded = receiver.export(signal, tenant, request, is_json=False)
        except otlp.BadRequestError as exc:
            receiver.note_refused("invalid")
            _abort(context, grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except UnavailableError as exc:
            _abort(context, grpc.StatusCode.UNAVAILABLE, str(exc), retry=True)
        finally:
            receiver.budget.release(len(request))
        if _logger.isEnabledFor(logging.DEBUG):  # context.peer() is not free
            _logger.debug("gRPC %s Export from %s: %d stored", signal.name, context.peer(), decoded.items)
        return otlp.response(signal, decoded.rejected).SerializeToString()

    return export


def build_server(
    config: CollectorConfig, receiver: Receiver, keys: KeyRing, tls: TlsFiles | None = None
) -> tuple[grpc.Server, int, AdmissionPool]:
    """A started-later gRPC server serving the three OTLP services; returns it, its bound port and
    its thread pool (grpcio never shuts the pool down: the caller does, after stopping the server).
    With ``tls`` the port speaks TLS only (and requires a client certificate when mutual).

    Raises:
        OSError: the address cannot be bound.
    """
    pool = AdmissionPool(config.grpc_workers, config.grpc_workers * 4, thread_name_prefix="wikitrace-grpc")
    server = grpc.server(
        pool,
        options=[
            ("grpc.max_receive_message_length", config.max_body_bytes),
            # Without this, a second collector on the same port would silently share it.
            ("grpc.so_reuseport", 0),
        ],
        # Last resort: the pool refuses (with RetryInfo) past its limit, but each refusal waits for a
        # refusal thread; past this many calls in progress gRPC itself answers, without RetryInfo.
        maximum_concurrent_rpcs=pool.hard_cap,
    )
    handlers = [
        grpc.method_handlers_generic_handler(
            signal.service, {"Export": grpc.unary_unary_rpc_method_handler(_export_method(signal, receiver, keys))}
        )
        for signal in otlp.SIGNALS
    ]
    server.add_generic_rpc_handlers(handlers)
    host = f"[{config.host}]" if ":" in config.host else config.host
    address = f"{host}:{config.grpc_port}"
    try:
        if tls is None:
            port = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, grpc_credentials(tls))
    except RuntimeError as exc:  # newer grpcio raises instead of returning 0
        raise OSError(f"cannot listen for gRPC on {address}: {exc}") from None
    if not port:
        raise OSError(f"cannot listen for gRPC on {address}")
    return server, port, pool
