"""Fixtures for the collector tests: in-process collectors on free ports, and a subprocess one.

- ``start_collector(**settings)``: a running in-process :class:`Collector` on 127.0.0.1 with
  system-chosen ports and a store under ``tmp_path``, without the indexing process unless
  ``index=True``; stopped after the test.
- ``collector``: one started with default settings.
- ``spawn_collector(*args)``: ``python -m wikitrace_otel.collector`` as a subprocess; returns
  ``(process, grpc_port, http_port)`` once its ready line is printed; killed after the test.
  Tests using it are marked ``slow``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from wikitrace_otel.collector import Collector, CollectorConfig


@pytest.fixture
def start_collector(tmp_path: Path) -> Iterator[Callable[..., Collector]]:
    started: list[Collector] = []

    def _start(**settings: Any) -> Collector:
        settings.setdefault("store", tmp_path / f"store{len(started)}")
        settings.setdefault("grpc_port", 0)
        settings.setdefault("http_port", 0)
        settings.setdefault("index", False)  # no indexing process unless a test reads /api
        collector = Collector(CollectorConfig(**settings))
        collector.start()
        started.append(collector)
        return collector

    yield _start
    for collector in reversed(started):
        collector.stop(grace=2)


@pytest.fixture
def collector(start_collector: Callable[..., Collector]) -> Collector:
    return start_collector()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: starts collector subprocesses (a second or so each); -m 'not slow' skips")


_READY = re.compile(r"gRPC on [^ ]+:(\d+) and OTLP/HTTP and /api on http://[^ ]+:(\d+)")


@pytest.fixture
def spawn_collector(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[str], int, int]]]:
    processes: list[subprocess.Popen[str]] = []

    def _spawn(*args: str) -> tuple[subprocess.Popen[str], int, int]:
        command = [sys.executable, "-m", "wikitrace_otel.collector", "--grpc-port", "0", "--http-port", "0", *args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        processes.append(process)
        assert process.stdout is not None
        line = process.stdout.readline()
        match = _READY.search(line)
        if match is None:
            process.kill()
            _, err = process.communicate(timeout=10)
            raise AssertionError(f"collector did not start: {line!r} {err}")
        return process, int(match.group(1)), int(match.group(2))

    yield _spawn
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)
