"""Helpers of the Bedrock tests: clients (boto3 and aiobotocore), Stubber answers."""

from __future__ import annotations

import functools
import io
import json
from typing import Any

CLAUDE = "anthropic.claude-3-5-sonnet-20240620-v1:0"
NOVA = "amazon.nova-pro-v1:0"
USER = [{"role": "user", "content": [{"text": "Hello"}]}]
SCOPE = "wikitrace_otel.instrumentors.bedrock"


def client(endpoint_url: str | None = None, retries: int = 0) -> Any:
    """A real ``bedrock-runtime`` client with static fake credentials and ``retries`` retries (none by default)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="AKIDFAKE",
        aws_secret_access_key="fake-secret",
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"}
            if not retries
            else {"total_max_attempts": 1 + retries, "mode": "standard"}
        ),
    )


@functools.cache
def _aio_session() -> Any:
    # One session for the whole run: each new one loads the service models again (~0.4 s).
    from aiobotocore.session import get_session

    return get_session()


def aio_client(endpoint_url: str, retries: int = 0, config: Any = None) -> Any:
    """A real aiobotocore ``bedrock-runtime`` client, as :func:`client` (or with ``config``): use
    with ``async with``."""
    from aiobotocore.config import AioConfig

    return _aio_session().create_client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="AKIDFAKE",
        aws_secret_access_key="fake-secret",
        config=config or AioConfig(retries={"total_max_attempts": 1 + retries, "mode": "standard"}),
    )


def has_member(shape_name: str, member: str) -> bool:
    """Whether the installed botocore's Bedrock Runtime model has ``shape_name.member``."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    return member in model.shape_for(shape_name).members


def invoke_answer(body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    """An ``invoke_model`` answer for the Stubber: a ``StreamingBody`` over ``body``'s JSON."""
    from botocore.response import StreamingBody

    data = json.dumps(body).encode()
    return {
        "body": StreamingBody(io.BytesIO(data), len(data)),
        "contentType": "application/json",
        "ResponseMetadata": {"HTTPStatusCode": 200, "HTTPHeaders": dict(headers or {})},
    }


CONVERSE_STREAM_EVENTS = ["messageStart", "contentBlockDelta", "contentBlockDelta", "contentBlockStop", "messageStop"]


def check_converse_stream_read(events: list[Any], span_exporter: Any, metric_reader: Any) -> None:
    """A Converse stream of the fake server read to the end, sync or async: its events, and one
    span with the stream's request, usage, finish reason and time to its first chunk."""
    from otel_helpers import attributes, metric_points, only_span

    assert [next(iter(event)) for event in events] == [*CONVERSE_STREAM_EVENTS, "metadata"]
    span = only_span(span_exporter)
    found = attributes(span)
    assert span.name == f"chat {NOVA}"
    assert found["gen_ai.request.stream"] is True and found["gen_ai.request.max_tokens"] == 50
    assert (found["gen_ai.usage.input_tokens"], found["gen_ai.usage.output_tokens"]) == (12, 7)
    assert found["gen_ai.response.finish_reasons"] == ["end_turn"]
    assert found["server.address"] == "127.0.0.1" and isinstance(found["server.port"], int)
    assert found["gen_ai.response.time_to_first_chunk"] >= 0
    assert len(metric_points(metric_reader)["gen_ai.client.inference.time_to_first_chunk"]) == 1
