"""Spans/s through ``wikitrace_otel.install()`` into the local store, at 1, 4 and 16 producing threads.

Each run is a fresh process that calls ``install(store=DIR)`` (the default file exporter behind
``BatchSpanProcessor``, with the session, cost, budget and alert processors) and starts the
threads together. The clock runs until every thread is done *and* ``force_flush()`` returned, so
the rate is spans written, not spans handed to a queue. The parent then reads the store back and
counts distinct span ids: a span the batch processor dropped (its queue holds 2,048) shows up as
``dropped``, never as throughput.

Two sources of spans:

- ``sdk``: the real openai SDK, instrumented by ``install()``, calling ``chat.completions.create``
  over ``httpx2.MockTransport`` (no socket). One span per call, inside a ``session(user=...)``.
  Realistic, and bound by the SDK's own cost per call.
- ``handmade``: spans of the instrumentor's shape made directly with the tracer (an
  ``invoke_agent`` span and three ``chat`` CLIENT spans with 16 GenAI attributes each), inside a
  ``session(user=...)``. This is the pipeline alone, without the SDK in front of it.
- ``plain``: the same hand-made spans through a bare SDK pipeline (``TracerProvider`` ->
  ``BatchSpanProcessor`` -> ``FileSpanExporter``) without ``install()``'s processors: the yardstick
  that shows what ``install()`` adds per span.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peers.workload import CHAT_BODY  # the same canned chat completion as the peers comparison

SCRIPT = Path(__file__).resolve().parent.parent / "pipeline.py"
AGENT = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"}
CHAT = "chat gpt-4o-mini"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]


def chat_attributes(number: int) -> dict[str, Any]:
    """The 16 attributes the OpenAI instrumentor puts on a non-streaming chat span."""
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o-mini",
        "server.address": "api.openai.com",
        "gen_ai.request.temperature": 0.2,
        "gen_ai.request.max_tokens": 512,
        "gen_ai.response.id": f"chatcmpl-{number:024x}",
        "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.usage.input_tokens": 120 + number % 400,
        "gen_ai.usage.output_tokens": 5 + number % 300,
        "gen_ai.usage.cache_read.input_tokens": 0,
        "openai.api.type": "chat_completions",
        "openai.response.system_fingerprint": "fp_b376dfbbd5",
        "gen_ai.output.type": "text",
        "server.port": 443,
    }


def _handmade_worker(index: int, spans: int) -> Callable[[], None]:
    from opentelemetry import trace
    from opentelemetry.trace import SpanKind

    import wikitrace_otel

    tracer = trace.get_tracer("wikitrace_otel.instrumentors.openai", "0.1.0")

    def work() -> None:
        with wikitrace_otel.session(user=f"user-{index}@example.com"):
            for unit in range(spans // 4):
                with tracer.start_as_current_span(
                    "invoke_agent planner", attributes={"gen_ai.operation.name": "invoke_agent"}
                ):
                    for call in range(3):
                        attributes = chat_attributes(unit * 3 + call)
                        with tracer.start_as_current_span(
                            "chat gpt-4o-mini", kind=SpanKind.CLIENT, attributes=attributes
                        ):
                            pass

    return work


def _sdk_worker(index: int, spans: int) -> Callable[[], None]:
    import openai

    import wikitrace_otel

    if int(openai.__version__.split(".", 1)[0]) >= 3:
        import httpx2 as http
    else:  # openai 1.x and 2.x are built on httpx
        import httpx as http  # type: ignore[no-redef]

    def answer(request: Any) -> Any:
        return http.Response(200, headers={"content-type": "application/json"}, content=CHAT_BODY)

    client = openai.OpenAI(
        api_key="sk-bench",
        base_url="https://api.openai.com/v1",
        http_client=http.Client(transport=http.MockTransport(answer)),
        max_retries=0,
    )

    def work() -> None:
        with wikitrace_otel.session(user=f"user-{index}@example.com"):
            for _ in range(spans):
                client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, temperature=0.2)

    return work


class _Plain:
    """The yardstick: a bare SDK ``TracerProvider`` -> ``BatchSpanProcessor`` -> the file exporter."""

    def __init__(self, directory: str) -> None:
        from opentelemetry import trace
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor

        from wikitrace_otel.exporters import FileSpanExporter
        from wikitrace_otel.exporters.counting import CountingSpanExporter

        self.exporter = CountingSpanExporter(FileSpanExporter(directory))
        self.provider = TracerProvider(resource=Resource.create({"service.name": "pipeline-bench"}))
        self.provider.add_span_processor(BatchSpanProcessor(self.exporter))
        trace.set_tracer_provider(self.provider)
        self.exported_spans, self.failed_spans, self.dropped_spans = 0, 0, 0

    def force_flush(self, timeout_millis: int) -> bool:
        flushed = self.provider.force_flush(timeout_millis)
        self.exported_spans, self.failed_spans = self.exporter.exported_spans, self.exporter.failed_spans
        return flushed

    def shutdown(self) -> None:
        self.provider.shutdown()


def _setup(source: str, directory: str) -> Any:
    """``install()`` for the ``sdk`` and ``handmade`` sources, the bare SDK pipeline for ``plain``."""
    if source == "plain":
        return _Plain(directory)
    import wikitrace_otel

    return wikitrace_otel.install("pipeline-bench", store=directory, instrument=["openai"] if source == "sdk" else [])


def child(source: str, threads: int, spans: int, directory: str) -> dict[str, Any]:
    """In a fresh process: set up, run ``threads`` producers of ``spans // threads`` spans each, flush."""
    handle = _setup(source, directory)
    make = _sdk_worker if source == "sdk" else _handmade_worker
    per_thread = spans // threads
    if source != "sdk":  # whole units of an agent span and three chat spans
        per_thread -= per_thread % 4
    works = [make(index, per_thread) for index in range(threads)]
    warmup = 0
    if source == "sdk":  # the first call loads the SDK's lazy modules: keep that outside the clock
        _sdk_worker(threads, 1)()
        warmup = 1
    barrier = threading.Barrier(threads + 1)

    def run(work: Callable[[], None]) -> None:
        barrier.wait()
        work()

    pool = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in pool:
        thread.start()
    cpu_before = time.process_time()
    barrier.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join()
    produced_s = time.perf_counter() - started
    flushed = handle.force_flush(120_000)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result = {
        "produced": per_thread * threads + warmup,
        "warmup": warmup,
        "produce_s": produced_s,
        "seconds": seconds,
        "flushed": flushed,
        "exported": handle.exported_spans,
        "failed": handle.failed_spans,
        "dropped_counted": handle.dropped_spans,
        "cpu_s": time.process_time() - cpu_before,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }
    handle.shutdown()
    return result


def read_back(directory: Path) -> tuple[int, int]:
    """(span records, distinct span ids) in the store's ``*.jsonl`` files."""
    records, ids = 0, set()
    for path in sorted(directory.glob("*.jsonl")):
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                for resource_spans in json.loads(line).get("resourceSpans", ()):
                    for scope_spans in resource_spans.get("scopeSpans", ()):
                        for span in scope_spans.get("spans", ()):
                            records += 1
                            ids.add(span["spanId"])
    return records, len(ids)


def _environment(extra: dict[str, str] | None) -> dict[str, str]:
    """This environment without OTEL_* / WIKITRACE_* settings (so ``install()`` uses the store), plus ``extra``."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "WIKITRACE_"))}
    if "WIKITRACE_RAISE_INTERNAL_ERRORS" in os.environ:  # the test suite's setting
        kept["WIKITRACE_RAISE_INTERNAL_ERRORS"] = os.environ["WIKITRACE_RAISE_INTERNAL_ERRORS"]
    return {**kept, **(extra or {})}


def run(source: str, threads: int, spans: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    """One measured run in a fresh process; the store is read back here and then removed.

    ``env`` adds environment variables for that process (``OTEL_BSP_*``, for instance).
    """
    with tempfile.TemporaryDirectory(prefix="wikitrace-pipeline-") as directory:
        command = [sys.executable, str(SCRIPT), "--step", "store", source, str(threads), str(spans), directory]
        done = subprocess.run(command, capture_output=True, text=True, env=_environment(env), timeout=1800)
        if done.returncode:
            return {"source": source, "threads": threads, "error": done.stderr[-2000:]}
        result = json.loads(done.stdout.strip().splitlines()[-1])
        records, distinct = read_back(Path(directory))
    result.update(source=source, threads=threads, stored=distinct, duplicates=records - distinct)
    result["dropped"] = result["produced"] - distinct
    result["spans_per_s"] = (distinct - result["warmup"]) / result["seconds"]
    result["cpu_us_per_span"] = result["cpu_s"] / max(1, distinct) * 1e6
    result["queue_full_logged"] = "Queue full" in done.stderr
    return result
