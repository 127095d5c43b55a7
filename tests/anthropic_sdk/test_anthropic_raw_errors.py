"""``with_raw_response`` / ``with_streaming_response``, HTTP errors, and telemetry failures."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from anthropic_support import MODEL, USER, AnthropicSdk, rich_attributes, rich_message
from opentelemetry.trace import StatusCode

from otel_helpers import attributes, only_span
from sdk_support import EndCounter
from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, FakeResponse, error, payloads, stream

pytestmark = pytest.mark.usefixtures("instrumented")
KWARGS: dict[str, Any] = {"model": MODEL, "max_tokens": 64, "messages": USER}


def _has(span: Any, expected: dict[str, Any]) -> None:
    found = attributes(span)
    assert {k: found.get(k) for k in expected} == expected


async def test_with_raw_response(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_anthropic.enqueue(FakeResponse.json(rich_message()))
    raw = await sdk.call("messages.with_raw_response.create", **KWARGS)
    assert raw.headers["request-id"] == "req_fake_1"
    message = await _parse(sdk, raw)
    assert message.id == "msg_rich"
    ends.check(span_exporter)
    _has(only_span(span_exporter), rich_attributes())


async def _parse(sdk: AnthropicSdk, raw: Any) -> Any:
    parsed = raw.parse()  # a coroutine on newer async clients, a value on older ones
    return await parsed if inspect.isawaitable(parsed) else parsed


async def test_with_raw_response_stream(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(rich_message())))
    raw = await sdk.call("messages.with_raw_response.create", stream=True, **KWARGS)
    await sdk.drain(await _parse(sdk, raw))
    ends.check(span_exporter)
    _has(only_span(span_exporter), rich_attributes())


async def test_with_streaming_response(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    fake_anthropic.enqueue(FakeResponse.json(rich_message()))
    manager = sdk.client.messages.with_streaming_response.create(**KWARGS)
    if sdk.is_async:
        async with manager as response:
            message = await response.parse()
    else:
        with manager as response:
            message = response.parse()
    assert message.id == "msg_rich"
    ends.check(span_exporter)
    _has(only_span(span_exporter), rich_attributes())


async def test_with_streaming_response_unparsed_still_ends(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, ends: EndCounter
) -> None:
    manager = sdk.client.messages.with_streaming_response.create(**KWARGS)
    if sdk.is_async:
        async with manager as response:
            assert response.status_code == 200
    else:
        with manager as response:
            assert response.status_code == 200
    ends.check(span_exporter)


@pytest.mark.parametrize(
    ("status", "kind", "exception"),
    [
        (400, "invalid_request_error", "BadRequestError"),
        (429, "rate_limit_error", "RateLimitError"),
        (529, "overloaded_error", "APIStatusError"),
    ],
)
async def test_http_errors_keep_the_sdk_exception(
    status: int, kind: str, exception: str, sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any
) -> None:
    import anthropic

    fake_anthropic.enqueue(error(status, kind, "Nope"))
    with pytest.raises(getattr(anthropic, exception)) as raised:
        await sdk.call("messages.create", **KWARGS)
    assert raised.value.status_code == status
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["error.type"] == kind
    assert span.events[0].attributes is not None
    assert span.events[0].attributes["exception.type"].endswith(type(raised.value).__name__)


async def test_connection_error(sdk: AnthropicSdk, span_exporter: Any) -> None:
    import anthropic

    client = sdk.client.with_options(base_url="http://127.0.0.1:1", max_retries=0)
    with pytest.raises(anthropic.APIConnectionError):
        await AnthropicSdk(client, sdk.is_async).call("messages.create", **KWARGS)
    span = only_span(span_exporter)
    assert attributes(span)["error.type"] == "anthropic.APIConnectionError"
    assert attributes(span)["server.port"] == 1


async def test_retries_are_one_span(sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any) -> None:
    fake_anthropic.enqueue(error(529, "overloaded_error", headers={"retry-after-ms": "1"}))
    client = AnthropicSdk(sdk.client.with_options(max_retries=1), sdk.is_async)
    await client.call("messages.create", **KWARGS)
    assert len(fake_anthropic.requests) == 2
    assert only_span(span_exporter).status.status_code is StatusCode.UNSET


async def test_budget_refusal_sends_nothing(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any
) -> None:
    from wikitrace_otel._genai import gate

    class Refused(gate.RequestRefused):
        pass

    class Refuse:
        def __init__(self) -> None:
            self.seen: list[Any] = []

        def before_request(self, attributes: Any, prompt: Any) -> None:
            self.seen.append((dict(attributes), prompt()))
            raise Refused("over budget")

        def after_response(self, ticket: Any, attributes: Any, span_context: Any) -> None:
            return None

    refuse = Refuse()
    gate.install_gate(refuse)
    try:
        with pytest.raises(Refused):
            await sdk.call("messages.create", system="S", **KWARGS)
    finally:
        gate.install_gate(None)
    assert fake_anthropic.requests == []
    assert span_exporter.get_finished_spans() == ()
    attrs, prompt = refuse.seen[0]
    assert attrs["gen_ai.provider.name"] == "anthropic"
    assert attrs["gen_ai.request.max_tokens"] == 64
    assert prompt["gen_ai.system_instructions"] == [{"type": "text", "content": "S"}]


async def test_unreadable_response_loses_attributes_not_the_call(
    sdk: AnthropicSdk, fake_anthropic: FakeAnthropicServer, span_exporter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from wikitrace_otel.instrumentors.anthropic import extractors

    def broken(usage: Any, response: Any) -> None:
        raise RuntimeError("extractor bug")

    monkeypatch.delenv("WIKITRACE_RAISE_INTERNAL_ERRORS")
    monkeypatch.setattr(extractors, "usage_attributes", broken)
    message = await sdk.call("messages.create", **KWARGS)
    assert message.content[0].text == payloads.DEFAULT_TEXT
    assert len(span_exporter.get_finished_spans()) == 1
