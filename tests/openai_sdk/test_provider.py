"""Which provider, address and port a client's base URL maps to, and the overrides."""

from __future__ import annotations

import logging

import pytest

from otel_helpers import attributes, only_span
from wikitrace_otel.instrumentors.openai.provider import Endpoint, EndpointCache, provider_from_url

MESSAGES = [{"role": "user", "content": "Hi"}]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://api.openai.com/v1", Endpoint("openai", "api.openai.com", None)),
        ("https://API.OpenAI.com/v1/", Endpoint("openai", "api.openai.com", None)),
        ("https://api.openai.com:8443/v1", Endpoint("openai", "api.openai.com", 8443)),
        ("https://api.groq.com/openai/v1", Endpoint("groq", "api.groq.com", None)),
        ("https://api.deepseek.com", Endpoint("deepseek", "api.deepseek.com", None)),
        ("https://api.x.ai/v1", Endpoint("x_ai", "api.x.ai", None)),
        ("https://api.perplexity.ai", Endpoint("perplexity", "api.perplexity.ai", None)),
        ("https://api.mistral.ai/v1", Endpoint("mistral_ai", "api.mistral.ai", None)),
        ("https://api.moonshot.ai/v1", Endpoint("moonshot_ai", "api.moonshot.ai", None)),
        ("https://openrouter.ai/api/v1", Endpoint("openrouter", "openrouter.ai", None)),
        ("https://api.together.xyz/v1", Endpoint("together_ai", "api.together.xyz", None)),
        ("https://api.fireworks.ai/inference/v1", Endpoint("fireworks_ai", "api.fireworks.ai", None)),
        ("https://my-res.openai.azure.com/openai/", Endpoint("azure.ai.openai", "my-res.openai.azure.com", None)),
        (
            "https://my-res.cognitiveservices.azure.com/openai/",
            Endpoint("azure.ai.openai", "my-res.cognitiveservices.azure.com", None),
        ),
        (
            "https://my-res.services.ai.azure.com/models",
            Endpoint("azure.ai.inference", "my-res.services.ai.azure.com", None),
        ),
        ("http://localhost:11434/v1", Endpoint("ollama", "localhost", 11434)),
        ("http://localhost:1234/v1", Endpoint("lm_studio", "localhost", 1234)),
        ("http://localhost:8000/v1", Endpoint("vllm", "localhost", 8000)),
        ("http://127.0.0.1:8000/v1", Endpoint("vllm", "127.0.0.1", 8000)),
        ("http://127.0.0.2:9000/v1", Endpoint("vllm", "127.0.0.2", 9000)),
        ("http://[::1]:11434/v1", Endpoint("ollama", "::1", 11434)),
        ("https://LLM.Example.COM/v1", Endpoint("llm.example.com", "llm.example.com", None)),
        ("http://llm.internal/v1", Endpoint("llm.internal", "llm.internal", 80)),
        ("http://llm.internal:8080/v1", Endpoint("llm.internal", "llm.internal", 8080)),
        ("", Endpoint("openai", None, None)),
    ],
)
def test_builtin_table(url, expected) -> None:
    assert provider_from_url(url, {}) == expected


def test_override_by_host() -> None:
    overrides = {"llm.example.com": "openai", "api.groq.com": "my_gateway"}

    assert provider_from_url("https://llm.example.com/v1", overrides) == Endpoint("openai", "llm.example.com", None)
    assert provider_from_url("http://llm.example.com:8080/v1", overrides).provider == "openai"
    # An override wins over the built-in table.
    assert provider_from_url("https://api.groq.com/openai/v1", overrides).provider == "my_gateway"


def test_override_by_host_and_port() -> None:
    overrides = {"gw.internal:8443": "vllm", "gw.internal": "openai", "gw.internal:443": "groq"}

    assert provider_from_url("https://gw.internal:8443/v1", overrides) == Endpoint("vllm", "gw.internal", 8443)
    assert provider_from_url("http://gw.internal:9000/v1", overrides).provider == "openai"
    # The default port counts as the port: https without one is host:443.
    assert provider_from_url("https://gw.internal/v1", overrides) == Endpoint("groq", "gw.internal", None)


def test_loopback_override() -> None:
    assert provider_from_url("http://localhost:8000/v1", {"localhost:8000": "sglang"}).provider == "sglang"
    assert provider_from_url("http://localhost:8001/v1", {"localhost:8000": "sglang"}).provider == "vllm"


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://my-res.openai.azure.com/openai/", "azure.ai.openai"),
        ("https://my-res.services.ai.azure.com/openai/", "azure.ai.inference"),
        ("https://api.openai.com/v1", "azure.ai.openai"),
        ("http://127.0.0.1:8000/openai/", "azure.ai.openai"),
        ("https://gw.example.com/openai/", "azure.ai.openai"),
    ],
)
def test_azure_client_class_wins(url, provider) -> None:
    overrides = {"api.openai.com": "openai", "127.0.0.1:8000": "openai", "gw.example.com": "groq"}

    assert provider_from_url(url, overrides, azure_client=True).provider == provider


def test_endpoint_cache_resolves_by_client() -> None:
    class Client:
        base_url = "https://api.groq.com/openai/v1/"

    class AzureOpenAI:
        base_url = "https://api.groq.com/openai/v1/"

    cache = EndpointCache({})
    assert cache.for_client(Client()) == Endpoint("groq", "api.groq.com", None)
    assert cache.for_client(AzureOpenAI()).provider == "azure.ai.openai"
    assert cache.for_client(None) == Endpoint("openai", None, None)


# --- end to end -----------------------------------------------------------------------


@pytest.fixture
def loopback_client(fake_openai):
    import openai

    with openai.OpenAI(api_key="k", base_url=f"http://127.0.0.1:{fake_openai.port}/v1", max_retries=0) as sdk:
        yield sdk


def test_provider_hosts_setting(instrument, loopback_client, span_exporter, fake_openai) -> None:
    instrument(provider_hosts={f"127.0.0.1:{fake_openai.port}": "groq"})

    loopback_client.chat.completions.create(model="llama-3.3-70b", messages=MESSAGES, service_tier="auto")

    found = attributes(only_span(span_exporter))
    assert found == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "groq",
        "gen_ai.request.model": "llama-3.3-70b",
        "server.address": "127.0.0.1",
        "server.port": fake_openai.port,
        "gen_ai.response.id": "chatcmpl-fake-1",
        "gen_ai.response.model": "llama-3.3-70b-2026-01-01",
        "gen_ai.usage.input_tokens": 11,
        "gen_ai.usage.output_tokens": 7,
        "gen_ai.usage.cache_read.input_tokens": 3,
        "gen_ai.usage.reasoning.output_tokens": 2,
        "gen_ai.response.finish_reasons": ["stop"],
    }


def test_no_openai_attributes_for_other_providers(instrument, loopback_client, span_exporter, fake_openai) -> None:
    instrument(provider_hosts={f"127.0.0.1:{fake_openai.port}": "groq"})

    loopback_client.responses.create(model="llama", input="Hi", service_tier="flex")

    found = attributes(only_span(span_exporter))
    assert found["gen_ai.provider.name"] == "groq"
    assert not [key for key in found if key.startswith("openai.")]


def test_unmapped_loopback_is_vllm(instrument, loopback_client, span_exporter) -> None:
    instrument(provider_hosts={})

    loopback_client.embeddings.create(model="e5", input="x")

    assert attributes(only_span(span_exporter))["gen_ai.provider.name"] == "vllm"


def test_provider_hosts_from_environment(instrument, loopback_client, span_exporter, fake_openai, monkeypatch, caplog):
    monkeypatch.setenv(
        "WIKITRACE_GENAI_PROVIDER_HOSTS",
        f" no-equals-sign , =groq, other.host= ,127.0.0.1:{fake_openai.port} = deepseek,,",
    )

    with caplog.at_level(logging.WARNING):
        instrument(provider_hosts=None)  # None: fall back to the environment
    loopback_client.chat.completions.create(model="deepseek-chat", messages=MESSAGES)

    assert attributes(only_span(span_exporter))["gen_ai.provider.name"] == "deepseek"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3, warnings
    for bad in ("'no-equals-sign'", "'=groq'", "'other.host='"):
        assert any(bad in message and "WIKITRACE_GENAI_PROVIDER_HOSTS" in message for message in warnings), bad


def test_explicit_provider_hosts_win_over_environment(
    instrument, loopback_client, span_exporter, fake_openai, monkeypatch
):
    monkeypatch.setenv("WIKITRACE_GENAI_PROVIDER_HOSTS", f"127.0.0.1:{fake_openai.port}=deepseek")

    instrument(provider_hosts={f"127.0.0.1:{fake_openai.port}": "groq"})
    loopback_client.chat.completions.create(model="m", messages=MESSAGES)

    assert attributes(only_span(span_exporter))["gen_ai.provider.name"] == "groq"


def test_azure_client_subclass(instrumented, span_exporter, fake_openai) -> None:
    import openai

    class CompanyAzure(openai.AzureOpenAI):
        pass

    with CompanyAzure(
        api_key="k", azure_endpoint=fake_openai.azure_endpoint, api_version="2024-10-21", max_retries=0
    ) as azure:
        azure.chat.completions.create(model="my-deployment", messages=MESSAGES)

    assert attributes(only_span(span_exporter))["gen_ai.provider.name"] == "azure.ai.openai"


def test_reassigning_base_url_is_noticed(instrument, client, span_exporter, fake_openai) -> None:
    host = fake_openai.base_url.split("//", 1)[1].split("/", 1)[0]
    instrument(provider_hosts={host: "openai", f"localhost:{fake_openai.port}": "groq"})
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}])
    client.base_url = f"http://localhost:{fake_openai.port}/v1"
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "Hi"}])

    first, second = span_exporter.get_finished_spans()
    assert first.attributes["gen_ai.provider.name"] == "openai"
    assert second.attributes["gen_ai.provider.name"] == "groq"
    assert second.attributes["server.address"] == "localhost"
