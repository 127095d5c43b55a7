"""Failed calls: the SDK's exception passes through unchanged and the span says what failed."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from opentelemetry.trace import StatusCode

from otel_helpers import attributes, metric_points, only_span, point_attributes
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer, FakeResponse
from wikitrace_otel.testing.fake_openai.payloads import chat_completion_chunks

MESSAGES = [{"role": "user", "content": "Hi"}]
NO_WAIT = {"retry-after-ms": "1"}  # the SDK honours it: retries without the default back-off

HTTP_ERRORS = [
    (400, None, openai.BadRequestError, "400"),
    (401, "invalid_api_key", openai.AuthenticationError, "invalid_api_key"),
    (429, "rate_limit_exceeded", openai.RateLimitError, "rate_limit_exceeded"),
    (500, None, openai.InternalServerError, "500"),
]


def port_of(server: FakeOpenAIServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1].split("/", 1)[0])


def failed_span_attributes(server: FakeOpenAIServer, error_type: str) -> dict[str, Any]:
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "server.address": "127.0.0.1",
        "server.port": port_of(server),
        "openai.api.type": "chat_completions",
        "error.type": error_type,
    }


def exception_event(span: Any) -> dict[str, Any]:
    (event,) = span.events
    assert event.name == "exception"
    return dict(event.attributes)


@pytest.fixture
def made_errors(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Every status error the SDK itself builds, so tests can check the very object reaches the caller."""
    made: list[BaseException] = []
    for cls in (openai.OpenAI, openai.AsyncOpenAI):
        original = cls._make_status_error

        def recording(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> Any:
            error = _original(self, *args, **kwargs)
            made.append(error)
            return error

        monkeypatch.setattr(cls, "_make_status_error", recording)
    return made


# --- HTTP errors --------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "code", "error_class", "error_type"), HTTP_ERRORS)
def test_http_error(
    status, code, error_class, error_type, instrument, client, fake_openai, span_exporter, metric_reader, made_errors
) -> None:
    fake_openai.enqueue(FakeResponse.error(status, "Nope", code=code))
    with pytest.raises(openai.APIStatusError) as uninstrumented:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    instrument()
    fake_openai.enqueue(FakeResponse.error(status, "Nope", code=code))
    with pytest.raises(openai.APIStatusError) as traced:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert type(traced.value) is type(uninstrumented.value) is error_class
    assert traced.value is made_errors[-1]  # the SDK's own object, not a copy or a wrapper
    assert traced.value.status_code == status
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"{error_class.__name__}: {traced.value}"
    assert attributes(span) == failed_span_attributes(fake_openai, error_type)
    event = exception_event(span)
    assert event["exception.type"] == f"openai.{error_class.__name__}"
    assert event["exception.message"] == str(traced.value)
    assert event["exception.stacktrace"].rstrip().endswith(f"openai.{error_class.__name__}: {traced.value}")
    points = metric_points(metric_reader)
    (duration,) = points["gen_ai.client.inference.duration"]
    assert point_attributes(duration) == {
        key: value for key, value in failed_span_attributes(fake_openai, error_type).items() if key != "openai.api.type"
    }
    assert "gen_ai.client.inference.usage.input_tokens" not in points


@pytest.mark.parametrize(("status", "code", "error_class", "error_type"), HTTP_ERRORS)
async def test_async_http_error(
    status,
    code,
    error_class,
    error_type,
    instrumented,
    async_client,
    fake_openai,
    span_exporter,
    metric_reader,
    made_errors,
) -> None:
    fake_openai.enqueue(FakeResponse.error(status, "Nope", code=code))
    with pytest.raises(error_class) as traced:
        await async_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert traced.value is made_errors[-1]
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span) == failed_span_attributes(fake_openai, error_type)
    assert exception_event(span)["exception.message"] == str(traced.value)
    (duration,) = metric_points(metric_reader)["gen_ai.client.inference.duration"]
    assert point_attributes(duration)["error.type"] == error_type


def test_error_code_on_responses_api(instrumented, client, fake_openai, span_exporter) -> None:
    fake_openai.enqueue(FakeResponse.error(400, "Bad model", code="model_not_found"))
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model="gpt-4o", input="Hi")

    found = attributes(only_span(span_exporter))
    assert (found["openai.api.type"], found["error.type"]) == ("responses", "model_not_found")


def test_failed_call_still_emits_its_event(instrument, client, fake_openai, span_exporter, log_exporter) -> None:
    instrument(capture_content="EVENT_ONLY")
    fake_openai.enqueue(FakeResponse.error(429, "Slow down", code="rate_limit_exceeded"))
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    (log,) = log_exporter.get_finished_logs()
    assert log.log_record.span_id == only_span(span_exporter).context.span_id
    found = dict(log.log_record.attributes)
    assert found["error.type"] == "rate_limit_exceeded"
    assert "gen_ai.input.messages" in found and "gen_ai.output.messages" not in found


# --- retries ------------------------------------------------------------------------------


@pytest.fixture
def retrying_client(fake_openai: FakeOpenAIServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=2) as sdk_client:
        yield sdk_client


@pytest.fixture
async def async_retrying_client(fake_openai: FakeOpenAIServer) -> Any:
    sdk_client = openai.AsyncOpenAI(api_key="sk-test", base_url=fake_openai.base_url, max_retries=2)
    yield sdk_client
    await sdk_client.close()


def test_retries_make_one_successful_span(
    instrumented, retrying_client, fake_openai, span_exporter, metric_reader
) -> None:
    for _ in range(2):
        fake_openai.enqueue(FakeResponse.error(500, "Try again", headers=NO_WAIT))
    result = retrying_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert result.choices[0].message.content == "Hello from choice 0"
    assert len(fake_openai.requests) == 3
    assert fake_openai.requests[-1].headers["x-stainless-retry-count"] == "2"
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()
    assert "error.type" not in attributes(span)
    assert attributes(span)["gen_ai.response.id"] == "chatcmpl-fake-1"
    (duration,) = metric_points(metric_reader)["gen_ai.client.inference.duration"]
    assert duration.count == 1 and "error.type" not in point_attributes(duration)


async def test_async_retries_make_one_successful_span(
    instrumented, async_retrying_client, fake_openai, span_exporter
) -> None:
    for _ in range(2):
        fake_openai.enqueue(FakeResponse.error(429, "Slow down", code="rate_limit_exceeded", headers=NO_WAIT))
    await async_retrying_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert len(fake_openai.requests) == 3
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in attributes(span)


def test_retries_exhausted_make_one_failed_span(instrumented, retrying_client, fake_openai, span_exporter) -> None:
    for _ in range(3):
        fake_openai.enqueue(FakeResponse.error(503, "Down", headers=NO_WAIT))
    with pytest.raises(openai.InternalServerError):
        retrying_client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert len(fake_openai.requests) == 3
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["error.type"] == "503"
    assert len(span.events) == 1


# --- connection failures ------------------------------------------------------------------


@pytest.fixture
def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check_connection_failure(span_exporter: Any, metric_reader: Any, error: BaseException) -> None:
    assert type(error) is openai.APIConnectionError
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["error.type"] == "openai.APIConnectionError"
    assert exception_event(span)["exception.type"] == "openai.APIConnectionError"
    (duration,) = metric_points(metric_reader)["gen_ai.client.inference.duration"]
    assert point_attributes(duration)["error.type"] == "openai.APIConnectionError"


def test_connection_refused(instrumented, closed_port, span_exporter, metric_reader) -> None:
    base_url = f"http://127.0.0.1:{closed_port}/v1"
    with (
        openai.OpenAI(api_key="k", base_url=base_url, max_retries=0) as refused,
        pytest.raises(openai.APIConnectionError) as caught,
    ):
        refused.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    check_connection_failure(span_exporter, metric_reader, caught.value)
    assert attributes(only_span(span_exporter))["server.port"] == closed_port


async def test_async_connection_refused(instrumented, closed_port, span_exporter, metric_reader) -> None:
    refused = openai.AsyncOpenAI(api_key="k", base_url=f"http://127.0.0.1:{closed_port}/v1", max_retries=0)
    try:
        with pytest.raises(openai.APIConnectionError) as caught:
            await refused.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    finally:
        await refused.close()

    check_connection_failure(span_exporter, metric_reader, caught.value)


# --- failures inside streams --------------------------------------------------------------


def test_error_event_inside_stream(instrumented, client, fake_openai, span_exporter) -> None:
    chunks = chat_completion_chunks({"model": "gpt-4o"})
    error = {"error": {"message": "Overloaded", "type": "server_error", "code": "server_overloaded"}}
    fake_openai.enqueue(FakeResponse.sse([*chunks[:2], error]))
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            received.append(chunk)

    assert len(received) == 2
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["error.type"] == "server_overloaded"
    assert attributes(span)["gen_ai.response.finish_reasons"] == ["error"]
    assert exception_event(span)["exception.message"] == str(caught.value)


def test_stream_cut_short(instrumented, client, fake_openai, span_exporter) -> None:
    fake_openai.enqueue(FakeResponse.sse(chat_completion_chunks({"model": "gpt-4o"}), cut_after=2))
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    with pytest.raises(Exception) as caught:
        for _ in stream:
            pass

    # openai>=2 wraps the broken body in APIConnectionError; 1.x lets httpx's own error escape.
    expected = {"APIConnectionError": "openai.APIConnectionError", "RemoteProtocolError": "httpx.RemoteProtocolError"}
    expected_type = expected[type(caught.value).__name__]
    assert exception_event(only_span(span_exporter))["exception.type"] == expected_type
    span = only_span(span_exporter)
    assert span.status.status_code is StatusCode.ERROR
    assert attributes(span)["error.type"] == expected_type


class UserCodeError(Exception):
    pass


def test_user_exception_in_with_stream_is_not_swallowed(instrumented, client, span_exporter) -> None:
    mine = UserCodeError("my own bug")
    with (
        pytest.raises(UserCodeError) as caught,
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True) as stream,
    ):
        for _ in stream:
            raise mine

    assert caught.value is mine
    assert attributes(only_span(span_exporter))["gen_ai.response.finish_reasons"] == ["error"]


async def test_async_user_exception_in_with_stream_is_not_swallowed(instrumented, async_client, span_exporter) -> None:
    mine = UserCodeError("my own bug")
    with pytest.raises(UserCodeError) as caught:
        async with await async_client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True) as stream:
            async for _ in stream:
                raise mine

    assert caught.value is mine
    assert len(span_exporter.get_finished_spans()) == 1


def test_user_exception_in_stream_helper_is_not_swallowed(instrumented, client, span_exporter) -> None:
    mine = UserCodeError("my own bug")
    with pytest.raises(UserCodeError) as caught, client.chat.completions.stream(model="gpt-4o", messages=MESSAGES):
        raise mine

    assert caught.value is mine
    assert len(span_exporter.get_finished_spans()) == 1
