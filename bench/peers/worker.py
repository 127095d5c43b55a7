"""One long-lived process per variant: sets the variant up once, then times blocks of calls on demand.

Run as ``python -m peers.worker VARIANT`` (with ``bench/`` on ``PYTHONPATH``). It speaks JSON
lines on its original stdout; anything the instrumentation prints goes to stderr instead (fd 1
is pointed there), so it cannot corrupt the protocol.

- First line out: ``{"ok": true, "cases": [...], "versions": {...}}`` or
  ``{"ok": false, "error": "..."}`` when the peer fails to install, import or set up.
- In: ``{"case": name, "calls": N}`` -> out: ``{"result": {"us": µs per call, "spans": n,
  "genai_spans": n, "collect_us": µs per call, "scopes": [...], "names": [...]}}`` (spans per
  call), or ``{"result": {"error": "..."}}`` when the call raised.
- In: ``{"quit": true}`` or end of input -> exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from typing import Any, TextIO

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from peers import variants

# Attribute prefixes that mark a span as a GenAI span in one of the conventions peers follow.
GENAI_MARKERS = ("gen_ai.", "llm.", "openinference.span.kind", "langfuse.observation.model")
COMMON_PACKAGES = ("openai", "anthropic", "httpx2", "opentelemetry-api", "opentelemetry-sdk", "wrapt", "pydantic")
NAMES_KEPT = 4  # distinct span names / scopes remembered per case, to show in the report


class CountingExporter(SpanExporter):
    """Drops every span after counting it, and remembers a few names and scopes per case."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.spans = 0
        self.genai = 0
        self.names: set[str] = set()
        self.scopes: set[str] = set()

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        with self.lock:
            for span in spans:
                self.spans += 1
                if any(key.startswith(GENAI_MARKERS) for key in span.attributes or ()):
                    self.genai += 1
                if len(self.names) < NAMES_KEPT:
                    self.names.add(span.name)
                scope = span.instrumentation_scope
                if scope is not None and len(self.scopes) < NAMES_KEPT:
                    self.scopes.add(scope.name)
        return SpanExportResult.SUCCESS

    def take(self) -> dict[str, Any]:
        """The counts since the last call, then reset."""
        with self.lock:
            taken = {"spans": self.spans, "genai_spans": self.genai}
            taken |= {"names": sorted(self.names), "scopes": sorted(self.scopes)}
            self.spans = self.genai = 0
            self.names, self.scopes = set(), set()
        return taken


def versions(packages: Sequence[str]) -> dict[str, str]:
    found = {}
    for name in (*COMMON_PACKAGES, "wikitrace-otel", *packages):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def time_block(call: Callable[[], None], calls: int, around: Callable[[], Any]) -> float:
    """µs per call over ``calls`` calls, inside the variant's per-block context."""
    with around():
        start = time.perf_counter()
        for _ in range(calls):
            call()
        elapsed = time.perf_counter() - start
    return elapsed / calls * 1e6


def run_block(setup: variants.Setup, exporter: CountingExporter, case: str, calls: int) -> dict[str, Any]:
    """One timed block of ``calls`` calls of ``case``, with the spans it produced."""
    exporter.take()
    try:
        us = time_block(setup.cases[case], calls, setup.around)
    except Exception as error:  # noqa: BLE001 - a peer that breaks the SDK call is a finding, not a crash
        return {"error": f"{type(error).__name__}: {error}"[:300]}
    setup.flush()
    start = time.perf_counter()
    setup.collect()  # metrics some instrumentations defer to collection: reported apart
    collect_us = (time.perf_counter() - start) / calls * 1e6
    result = {"us": us, "collect_us": collect_us, **exporter.take()}
    result["spans"] /= calls
    result["genai_spans"] /= calls
    return result


def commands(stream: TextIO) -> Iterator[dict[str, Any]]:
    for line in stream:
        command = json.loads(line)
        if command.get("quit"):
            return
        yield command


def main(argv: Sequence[str]) -> None:
    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # peers' prints go to the log, never into the protocol
    sys.stdout = sys.stderr

    def send(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message) + "\n")

    exporter = CountingExporter()
    try:
        setup = variants.VARIANTS[argv[0]].setup(exporter)
    except Exception as error:  # noqa: BLE001 - reported as the variant's failure
        traceback.print_exc()
        send({"ok": False, "error": f"{type(error).__name__}: {error}"[:400]})
        return
    packages = variants.VARIANTS[argv[0]].packages
    send({"ok": True, "cases": list(setup.cases), "versions": versions(packages)})
    for command in commands(sys.stdin):
        send({"result": run_block(setup, exporter, command["case"], int(command["calls"]))})


if __name__ == "__main__":
    main(sys.argv[1:])
