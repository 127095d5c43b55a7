"""Running small programs in a fresh interpreter against the fake OpenAI server."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from sdk_support import clean_env
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer

__all__ = ["app_source", "clean_env", "exported_spans", "otlp_collector", "python", "run"]

# The program every test runs: one chat call and one embeddings call inside a session.
APP = """
import openai
{setup}
client = openai.OpenAI(base_url="{base_url}", api_key="sk-test", max_retries=0)
with {session}:
    client.chat.completions.create(model="gpt-4o", messages=[{{"role": "user", "content": "Hi"}}])
    client.embeddings.create(model="text-embedding-3-small", input="hello")
"""


def app_source(server: FakeOpenAIServer, setup: str = "", session: str = "open('/dev/null')") -> str:
    """The test program, with optional setup code and session expression."""
    return textwrap.dedent(APP.format(setup=setup, base_url=server.base_url, session=session))


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run a command; fails the test with its output when it exits non-zero."""
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done


def python(source: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run Python source in a fresh interpreter."""
    script = cwd / "app.py"
    script.write_text(source)
    return run([sys.executable, str(script)], cwd, env)


class _Collector(BaseHTTPRequestHandler):
    requests: list[ExportTraceServiceRequest]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/v1/traces":
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            self.server.requests.append(request)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextmanager
def otlp_collector() -> Iterator[ThreadingHTTPServer]:
    """A minimal OTLP/HTTP receiver on 127.0.0.1; ``.requests`` holds the trace requests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def exported_spans(server: ThreadingHTTPServer) -> list[Any]:
    """Every span the collector received."""
    return [
        span
        for request in server.requests  # type: ignore[attr-defined]
        for resource_spans in request.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
