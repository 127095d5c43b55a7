"""Helpers for the crash and overload tests: collector subprocesses, raw OTLP requests, what a store holds.

- :class:`Processes` starts child processes in their own process group and kills every group at the
  end, so a collector's indexing child (or an orphan left by killing only its parent) never outlives
  a test.
- :class:`CollectorProcess` is ``python -m wikitrace_otel collector`` on free ports: its ports, its
  RSS, and ``kill`` (SIGKILL to the collector alone or to its whole group).
- :func:`make_request` builds an OTLP traces request with known ids; :class:`RawSender` sends
  requests over OTLP/HTTP (protobuf or JSON) or gRPC without any retry and says what the answer was.
- :func:`wal_spans` and :func:`api_trace_counts` read back what the collector stored and indexed.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from wikitrace_otel.collector.wal import iter_records

EXPORT_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
_READY = re.compile(r"gRPC on [^ ]+:(\d+) and OTLP/HTTP and /api on http://[^ ]+:(\d+)")
START_TIMEOUT_S = 60.0
"""Generous: seven test runs may share two cores."""


class Processes:
    """Child processes started by one test, each in its own process group; ``close()`` kills them all."""

    def __init__(self) -> None:
        self._groups: list[int] = []
        self._processes: list[subprocess.Popen[str]] = []

    def start(self, command: list[str], **popen: Any) -> subprocess.Popen[str]:
        """``Popen(command)`` in a new session, with PYTHONUNBUFFERED; stdout piped as text unless given."""
        popen.setdefault("stdout", subprocess.PIPE)
        popen.setdefault("stderr", subprocess.PIPE)
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **popen.pop("env", {})}
        process = subprocess.Popen(command, text=True, env=env, start_new_session=True, **popen)
        self._groups.append(process.pid)
        self._processes.append(process)
        return process

    def close(self) -> None:
        """SIGKILL every group started (children that outlived their parent included) and reap."""
        for group in self._groups:
            kill_group(group)
        for process in self._processes:
            with contextlib.suppress(subprocess.TimeoutExpired, OSError, ValueError):
                process.communicate(timeout=10)


def kill_group(group: int) -> None:
    """SIGKILL process group ``group``; nothing happens if it is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signal.SIGKILL)


def read_line(stream: Any, timeout: float) -> str:
    """The next line of a child's pipe, or "" if none comes within ``timeout`` seconds."""
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: lines.put(stream.readline()), daemon=True).start()
    try:
        return lines.get(timeout=timeout)
    except queue.Empty:
        return ""


class CollectorProcess:
    """A running ``wikitrace-otel collector`` child on system-chosen ports (the real CLI, via ``-m``)."""

    def __init__(self, processes: Processes, store: Path, *options: str) -> None:
        command = [sys.executable, "-m", "wikitrace_otel", "collector", "--store", str(store)]
        command += ["--grpc-port", "0", "--http-port", "0", "--log-level", "error", *options]
        self.store = store
        # stderr to a file: a chatty child must never block on a full pipe nobody reads.
        self.log = store.parent / f"{store.name}-collector.log"
        with open(self.log, "a", encoding="utf-8") as log:
            self.process = processes.start(command, stderr=log)
        line = read_line(self.process.stdout, START_TIMEOUT_S)
        match = _READY.search(line)
        if match is None:
            kill_group(self.process.pid)
            raise AssertionError(f"the collector did not start: {line!r}\n{self.log.read_text()[-3000:]}")
        self.grpc_port, self.http_port = int(match.group(1)), int(match.group(2))
        self.pid = self.process.pid

    def kill(self, whole_group: bool = True) -> None:
        """SIGKILL the collector (and its indexing child when ``whole_group``) and wait for it to die."""
        if whole_group:
            kill_group(self.pid)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM and wait for a clean exit; returns the exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)

    def rss_kb(self, field: str = "VmRSS") -> int:
        """The collector's resident set size in KiB (``VmHWM``: its peak so far), 0 once it is gone (Linux)."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0
        match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
        return int(match.group(1)) if match else 0


def make_request(spans: int, payload: int = 0, service: str = "reliability") -> tuple[bytes, str, list[str]]:
    """A serialized traces request: one new trace of ``spans`` spans; returns it, the trace id, the span ids.

    ``payload`` bytes of attribute text per span make requests as large as a test needs.
    """
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=service)))
    scope = resource.scope_spans.add()
    scope.scope.name = "reliability"
    trace_id = os.urandom(16)
    ids = []
    start = time.time_ns()
    for index in range(spans):
        span = scope.spans.add()
        span.trace_id, span.span_id = trace_id, os.urandom(8)
        span.name = f"chat {index}"
        span.start_time_unix_nano = start + index
        span.end_time_unix_nano = start + index + 1000
        span.attributes.append(KeyValue(key="gen_ai.request.model", value=AnyValue(string_value="gpt-4o-mini")))
        if payload:
            span.attributes.append(KeyValue(key="pad", value=AnyValue(string_value="p" * payload)))
        ids.append(span.span_id.hex())
    return request.SerializeToString(), trace_id.hex(), ids


def to_json(body: bytes) -> bytes:
    """A serialized request in OTLP/JSON (hex ids, as the OTLP/HTTP JSON encoding requires)."""
    from google.protobuf import json_format

    document = json_format.MessageToDict(ExportTraceServiceRequest.FromString(body))
    for resource in document.get("resourceSpans", []):
        for scope in resource.get("scopeSpans", []):
            for span in scope.get("spans", []):
                for key in ("traceId", "spanId"):
                    span[key] = _b64_to_hex(span[key])
    return json.dumps(document).encode()


def _b64_to_hex(text: str) -> str:
    import base64

    return base64.b64decode(text).hex()


@dataclass
class Answer:
    """What a server said to one request: ``ok``, an HTTP status or gRPC code name, or ``dropped``."""

    outcome: str
    retry_after: str | None = None
    detail: str = ""


class RawSender:
    """Sends raw OTLP requests on one keep-alive connection (HTTP) or channel (gRPC); never retries.

    Args:
        kind: ``http`` (protobuf), ``json`` (OTLP/JSON over HTTP) or ``grpc``.
        port: the collector's port for that protocol.
    """

    def __init__(self, kind: str, port: int, timeout: float = 30.0) -> None:
        self.kind = kind
        self.port = port
        self.timeout = timeout
        self._connection: http.client.HTTPConnection | None = None
        self._channel: Any = None

    def send(self, body: bytes) -> Answer:
        """Send one protobuf request body (converted to JSON for ``json``) and classify the answer."""
        if self.kind == "grpc":
            return self._send_grpc(body)
        return self._send_http(to_json(body) if self.kind == "json" else body)

    def _send_http(self, body: bytes) -> Answer:
        media = "application/json" if self.kind == "json" else "application/x-protobuf"
        if self._connection is None:
            self._connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            self._connection.request("POST", "/v1/traces", body=body, headers={"Content-Type": media})
            response = self._connection.getresponse()
            response.read()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            return Answer("dropped", detail=repr(error))
        if response.will_close:
            self.close()
        if response.status == 200:
            return Answer("ok")
        return Answer(str(response.status), response.getheader("Retry-After"))

    def _send_grpc(self, body: bytes) -> Answer:
        import grpc

        if self._channel is None:
            self._channel = grpc.insecure_channel(f"127.0.0.1:{self.port}")
        method = self._channel.unary_unary(EXPORT_METHOD)
        try:
            method(body, timeout=self.timeout)
        except grpc.RpcError as error:
            code = error.code()  # type: ignore[attr-defined]
            metadata = dict(error.trailing_metadata() or ())  # type: ignore[attr-defined]
            retry = "yes" if "google.rpc.retryinfo-bin" in metadata else None
            return Answer(code.name, retry, detail=str(error.details()))  # type: ignore[attr-defined]
        return Answer("ok")

    def close(self) -> None:
        """Close the connection or channel (the next ``send`` opens a new one)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        if self._channel is not None:
            self._channel.close()
            self._channel = None


@dataclass
class Ledger:
    """Which spans were acknowledged, per trace (each request is one trace); thread-safe."""

    traces: dict[str, list[str]] = field(default_factory=dict)
    answers: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, trace_id: str, span_ids: list[str], answer: Answer) -> None:
        """Count ``answer``; remember the request's spans when it was acknowledged."""
        with self._lock:
            self.answers[answer.outcome] += 1
            if answer.outcome == "ok":
                self.traces[trace_id] = span_ids

    def acknowledged(self) -> dict[str, list[str]]:
        """A copy of the acknowledged traces and their span ids."""
        with self._lock:
            return dict(self.traces)

    @property
    def span_count(self) -> int:
        with self._lock:
            return sum(len(ids) for ids in self.traces.values())


def wal_spans(store: Path) -> list[tuple[str, str]]:
    """``(trace id, span id)`` of every span in the store's traces WAL, in order (duplicates kept)."""
    found = []
    for _, payload in iter_records(store / "wal" / "traces"):
        request = ExportTraceServiceRequest.FromString(payload)
        for resource in request.resource_spans:
            for scope in resource.scope_spans:
                found += [(span.trace_id.hex(), span.span_id.hex()) for span in scope.spans]
    return found


def api_get(port: int, path: str) -> Any:
    """``GET path`` from the collector's API; the parsed JSON answer (asserting 200)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 200, (path, body[:500])
    return json.loads(body)


def api_trace_counts(port: int) -> dict[str, int]:
    """``trace id -> span count`` of every trace the collector's ``/api/traces`` lists."""
    return {trace["trace_id"]: trace["span_count"] for trace in api_get(port, "/api/traces?limit=100000")["traces"]}


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Poll ``condition`` until it holds (True) or ``timeout`` seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def index_lock_held(store: Path) -> bool:
    """Whether some process holds the index's writer lock right now (an index refresh is running)."""
    import fcntl

    try:
        fd = os.open(store / "index" / "lock", os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def partial_request(port: int, declared: int) -> socket.socket:
    """A connection that sent an OTLP/HTTP request's headers and the start of its body, and stalls."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=10)
    head = f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: {declared}"
    connection.sendall(head.encode() + b"\r\n\r\n" + b"\x0a" * min(declared // 2, 65536))
    return connection


def duplicates(items: Iterator[str] | list[str]) -> list[str]:
    """Items that occur more than once."""
    return [item for item, count in Counter(items).items() if count > 1]
