"""The shortcuts of the call path give the same telemetry as the long way round: response
fields read from pydantic's ``__dict__`` (extras included), cached metric attribute sets,
counter entries kept across calls, one queue entry per call, the endpoint cache's direct
``_base_url`` read, and the wrapper's own on/off switch."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from otel_helpers import metric_points
from wikitrace_otel._genai import callmetrics
from wikitrace_otel._genai.callmetrics import MetricSets
from wikitrace_otel._genai.deferred import DeferredRecorder
from wikitrace_otel._genai.telemetry import Instruments
from wikitrace_otel.instrumentors.openai import extractors as ex
from wikitrace_otel.instrumentors.openai.provider import EndpointCache

CHAT = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-mini-2024-07-18",
    "service_tier": "default",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
    "usage": {
        "prompt_tokens": 12,
        "completion_tokens": 3,
        "total_tokens": 15,
        # cache_write_tokens is no field of the SDK's model: pydantic keeps it as an extra.
        "prompt_tokens_details": {"cached_tokens": 4, "cache_write_tokens": 6, "audio_tokens": 2},
        "completion_tokens_details": {"reasoning_tokens": 1},
    },
}
REQUEST = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "server.address": "api.openai.com",
}


def _completion() -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate(CHAT)


def test_sdk_models_read_like_getattr_including_extra_fields() -> None:
    result = _completion()
    fast: dict[str, Any] = {}
    ex.identity_attributes(result, fast, True)
    audio = ex.usage_attributes(result.usage, fast)
    slow: dict[str, Any] = {}
    ex.identity_attributes(result.model_dump(), slow, True)
    ex.usage_attributes(result.usage.model_dump(), slow)
    assert fast == slow
    assert fast["gen_ai.usage.cache_write.input_tokens"] == 6
    assert audio == (2, 0)
    assert ex.choice_finish_reasons(result.choices) == ("stop",)


def test_objects_that_are_not_models_are_read_through_getattr() -> None:
    class Usage:
        def __init__(self) -> None:
            self.input_tokens, self.output_tokens = 5, 7

    response: dict[str, Any] = {}
    ex.usage_attributes(Usage(), response)
    assert response == {"gen_ai.usage.input_tokens": 5, "gen_ai.usage.output_tokens": 7}


def _instruments() -> tuple[InMemoryMetricReader, Instruments]:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    return reader, Instruments(meter, legacy=False)


def test_metric_sets_are_shared_per_combination_and_bounded() -> None:
    sets = MetricSets(limit=2)
    first = sets.get(dict(REQUEST), "gpt-4o-mini-2024", None)
    assert sets.get(dict(REQUEST), "gpt-4o-mini-2024", None) is first
    assert sets.get(dict(REQUEST), "gpt-4o-mini-2024", "timeout") is not first
    assert first.base == {**REQUEST, "gen_ai.response.model": "gpt-4o-mini-2024"}
    assert sets.get(dict(REQUEST), "other", None).timed is not first.timed  # a third entry: the cache starts over
    assert len(sets._sets) == 1


def test_unhashable_attribute_values_are_recorded_uncached() -> None:
    sets = MetricSets()
    odd = {**REQUEST, "gen_ai.request.model": ["not", "hashable"]}
    metrics = sets.get(odd, None, None)
    assert metrics.base["gen_ai.request.model"] == ["not", "hashable"]
    assert not sets._sets


def test_calls_add_up_per_attribute_set_and_modality() -> None:
    reader, instruments = _instruments()
    response = {"gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 3, "gen_ai.response.model": "m"}
    for _ in range(3):
        callmetrics.record_call(instruments, dict(REQUEST), dict(response), None, ("chat", 0.5, None, []), (2, 0))
    points = metric_points(reader)
    by_modality = {
        p.attributes["gen_ai.token.modality"]: p.value for p in points["gen_ai.client.inference.usage.input_tokens"]
    }
    assert by_modality == {"text": 30, "audio": 6}
    assert [p.value for p in points["gen_ai.client.inference.usage.output_tokens"]] == [9]
    assert "gen_ai.client.inference.usage.cache_read.input_tokens" not in points  # never counted: no zero point
    durations = points["gen_ai.client.inference.duration"]
    assert [(p.count, p.sum) for p in durations] == [(3, 1.5)]
    assert "error.type" not in durations[0].attributes


def test_a_full_queue_counts_every_value_of_a_dropped_call() -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("test")
    instruments = Instruments(meter, legacy=False)
    instruments.deferred = DeferredRecorder(meter, high_water=10**9, limit=0)
    response = {"gen_ai.usage.input_tokens": 1, "gen_ai.usage.output_tokens": 2}
    callmetrics.record_call(instruments, dict(REQUEST), response, None, ("chat", 0.1, 0.05, [0.01, 0.02]), (0, 0))
    # duration, time to first chunk, two chunk gaps, input and output tokens
    assert instruments.deferred.dropped == 6


@pytest.mark.parametrize("reassign", ["same", "other"])
def test_the_endpoint_follows_a_reassigned_base_url(reassign: str) -> None:
    import openai

    client = openai.OpenAI(api_key="k", base_url="https://api.openai.com/v1")
    cache = EndpointCache({})
    assert cache.for_client(client).provider == "openai"
    client.base_url = "https://api.openai.com/v1" if reassign == "same" else "http://localhost:11434/v1"
    expected = "openai" if reassign == "same" else "ollama"
    assert cache.for_client(client).provider == expected
    client.close()


def test_a_client_class_overriding_base_url_is_read_through_its_property() -> None:
    import openai

    class Routed(openai.OpenAI):
        @property  # type: ignore[override]
        def base_url(self) -> Any:
            return "http://localhost:1234/v1"

        @base_url.setter
        def base_url(self, url: Any) -> None:
            pass

    client = Routed(api_key="k", base_url="https://api.openai.com/v1")
    cache = EndpointCache({})
    assert cache.for_client(client).provider == "lm_studio"
    assert cache.for_client(client).provider == "lm_studio"
    client.close()
