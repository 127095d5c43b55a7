"""OpenAI-compatible hosts through the OpenAI SDK: each gets its provider name (the conventions'
well-known value, else a lower-case name) and genai-prices' prices for its models.

Each host is stood in for by the fake OpenAI server through ``provider_hosts``, so the real SDK
sends real requests; the built-in table is checked against each host's documented base URL.
"""

from __future__ import annotations

from typing import Any

import pytest

from otel_helpers import attributes, only_span
from wikitrace_otel.instrumentors.openai.provider import Endpoint, provider_from_url
from wikitrace_otel.pricing import PriceTable
from wikitrace_otel.processors import cost_attributes
from wikitrace_otel.testing.fake_openai import FakeOpenAIServer

MESSAGES = [{"role": "user", "content": "Hi"}]

pytest.importorskip("genai_prices")  # the price assertions need it (Python 3.11+)


@pytest.mark.parametrize(
    ("base_url", "expected"),
    [
        ("https://api.groq.com/openai/v1", Endpoint("groq", "api.groq.com", None)),
        ("https://api.deepseek.com", Endpoint("deepseek", "api.deepseek.com", None)),
        ("https://api.deepseek.com/v1", Endpoint("deepseek", "api.deepseek.com", None)),
        ("https://api.x.ai/v1", Endpoint("x_ai", "api.x.ai", None)),
        ("https://api.together.xyz/v1", Endpoint("together_ai", "api.together.xyz", None)),
        ("https://api.fireworks.ai/inference/v1", Endpoint("fireworks_ai", "api.fireworks.ai", None)),
        ("https://api.perplexity.ai", Endpoint("perplexity", "api.perplexity.ai", None)),
        ("https://openrouter.ai/api/v1", Endpoint("openrouter", "openrouter.ai", None)),
        ("http://localhost:11434/v1", Endpoint("ollama", "localhost", 11434)),
        ("https://ollama.com/v1", Endpoint("ollama", "ollama.com", None)),
        ("http://localhost:8000/v1", Endpoint("vllm", "localhost", 8000)),  # vLLM's default port
    ],
)
def test_documented_base_urls(base_url: str, expected: Endpoint) -> None:
    assert provider_from_url(base_url, {}) == expected


def test_a_remote_vllm_server_is_named_through_provider_hosts() -> None:
    assert provider_from_url("http://gpu-box.internal:8000/v1", {}).provider == "gpu-box.internal"
    overrides = {"gpu-box.internal:8000": "vllm"}
    assert provider_from_url("http://gpu-box.internal:8000/v1", overrides).provider == "vllm"


# (provider name, a model as the host names it, genai-prices' provider id that prices it)
PRICED = [
    ("groq", "llama-3.3-70b-versatile", "groq"),
    ("groq", "openai/gpt-oss-120b", "groq"),
    ("deepseek", "deepseek-chat", "deepseek"),
    ("x_ai", "grok-4", "x-ai"),
    ("together_ai", "meta-llama/Llama-3.3-70B-Instruct-Turbo", "together"),
    ("fireworks_ai", "accounts/fireworks/models/llama-v3p1-8b-instruct", "fireworks"),
    ("perplexity", "sonar", "perplexity"),
    ("openrouter", "anthropic/claude-3.5-sonnet", "openrouter"),
]


@pytest.mark.parametrize(("provider", "model", "prices_id"), PRICED)
def test_genai_prices_knows_each_hosts_models(provider: str, model: str, prices_id: str) -> None:
    price = PriceTable().lookup(provider, model)

    assert price is not None
    assert price.matched.startswith(f"{prices_id}/")
    assert price.input > 0 and price.output > 0


@pytest.mark.parametrize(
    ("provider", "model"), [("ollama", "llama3.2"), ("vllm", "gpt-4o-mini"), ("lm_studio", "gpt-4o")]
)
def test_local_servers_are_never_priced(provider: str, model: str) -> None:
    # Even a model name a paid API prices: a local server costs nothing per token.
    assert PriceTable().lookup(provider, model) is None


@pytest.mark.parametrize(("provider", "model", "prices_id"), PRICED)
def test_end_to_end_provider_name_and_cost(
    instrument: Any, fake_openai: FakeOpenAIServer, span_exporter: Any, provider: str, model: str, prices_id: str
) -> None:
    import openai

    base_url = f"http://127.0.0.1:{fake_openai.port}/v1"
    instrument(provider_hosts={f"127.0.0.1:{fake_openai.port}": provider})
    with openai.OpenAI(api_key="k", base_url=base_url, max_retries=0) as client:
        client.chat.completions.create(model=model, messages=MESSAGES)

    found = attributes(only_span(span_exporter))
    assert found["gen_ai.provider.name"] == provider
    assert not [key for key in found if key.startswith("openai.")]  # OpenAI-only attributes stay off
    prices = PriceTable()
    # The fake server answers with a dated snapshot of the model, as real hosts often do.
    assert found["gen_ai.response.model"] == f"{model}-2026-01-01"
    price = prices.lookup(provider, found["gen_ai.response.model"])
    assert price is not None and price.matched.startswith(f"{prices_id}/")
    cost = cost_attributes(found, prices)
    assert cost["gen_ai.usage.cost.amount"] == pytest.approx(price.cost(11, 7, cache_read=3, reasoning=2))
    assert cost["gen_ai.usage.cost.amount"] > 0


def test_end_to_end_a_local_server_has_no_cost(instrument: Any, fake_openai: FakeOpenAIServer, span_exporter: Any):
    import openai

    instrument(provider_hosts={f"127.0.0.1:{fake_openai.port}": "ollama"})
    with openai.OpenAI(api_key="k", base_url=f"http://127.0.0.1:{fake_openai.port}/v1", max_retries=0) as client:
        client.chat.completions.create(model="llama3.2", messages=MESSAGES)

    found = attributes(only_span(span_exporter))
    assert found["gen_ai.provider.name"] == "ollama"
    assert found["gen_ai.usage.input_tokens"] == 11
    assert cost_attributes(found, PriceTable()) == {}
