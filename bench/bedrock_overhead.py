"""Overhead of the Bedrock instrumentor: per traced call, per streamed event, and what every
other AWS call pays for passing through the wrapper.

Calls run through boto3's own request building and response handling, answered in process by
botocore's ``Stubber`` (no HTTP), so only the instrumentation differs between variants. Bare
calls go through the unwrapped ``BaseClient._make_api_call``; bare and traced blocks alternate,
and a figure is the median of the paired differences. Spans go through ``SimpleSpanProcessor``
into an exporter that drops them; metrics into a ``MeterProvider`` with an in-memory reader.
The per-event figure times the stream proxy and the Converse accumulator alone over prebuilt
events.

Usage: ``python bench/bedrock_overhead.py [--rounds 40] [--calls 20]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.stub import Stubber
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from wikitrace_otel._genai.config import GenAISettings
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import TracedStream
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor
from wikitrace_otel.instrumentors.bedrock.converse import ConverseStreamAccumulator
from wikitrace_otel.testing.fake_bedrock import payloads

MODEL = "amazon.nova-pro-v1:0"
MESSAGES = [{"role": "user", "content": [{"text": "Hello"}]}]
IDENTITY = {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/bench", "UserId": "u"}


class _Drop(SpanExporter):
    def export(self, spans: Any) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def _client(service: str) -> Any:
    return boto3.client(service, region_name="us-east-1", aws_access_key_id="AKIDFAKE", aws_secret_access_key="x")


def _block(call: Callable[[], Any], stubber: Stubber, method: str, answer: Any, calls: int) -> float:
    for _ in range(calls):
        stubber.add_response(method, answer)
    start = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - start) / calls * 1e6


def _paired(
    bare: Callable[[], Any], traced: Callable[[], Any], stubber: Stubber, method: str, answer: Any, args: Any
) -> tuple[float, float]:
    base, added = [], []
    for _ in range(args.rounds):
        b = _block(bare, stubber, method, answer, args.calls)
        t = _block(traced, stubber, method, answer, args.calls)
        base.append(b)
        added.append(t - b)
    return statistics.median(base), statistics.median(added)


def _per_event(telemetry: GenAITelemetry, events: int = 20_000) -> float:
    frames = [{"contentBlockDelta": {"delta": {"text": "word "}, "contentBlockIndex": 0}}] * events
    invocation = Invocation(telemetry, {"gen_ai.operation.name": "chat", "gen_ai.provider.name": "aws.bedrock"}, None)
    start = time.perf_counter()
    for _ in TracedStream(iter(frames), ConverseStreamAccumulator(invocation)):
        pass
    bare_start = time.perf_counter()
    for _ in iter(frames):
        pass
    end = time.perf_counter()
    return ((bare_start - start) - (end - bare_start)) / events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(_Drop()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    original = BaseClient.__dict__["_make_api_call"]
    BedrockInstrumentor().instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    runtime, sts = _client("bedrock-runtime"), _client("sts")
    answer = payloads.converse_answer()
    params = {"modelId": MODEL, "messages": MESSAGES}
    with Stubber(runtime) as runtime_stub, Stubber(sts) as sts_stub:
        converse = _paired(
            lambda: original(runtime, "Converse", params),
            lambda: runtime.converse(**params),
            runtime_stub,
            "converse",
            answer,
            args,
        )
        other = _paired(
            lambda: original(sts, "GetCallerIdentity", {}),
            sts.get_caller_identity,
            sts_stub,
            "get_caller_identity",
            IDENTITY,
            args,
        )
    BedrockInstrumentor().uninstrument()
    telemetry = GenAITelemetry("bench", GenAISettings(), tracer_provider, meter_provider)
    print(f"converse (non-streaming): bare {converse[0]:.0f} µs, added {converse[1]:.0f} µs")
    print(f"other AWS call (sts):     bare {other[0]:.0f} µs, added {other[1]:.1f} µs")
    print(f"per streamed event (proxy + accumulator): {_per_event(telemetry):.2f} µs")


if __name__ == "__main__":
    main()
