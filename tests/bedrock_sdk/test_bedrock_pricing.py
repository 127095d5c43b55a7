"""Cost of Bedrock spans: the id as recorded (base, cross-region, ARN) resolves to Bedrock's
price, or to the vendor's own price where genai-prices lists the model only there."""

from __future__ import annotations

from typing import Any

import pytest
from bedrock_support import USER, invoke_answer

from wikitrace_otel.pricing import PriceTable
from wikitrace_otel.processors.cost import cost_attributes
from wikitrace_otel.testing.fake_bedrock import payloads

pytest.importorskip("genai_prices")


@pytest.mark.parametrize(
    ("model_id", "matched"),
    [
        ("anthropic.claude-3-5-sonnet-20240620-v1:0", "aws/regional.anthropic.claude-3-5-sonnet-20240620-v1:0"),
        ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", "aws/regional.anthropic.claude-3-5-sonnet-20240620-v1:0"),
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0",
            "aws/regional.anthropic.claude-3-5-haiku-20241022-v1:0",
        ),
        ("us.amazon.nova-lite-v1:0", "aws/amazon.nova-lite-v1:0"),
        ("meta.llama3-1-70b-instruct-v1:0", "aws/meta.llama3-1-70b-instruct-v1:0"),
        ("mistral.mistral-7b-instruct-v0:2", "aws/mistral.mistral-7b-instruct-v0:2"),
        # Listed under the vendor only: the vendor's price.
        ("mistral.mistral-large-2407-v1:0", "mistral/mistral-large"),
        ("cohere.command-r-plus-v1:0", "cohere/command-r-plus"),
        ("eu.cohere.command-r-v1:0", "cohere/command-r"),
    ],
)
def test_common_ids_get_a_price(model_id: str, matched: str) -> None:
    price = PriceTable().lookup("aws.bedrock", model_id)
    assert price is not None and price.matched == matched


def test_an_unknown_vendor_or_provisioned_model_has_no_price() -> None:
    table = PriceTable()
    assert table.lookup("aws.bedrock", "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123") is None
    assert table.lookup("aws.bedrock", "acme.unknown-model-v1:0") is None


@pytest.mark.usefixtures("instrumented")
def test_a_traced_call_is_priced(stubbed: tuple[Any, Any], span_exporter: Any) -> None:
    client, stubber = stubbed
    model_id = "us.anthropic.claude-3-5-sonnet-20240620-v1:0"
    stubber.add_response("converse", payloads.converse_answer(usage_body=payloads.usage(1000, 100)))
    stubber.add_response(
        "invoke_model", invoke_answer(payloads.anthropic_message(input_tokens=1000, output_tokens=100))
    )
    client.converse(modelId=model_id, messages=USER)
    client.invoke_model(modelId=model_id, body=b'{"anthropic_version": "bedrock-2023-05-31", "max_tokens": 5}')
    for span in span_exporter.get_finished_spans():
        cost = cost_attributes(dict(span.attributes or {}), PriceTable())
        # $3 / $15 per million tokens
        assert cost["gen_ai.usage.cost.amount"] == pytest.approx(1000 * 3e-6 + 100 * 15e-6)
