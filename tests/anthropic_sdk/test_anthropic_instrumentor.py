"""Instrument / uninstrument, missing methods, provider names (Bedrock, Vertex, gateways)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from anthropic_support import MODEL, USER

from otel_helpers import attributes, only_span
from wikitrace_otel.instrumentors.anthropic import _METHODS, AnthropicInstrumentor
from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer

KWARGS: dict[str, Any] = {"model": MODEL, "max_tokens": 16, "messages": USER}


def _originals() -> dict[tuple[type, str], Any]:
    import importlib

    found = {}
    for module, sync_name, async_name, method, _, _ in _METHODS:
        for name in (sync_name, async_name):
            cls = getattr(importlib.import_module(module), name)
            if method in cls.__dict__:
                found[(cls, method)] = cls.__dict__[method]
    base = importlib.import_module("anthropic._base_client").BaseClient
    found[(base, "_tracer")] = base.__dict__.get("_tracer")
    return found


def test_uninstrument_restores_the_sdk_exactly(
    instrument_anthropic: Any, anthropic_client: Any, span_exporter: Any
) -> None:
    before = _originals()
    instrumentor = instrument_anthropic()
    AnthropicInstrumentor().instrument()  # the singleton is instrumented already: no second wrapping
    changed = {key for key, value in _originals().items() if value is not before[key]}
    assert {method for _, method in changed} >= {"create", "stream", "count_tokens"}
    anthropic_client.messages.create(**KWARGS)
    assert len(span_exporter.get_finished_spans()) == 1
    AnthropicInstrumentor().uninstrument()  # a fresh handle on the singleton
    assert _originals() == before
    anthropic_client.messages.create(**KWARGS)
    assert len(span_exporter.get_finished_spans()) == 1
    assert instrumentor is AnthropicInstrumentor()


def test_a_missing_method_skips_only_that_wrapper(
    instrument_anthropic: Any,
    anthropic_client: Any,
    span_exporter: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from anthropic.resources.messages import messages

    monkeypatch.delattr(messages.Messages, "count_tokens")
    caplog.set_level(logging.DEBUG, logger="wikitrace_otel.instrumentors.anthropic")
    instrument_anthropic()
    assert any("not tracing" in r.getMessage() and "count_tokens" in r.getMessage() for r in caplog.records)
    anthropic_client.messages.create(**KWARGS)
    assert only_span(span_exporter).name == f"chat {MODEL}"
    assert not hasattr(messages.Messages, "count_tokens")


def test_bad_sdk_spans_value(instrument_anthropic: Any) -> None:
    with pytest.raises(ValueError, match="sdk_spans"):
        instrument_anthropic(sdk_spans="yes")
    AnthropicInstrumentor().uninstrument()


def test_gateway_named_by_provider_hosts(
    instrument_anthropic: Any, fake_anthropic: FakeAnthropicServer, anthropic_client: Any, span_exporter: Any
) -> None:
    instrument_anthropic(provider_hosts={f"127.0.0.1:{fake_anthropic.port}": "my_gateway"})
    anthropic_client.messages.create(**KWARGS)
    assert attributes(only_span(span_exporter))["gen_ai.provider.name"] == "my_gateway"


@pytest.mark.usefixtures("instrumented")
def test_vertex_client_is_gcp_vertex_ai(fake_anthropic: FakeAnthropicServer, span_exporter: Any) -> None:
    import anthropic

    with anthropic.AnthropicVertex(
        access_token="token", region="us-east5", project_id="proj", base_url=f"{fake_anthropic.base_url}/v1"
    ) as client:
        message = client.messages.create(**{**KWARGS, "model": "claude-x@2025"})
    assert message.model == "claude-x@2025"
    assert fake_anthropic.requests[-1].path.endswith("/models/claude-x@2025:rawPredict")
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert found["gen_ai.response.model"] == "claude-x@2025"


@pytest.mark.usefixtures("instrumented")
async def test_async_vertex_stream_helper(fake_anthropic: FakeAnthropicServer, span_exporter: Any) -> None:
    import anthropic

    client = anthropic.AsyncAnthropicVertex(
        access_token="token", region="us-east5", project_id="proj", base_url=f"{fake_anthropic.base_url}/v1"
    )
    async with client.messages.stream(**KWARGS) as helper:
        await helper.until_done()
    await client.close()
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.provider.name"] == "gcp.vertex_ai"
    assert found["gen_ai.response.finish_reasons"] == ["end_turn"]


@pytest.mark.usefixtures("instrumented")
def test_bedrock_client_is_aws_bedrock(fake_anthropic: FakeAnthropicServer, span_exporter: Any) -> None:
    import anthropic

    try:  # newer SDKs take a Bedrock API key; older ones sign with botocore, not installed here
        with anthropic.AnthropicBedrock(
            api_key="key", aws_region="us-east-1", base_url=fake_anthropic.base_url
        ) as client:
            client.messages.create(**{**KWARGS, "model": "anthropic.claude-x-v1:0"})
    except (TypeError, ImportError) as exc:
        pytest.skip(f"this SDK's Bedrock client needs AWS signing: {exc!r}")
    assert fake_anthropic.requests[-1].path == "/model/anthropic.claude-x-v1:0/invoke"
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.provider.name"] == "aws.bedrock"
    assert found["gen_ai.request.model"] == "anthropic.claude-x-v1:0"


def test_provider_names_of_client_classes() -> None:
    import anthropic

    from wikitrace_otel.instrumentors.anthropic.provider import class_provider

    assert class_provider(anthropic.Anthropic) is None
    assert class_provider(anthropic.AsyncAnthropicBedrock) == "aws.bedrock"
    assert class_provider(anthropic.AnthropicVertex) == "gcp.vertex_ai"

    class MyVertex(anthropic.AsyncAnthropicVertex):
        pass

    assert class_provider(MyVertex) == "gcp.vertex_ai"
