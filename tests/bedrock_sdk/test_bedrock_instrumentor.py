"""Instrument / uninstrument, clients made before and after, other services and operations,
a missing botocore method, gateways, ``install()`` and the entry point."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pytest
from bedrock_support import NOVA, USER, client

from otel_helpers import attributes, only_span
from wikitrace_otel.instrumentors import bedrock
from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor
from wikitrace_otel.testing.fake_bedrock import FakeBedrockServer, payloads


def _original() -> Any:
    from botocore.client import BaseClient

    return BaseClient.__dict__["_make_api_call"]


def test_clients_made_before_and_after_instrument(
    instrument_bedrock: Any, fake_bedrock: FakeBedrockServer, span_exporter: Any
) -> None:
    before = client(fake_bedrock.endpoint_url)
    original = _original()
    instrument_bedrock()
    BedrockInstrumentor().instrument()  # the singleton is instrumented already: no second wrapping
    after = client(fake_bedrock.endpoint_url)
    before.converse(modelId=NOVA, messages=USER)
    after.converse(modelId=NOVA, messages=USER)
    assert len(span_exporter.get_finished_spans()) == 2
    BedrockInstrumentor().uninstrument()  # a fresh handle on the singleton
    assert _original() is original
    before.converse(modelId=NOVA, messages=USER)
    assert len(span_exporter.get_finished_spans()) == 2


@pytest.mark.usefixtures("instrumented")
def test_other_services_and_operations_are_not_traced(span_exporter: Any) -> None:
    import boto3
    from botocore.stub import Stubber

    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id="AKIDFAKE", aws_secret_access_key="x")
    with Stubber(sts) as stubber:
        stubber.add_response(
            "get_caller_identity", {"Account": "123456789012", "Arn": "arn:aws:iam::1:user/a", "UserId": "u"}
        )
        assert sts.get_caller_identity()["Account"] == "123456789012"
    runtime = client()
    with Stubber(runtime) as stubber:
        usage_shape = runtime.meta.service_model.operation_model("ApplyGuardrail").output_shape.members["usage"]
        usage = {name: 0 for name in usage_shape.required_members}  # the required counts vary by release
        stubber.add_response("apply_guardrail", {"usage": usage, "action": "NONE", "outputs": [], "assessments": []})
        runtime.apply_guardrail(
            guardrailIdentifier="g", guardrailVersion="1", source="INPUT", content=[{"text": {"text": "x"}}]
        )
    assert span_exporter.get_finished_spans() == ()


def test_a_missing_botocore_method_is_skipped(
    instrument_bedrock: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, span_exporter: Any
) -> None:
    # A botocore release without the method the table names: that wrapper alone is skipped.
    monkeypatch.setattr(bedrock, "_TARGETS", (("botocore.client", "BaseClient", "_no_such_method"), *bedrock._TARGETS))
    caplog.set_level(logging.DEBUG, logger="wikitrace_otel.instrumentors.bedrock")
    instrument_bedrock()
    assert any("not tracing" in r.getMessage() and "_no_such_method" in r.getMessage() for r in caplog.records)
    from botocore.stub import Stubber

    runtime = client()
    with Stubber(runtime) as stubber:
        stubber.add_response("converse", payloads.converse_answer())
        runtime.converse(modelId=NOVA, messages=USER)
    assert only_span(span_exporter).name == f"chat {NOVA}"


def test_gateway_named_by_provider_hosts(
    instrument_bedrock: Any, fake_bedrock: FakeBedrockServer, span_exporter: Any
) -> None:
    port = int(fake_bedrock.endpoint_url.rsplit(":", 1)[1])
    instrument_bedrock(provider_hosts={f"127.0.0.1:{port}": "my_gateway"})
    client(fake_bedrock.endpoint_url).converse(modelId=NOVA, messages=USER)
    assert attributes(only_span(span_exporter))["gen_ai.provider.name"] == "my_gateway"


def test_registered_for_install_and_opentelemetry_instrument() -> None:
    from wikitrace_otel._install import INSTRUMENTORS

    assert INSTRUMENTORS["bedrock"] == ("botocore", "wikitrace_otel.instrumentors.bedrock:BedrockInstrumentor")
    if sys.version_info >= (3, 11):
        import tomllib

        project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]
        entry = project["entry-points"]["opentelemetry_instrumentor"]["bedrock"]
        assert entry == "wikitrace_otel.instrumentors.bedrock:BedrockInstrumentor"
        assert any(req.startswith("boto3>=") for req in project["optional-dependencies"]["bedrock"])
    assert list(BedrockInstrumentor().instrumentation_dependencies()) == ["botocore >= 1.35.0, < 2"]


def test_importing_the_instrumentor_does_not_import_boto3() -> None:
    import subprocess

    code = (
        "import sys, wikitrace_otel.instrumentors.bedrock; print('botocore' in sys.modules or 'boto3' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
