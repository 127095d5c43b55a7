"""Helpers for the span store tests: real SDK pipelines and protobuf comparisons."""

from __future__ import annotations

import base64
import json
import math
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common._internal.trace_encoder import encode_spans
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId"})
# Attribute values of every type the SDK accepts on spans, with the edge cases of each.
SCALARS: dict[str, Any] = {
    "str": "chat",
    "str.empty": "",
    "str.unicode": "héllo ✓ 日本語 🎉",
    "str.escapes": 'quote " backslash \\ newline \n tab \t nul \x00 del \x7f sep \u2028',
    "str.json": json.dumps([{"role": "user", "parts": [{"type": "text", "content": 'say "hi"\n'}]}]),
    "bool.true": True,
    "bool.false": False,
    "int.zero": 0,
    "int.negative": -42,
    "int.max": 2**63 - 1,
    "int.min": -(2**63),
    "float": 0.25,
    "float.negative_zero": -0.0,
    "float.big": 1e300,
    "float.tiny": 5e-324,
    "float.inf": math.inf,
    "float.-inf": -math.inf,
    "float.nan": math.nan,
}
ARRAYS: dict[str, Any] = {
    "array.str": ["stop", "length", ""],
    "array.int": [1, -2, 2**63 - 1],
    "array.float": [0.5, math.inf],
    "array.bool": [True, False],
    "array.empty": [],
}


def provider(
    exporter: SpanExporter, resource: Resource | None = None, limits: SpanLimits | None = None
) -> TracerProvider:
    """A real TracerProvider exporting each span as it ends."""
    tracer_provider = TracerProvider(
        resource=resource or Resource.create({"service.name": "store-test"}), span_limits=limits
    )
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider


def finished_spans(build: Any, **kwargs: Any) -> list[ReadableSpan]:
    """Run ``build(tracer_provider)`` and return the spans it ended."""
    memory = InMemorySpanExporter()
    build(provider(memory, **kwargs))
    return list(memory.get_finished_spans())


def ids_to_base64(node: Any) -> Any:
    """OTLP/JSON writes ids as hex, the protobuf JSON mapping as base64: turn the first into the second."""
    if isinstance(node, dict):
        return {
            key: base64.b64encode(bytes.fromhex(value)).decode() if key in ID_KEYS else ids_to_base64(value)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [ids_to_base64(item) for item in node]
    return node


def parse_line(line: bytes | str) -> TracesData:
    """One stored line through protobuf's own JSON parser (after the id exception)."""
    return json_format.Parse(json.dumps(ids_to_base64(json.loads(line))), TracesData())


def protobuf_encoding(spans: Sequence[ReadableSpan]) -> TracesData:
    """What the OTLP protobuf exporter would send for ``spans``."""
    return TracesData(resource_spans=encode_spans(spans).resource_spans)


def protobuf_dict(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """``protobuf_encoding`` in the protobuf JSON mapping, enums as integers."""
    return json_format.MessageToDict(protobuf_encoding(spans), use_integers_for_enums=True)


def run_python(code: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter (this one's) and fail with its stderr if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done
