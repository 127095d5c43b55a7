"""``GenAISettings.resolve``: explicit argument > environment variable > default, for every
setting; bad explicit values raise, bad environment values warn once and fall back."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from wikitrace_otel._genai.config import DEFAULT_MAX_CONTENT_SIZE, ContentCapture, GenAISettings

CAPTURE = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
MAX_SIZE = "WIKITRACE_GENAI_MAX_CONTENT_SIZE"
LEGACY = "WIKITRACE_SEMCONV_LEGACY"
INCLUDE_USAGE = "WIKITRACE_OPENAI_INCLUDE_USAGE"
HOSTS = "WIKITRACE_GENAI_PROVIDER_HOSTS"


def resolve_warnings(caplog: pytest.LogCaptureFixture, **kwargs: Any) -> tuple[GenAISettings, list[str]]:
    """Resolve and return the warnings logged while doing so."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="wikitrace_otel"):
        settings = GenAISettings.resolve(**kwargs)
    return settings, [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_defaults(caplog) -> None:
    settings, warnings = resolve_warnings(caplog)

    assert settings == GenAISettings()
    assert settings.capture_content is ContentCapture.NO_CONTENT
    assert settings.max_content_size == DEFAULT_MAX_CONTENT_SIZE == 65536
    assert (settings.legacy_semconv, settings.include_usage, settings.provider_hosts) == (False, False, {})
    assert warnings == []


def test_unknown_keyword_arguments_are_ignored() -> None:
    # instrument() passes tracer_provider & co. through to resolve().
    assert GenAISettings.resolve(tracer_provider=object(), meter_provider=None) == GenAISettings()


# --- capture_content ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("explicit", "expected"),
    [
        (True, ContentCapture.SPAN_ONLY),
        (False, ContentCapture.NO_CONTENT),
        ("span_and_event", ContentCapture.SPAN_AND_EVENT),
        ("EVENT_ONLY", ContentCapture.EVENT_ONLY),
        (ContentCapture.SPAN_ONLY, ContentCapture.SPAN_ONLY),
    ],
)
def test_capture_content_argument(explicit, expected, monkeypatch) -> None:
    monkeypatch.setenv(CAPTURE, "SPAN_AND_EVENT" if expected is not ContentCapture.SPAN_AND_EVENT else "NO_CONTENT")

    assert GenAISettings.resolve(capture_content=explicit).capture_content is expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("SPAN_ONLY", ContentCapture.SPAN_ONLY),
        ("span_only", ContentCapture.SPAN_ONLY),
        (" Event_Only ", ContentCapture.EVENT_ONLY),
        ("SPAN_AND_EVENT", ContentCapture.SPAN_AND_EVENT),
        ("NO_CONTENT", ContentCapture.NO_CONTENT),
        ("", ContentCapture.NO_CONTENT),
    ],
)
def test_capture_content_environment(raw, expected, monkeypatch, caplog) -> None:
    monkeypatch.setenv(CAPTURE, raw)

    settings, warnings = resolve_warnings(caplog)

    assert settings.capture_content is expected
    assert warnings == []


@pytest.mark.parametrize("raw", ["true", "false", "1", "spans", "SPAN-ONLY"])
def test_capture_content_bad_environment_fails_closed(raw, monkeypatch, caplog) -> None:
    monkeypatch.setenv(CAPTURE, raw)

    settings, warnings = resolve_warnings(caplog)

    assert settings.capture_content is ContentCapture.NO_CONTENT
    assert len(warnings) == 1, warnings
    assert CAPTURE in warnings[0]
    assert repr(raw) in warnings[0]


@pytest.mark.parametrize("bad", ["yes", "true", 3, "SPAN"])
def test_capture_content_bad_argument_raises(bad) -> None:
    with pytest.raises(ValueError, match=r"capture_content=.*expected a bool or one of"):
        GenAISettings.resolve(capture_content=bad)


@pytest.mark.parametrize(
    ("capture", "on_span", "on_event", "enabled"),
    [
        (ContentCapture.NO_CONTENT, False, False, False),
        (ContentCapture.SPAN_ONLY, True, False, True),
        (ContentCapture.EVENT_ONLY, False, True, True),
        (ContentCapture.SPAN_AND_EVENT, True, True, True),
    ],
)
def test_capture_content_destinations(capture, on_span, on_event, enabled) -> None:
    assert (capture.on_span, capture.on_event, capture.enabled) == (on_span, on_event, enabled)


# --- max_content_size -----------------------------------------------------------------


def test_max_content_size_argument_beats_environment(monkeypatch) -> None:
    monkeypatch.setenv(MAX_SIZE, "2048")

    assert GenAISettings.resolve(max_content_size=1000).max_content_size == 1000
    assert GenAISettings.resolve().max_content_size == 2048


@pytest.mark.parametrize("raw", ["256", " 512 ", "1048576"])
def test_max_content_size_environment(raw, monkeypatch, caplog) -> None:
    monkeypatch.setenv(MAX_SIZE, raw)

    settings, warnings = resolve_warnings(caplog)

    assert settings.max_content_size == int(raw)
    assert warnings == []


@pytest.mark.parametrize("raw", ["abc", "255", "-1", "0", "1.5e3"])
def test_max_content_size_bad_environment_falls_back(raw, monkeypatch, caplog) -> None:
    monkeypatch.setenv(MAX_SIZE, raw)

    settings, warnings = resolve_warnings(caplog)

    assert settings.max_content_size == DEFAULT_MAX_CONTENT_SIZE
    assert len(warnings) == 1, warnings
    assert MAX_SIZE in warnings[0]


@pytest.mark.parametrize("bad", [255, 0, -5, "1024", 1024.0, True])
def test_max_content_size_bad_argument_raises(bad) -> None:
    with pytest.raises(ValueError, match=r"max_content_size=.*expected an int >= 256"):
        GenAISettings.resolve(max_content_size=bad)


def test_max_content_size_minimum_is_accepted() -> None:
    assert GenAISettings.resolve(max_content_size=256).max_content_size == 256


# --- legacy_semconv and include_usage -------------------------------------------------


@pytest.mark.parametrize(("setting", "variable"), [("legacy_semconv", LEGACY), ("include_usage", INCLUDE_USAGE)])
class TestFlags:
    @pytest.mark.parametrize("raw", ["true", "TRUE", "1", "yes", " on "])
    def test_true_environment(self, setting, variable, raw, monkeypatch, caplog) -> None:
        monkeypatch.setenv(variable, raw)
        settings, warnings = resolve_warnings(caplog)
        assert getattr(settings, setting) is True
        assert warnings == []

    @pytest.mark.parametrize("raw", ["false", "0", "no", "off", ""])
    def test_false_environment(self, setting, variable, raw, monkeypatch, caplog) -> None:
        monkeypatch.setenv(variable, raw)
        settings, warnings = resolve_warnings(caplog)
        assert getattr(settings, setting) is False
        assert warnings == []

    def test_bad_environment_warns_once_and_is_false(self, setting, variable, monkeypatch, caplog) -> None:
        monkeypatch.setenv(variable, "maybe")
        settings, warnings = resolve_warnings(caplog)
        assert getattr(settings, setting) is False
        assert len(warnings) == 1, warnings
        assert variable in warnings[0]
        assert "'maybe'" in warnings[0]

    @pytest.mark.parametrize(("explicit", "raw"), [(False, "true"), (True, "false"), (True, "garbage")])
    def test_argument_beats_environment(self, setting, variable, explicit, raw, monkeypatch, caplog) -> None:
        monkeypatch.setenv(variable, raw)
        settings, warnings = resolve_warnings(caplog, **{setting: explicit})
        assert getattr(settings, setting) is explicit
        assert warnings == []  # the environment is not even read

    @pytest.mark.parametrize("bad", ["true", 1, 0])
    def test_bad_argument_raises(self, setting, variable, bad) -> None:
        with pytest.raises(ValueError, match="expected a bool"):
            GenAISettings.resolve(**{setting: bad})

    def test_bad_argument_error_names_the_setting(self, setting, variable) -> None:
        with pytest.raises(ValueError, match=setting):
            GenAISettings.resolve(**{setting: "true"})


# --- provider_hosts -------------------------------------------------------------------


def test_provider_hosts_argument_is_lower_cased() -> None:
    settings = GenAISettings.resolve(provider_hosts={"LLM.Internal:8443": "vllm", "gw.example.com": "OpenAI"})

    assert settings.provider_hosts == {"llm.internal:8443": "vllm", "gw.example.com": "OpenAI"}


def test_provider_hosts_argument_beats_environment(monkeypatch) -> None:
    monkeypatch.setenv(HOSTS, "a.example=groq")

    assert GenAISettings.resolve(provider_hosts={}).provider_hosts == {}
    assert GenAISettings.resolve(provider_hosts={"b.example": "x_ai"}).provider_hosts == {"b.example": "x_ai"}
    assert GenAISettings.resolve().provider_hosts == {"a.example": "groq"}


def test_provider_hosts_environment(monkeypatch, caplog) -> None:
    monkeypatch.setenv(HOSTS, " LLM.internal:8443 = openai ,10.0.0.5=vllm,,")

    settings, warnings = resolve_warnings(caplog)

    assert settings.provider_hosts == {"llm.internal:8443": "openai", "10.0.0.5": "vllm"}
    assert warnings == []


def test_provider_hosts_malformed_pairs_are_ignored(monkeypatch, caplog) -> None:
    monkeypatch.setenv(HOSTS, "good.example=groq,no-separator,=nohost,noprovider=, = ")

    settings, warnings = resolve_warnings(caplog)

    assert settings.provider_hosts == {"good.example": "groq"}
    assert len(warnings) == 4, warnings
    for pair in ("'no-separator'", "'=nohost'", "'noprovider='", "'='"):
        assert any(pair in w and HOSTS in w for w in warnings), pair


@pytest.mark.parametrize(
    "bad", [["a=b"], "a.example=groq", {"a.example": ""}, {"": "groq"}, {"a.example": 1}, {1: "groq"}]
)
def test_provider_hosts_bad_argument_raises(bad) -> None:
    with pytest.raises(ValueError, match=r"provider_hosts=.*expected a dict"):
        GenAISettings.resolve(provider_hosts=bad)


# --- through instrument() -------------------------------------------------------------


def test_instrument_rejects_a_bad_argument_and_wraps_nothing(instrument, client, span_exporter) -> None:
    with pytest.raises(ValueError, match="max_content_size"):
        instrument(max_content_size=10)

    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert span_exporter.get_finished_spans() == ()


def test_bad_environment_warns_once_not_per_call(instrument, client, span_exporter, monkeypatch, caplog) -> None:
    monkeypatch.setenv(CAPTURE, "true")
    monkeypatch.setenv(LEGACY, "maybe")

    with caplog.at_level(logging.WARNING, logger="wikitrace_otel"):
        instrument()
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])

    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2, warnings
    assert len(span_exporter.get_finished_spans()) == 3
    assert all("gen_ai.input.messages" not in s.attributes for s in span_exporter.get_finished_spans())


def test_bad_raise_internal_errors_value_warns_once(instrument, client, span_exporter, monkeypatch, caplog) -> None:
    from wikitrace_otel.instrumentors.openai import extractors

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("extractor bug")

    monkeypatch.setenv("WIKITRACE_RAISE_INTERNAL_ERRORS", "maybe")
    monkeypatch.setattr(extractors, "identity_attributes", broken)
    instrument()

    with caplog.at_level(logging.WARNING, logger="wikitrace_otel"):
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])

    assert len(span_exporter.get_finished_spans()) == 3  # treated as false: the calls go on
    about_variable = [r for r in caplog.records if "WIKITRACE_RAISE_INTERNAL_ERRORS" in r.getMessage()]
    assert len(about_variable) == 1, [r.getMessage() for r in about_variable]
