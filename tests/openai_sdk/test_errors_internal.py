"""Our own failures never break the user's call; ``error_type`` names failures as the conventions say."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from otel_helpers import attributes, json_attribute, only_span
from wikitrace_otel._genai import errors
from wikitrace_otel._genai.errors import InternalErrorRaised, error_type

MESSAGES = [{"role": "user", "content": "Hi"}]


class ExplodingGet(dict):
    """A message the SDK serializes fine (it reads the dict's items) but ``.get`` fails on."""

    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("extraction exploded")


def exploding_messages() -> list[dict[str, Any]]:
    return [ExplodingGet(role="user", content="Hi")]


@pytest.fixture
def production(monkeypatch: pytest.MonkeyPatch) -> None:
    """Internal errors are swallowed (the production path), with a fresh once-per-location memory."""
    monkeypatch.delenv("WIKITRACE_RAISE_INTERNAL_ERRORS")
    monkeypatch.setattr(errors, "_seen", set())


def our_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "wikitrace_otel" and r.levelno >= logging.WARNING]


# --- extraction failures ------------------------------------------------------------------


def test_extraction_failure_does_not_break_the_call(production, caplog, instrument, client, fake_openai) -> None:
    instrument(capture_content=True)
    results = [client.chat.completions.create(model="gpt-4o", messages=exploding_messages()) for _ in range(2)]

    assert [r.choices[0].message.content for r in results] == ["Hello from choice 0"] * 2
    assert [r.body["messages"] for r in fake_openai.requests] == [MESSAGES, MESSAGES]  # the SDK sent it whole
    (warning,) = our_warnings(caplog)  # once, not once per call
    assert isinstance(warning.exc_info[1], RuntimeError)
    assert str(warning.exc_info[1]) == "extraction exploded"


async def test_async_extraction_failure_does_not_break_the_call(production, caplog, instrument, async_client) -> None:
    instrument(capture_content=True)
    for _ in range(2):
        result = await async_client.chat.completions.create(model="gpt-4o", messages=exploding_messages())
        assert result.choices[0].message.content == "Hello from choice 0"

    assert len(our_warnings(caplog)) == 1


def test_extraction_failure_still_exports_the_span(production, instrument, client, span_exporter) -> None:
    instrument(capture_content=True)
    client.chat.completions.create(model="gpt-4o", messages=exploding_messages())

    span = only_span(span_exporter)
    assert span.end_time is not None
    found = attributes(span)
    assert found["gen_ai.request.model"] == "gpt-4o"
    assert found["gen_ai.response.id"] == "chatcmpl-fake-1"
    assert found["gen_ai.usage.input_tokens"] == 11


def test_extraction_failure_raises_under_the_test_setting(instrument, client) -> None:
    instrument(capture_content=True)
    with pytest.raises(InternalErrorRaised) as caught:
        client.chat.completions.create(model="gpt-4o", messages=exploding_messages())

    root: BaseException = caught.value
    while root.__cause__ is not None:  # a guard may re-report an already raised internal error
        root = root.__cause__
    assert type(root) is RuntimeError
    assert str(root) == "extraction exploded"


def test_without_content_capture_the_message_is_never_read(instrument, client, span_exporter) -> None:
    instrument()
    client.chat.completions.create(model="gpt-4o", messages=exploding_messages())

    assert attributes(only_span(span_exporter))["gen_ai.response.id"] == "chatcmpl-fake-1"


def test_output_extraction_failure_keeps_the_span(
    production, caplog, monkeypatch, instrument, client, span_exporter
) -> None:
    from wikitrace_otel.instrumentors.openai import messages

    def explode(message: Any, finish_reason: Any) -> Any:
        raise RuntimeError("output extraction exploded")

    monkeypatch.setattr(messages, "_output_message", explode)  # looked up per call, unlike the API table
    instrument(capture_content=True)
    result = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)

    assert result.choices[0].message.content == "Hello from choice 0"
    span = only_span(span_exporter)
    found = attributes(span)
    assert found["gen_ai.response.id"] == "chatcmpl-fake-1"
    assert found["gen_ai.usage.output_tokens"] == 7
    assert json_attribute(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "Hi"}]}
    ]
    assert "gen_ai.output.messages" not in found
    assert len(our_warnings(caplog)) == 1


def test_chunk_extraction_failure_keeps_the_stream(
    production, caplog, monkeypatch, instrument, client, span_exporter
) -> None:
    from wikitrace_otel.instrumentors.openai import stream as openai_stream

    def explode(choice: Any, delta_choice: Any) -> None:
        raise RuntimeError("chunk extraction exploded")

    monkeypatch.setattr(openai_stream, "_gather", explode)
    instrument(capture_content=True)
    stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    assert text == "Hello from choice 0"  # every chunk still reached the caller
    span = only_span(span_exporter)
    assert span.end_time is not None
    assert attributes(span)["gen_ai.response.id"] == "chatcmpl-fake-1"
    assert len(our_warnings(caplog)) == 1  # every chunk failed, one warning


def test_internal_errors_guard_swallows_only_exceptions(production, caplog) -> None:
    with errors.internal_errors():
        raise ValueError("ours")
    with pytest.raises(KeyboardInterrupt), errors.internal_errors():
        raise KeyboardInterrupt
    (warning,) = our_warnings(caplog)
    assert str(warning.exc_info[1]) == "ours"


# --- error_type ---------------------------------------------------------------------------


def make_exception(module: str, qualname: str = "Failure", **fields: Any) -> BaseException:
    cls = type(qualname.rsplit(".", 1)[-1], (Exception,), {"__module__": module, "__qualname__": qualname})
    exc = cls("failed")
    for key, value in fields.items():
        setattr(exc, key, value)
    return exc


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ValueError("x"), "ValueError"),
        (TimeoutError(), "TimeoutError"),
        (KeyboardInterrupt(), "KeyboardInterrupt"),
        (make_exception("openai._exceptions", "APIConnectionError"), "openai.APIConnectionError"),
        (make_exception("httpx._exceptions", "ReadTimeout"), "httpx.ReadTimeout"),
        (make_exception("pkg._private.sub._impl", "Failure"), "pkg.sub.Failure"),
        (make_exception("myapp.errors", "Outer.Inner"), "myapp.errors.Outer.Inner"),
    ],
    ids=["builtin", "builtin-os", "base-exception", "openai", "httpx", "private-segments", "nested-class"],
)
def test_error_type_class_names(exc, expected) -> None:
    assert error_type(exc) == expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"code": "rate_limit_exceeded", "status_code": 429}, "rate_limit_exceeded"),
        ({"code": "invalid_api_key"}, "invalid_api_key"),
        ({"code": None, "status_code": 500}, "500"),
        ({"code": "", "status_code": 503}, "503"),
        ({"code": 1234, "status_code": 400}, "400"),
        ({"status_code": "500"}, "myapp.Failure"),
        ({}, "myapp.Failure"),
    ],
    ids=["code-wins", "code-only", "no-code", "empty-code", "int-code", "str-status", "neither"],
)
def test_error_type_code_then_status_then_class(fields, expected) -> None:
    assert error_type(make_exception("myapp", **fields)) == expected


def test_error_type_keeps_dunder_main() -> None:
    assert error_type(make_exception("__main__", "MyError")) == "__main__.MyError"
