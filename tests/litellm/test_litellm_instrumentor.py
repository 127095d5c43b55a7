"""Wrapping and unwrapping LiteLLM, provider names, budgets, and the import rule."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from litellm_support import LITELLM_SCOPE, USER, Driver

import wikitrace_otel as wt
from otel_helpers import only_span
from wikitrace_otel import budgets
from wikitrace_otel.instrumentors.litellm import LiteLLMInstrumentor
from wikitrace_otel.instrumentors.litellm.providers import Router, convention_name
from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, FakeResponse, payloads

FUNCTIONS = ("completion", "acompletion", "embedding", "aembedding")


def test_importing_the_instrumentor_does_not_import_litellm() -> None:
    code = (
        "import sys\n"
        "import wikitrace_otel, wikitrace_otel.instrumentors.litellm\n"
        "print(sorted(m for m in sys.modules if m == 'litellm' or m.startswith('litellm.')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_litellm_is_wrapped_when_the_application_imports_it_not_before() -> None:
    code = (
        "import os, sys\n"
        "os.environ['LITELLM_LOCAL_MODEL_COST_MAP'] = 'True'\n"
        "import wikitrace_otel\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "from wikitrace_otel.instrumentors.litellm import LiteLLMInstrumentor\n"
        "LiteLLMInstrumentor().instrument(tracer_provider=TracerProvider())\n"
        "print('litellm' in sys.modules)\n"
        "import litellm\n"
        "print(type(litellm.completion).__name__)\n"
        "LiteLLMInstrumentor().uninstrument()\n"
        "print(type(litellm.completion).__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "FunctionWrapper", "function"]


def test_uninstrumenting_before_the_import_leaves_litellm_alone() -> None:
    code = (
        "import os\n"
        "os.environ['LITELLM_LOCAL_MODEL_COST_MAP'] = 'True'\n"
        "from opentelemetry.sdk.trace import TracerProvider\n"
        "from wikitrace_otel.instrumentors.litellm import LiteLLMInstrumentor\n"
        "LiteLLMInstrumentor().instrument(tracer_provider=TracerProvider())\n"
        "LiteLLMInstrumentor().uninstrument()\n"
        "import litellm\n"
        "print(type(litellm.completion).__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["function"]


def test_instrument_and_uninstrument_restore_litellm_exactly(litellm_module: Any, tracer_provider: Any) -> None:
    originals = {name: litellm_module.__dict__[name] for name in FUNCTIONS}

    LiteLLMInstrumentor().instrument(tracer_provider=tracer_provider)
    wrapped = {name: litellm_module.__dict__[name] for name in FUNCTIONS}
    LiteLLMInstrumentor().uninstrument()

    assert all(wrapped[name] is not originals[name] for name in FUNCTIONS)
    assert {name: litellm_module.__dict__[name] for name in FUNCTIONS} == originals


def test_a_missing_function_disables_only_its_wrapper(
    litellm_module: Any, tracer_provider: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delattr(litellm_module, "aembedding")
    originals = {name: litellm_module.__dict__[name] for name in FUNCTIONS[:3]}

    with caplog.at_level("DEBUG", logger="wikitrace_otel.instrumentors.litellm"):
        LiteLLMInstrumentor().instrument(tracer_provider=tracer_provider)
    try:
        assert all(litellm_module.__dict__[name] is not originals[name] for name in originals)
        assert "aembedding" not in litellm_module.__dict__
        assert any("litellm.aembedding" in r.getMessage() for r in caplog.records)
    finally:
        LiteLLMInstrumentor().uninstrument()
    assert {name: litellm_module.__dict__[name] for name in originals} == originals


@pytest.mark.parametrize(
    ("kwargs", "provider", "model"),
    [
        ({"model": "openai/gpt-4o"}, "openai", "gpt-4o"),
        ({"model": "gpt-4o-mini"}, "openai", "gpt-4o-mini"),
        ({"model": "claude-sonnet-4-5-20250929"}, "anthropic", "claude-sonnet-4-5-20250929"),
        ({"model": "anthropic/claude-sonnet-4-5"}, "anthropic", "claude-sonnet-4-5"),
        ({"model": "azure/my-deployment"}, "azure.ai.openai", "my-deployment"),
        ({"model": "azure_ai/mistral-large"}, "azure.ai.inference", "mistral-large"),
        ({"model": "vertex_ai/gemini-2.5-flash"}, "gcp.vertex_ai", "gemini-2.5-flash"),
        ({"model": "gemini/gemini-2.5-flash"}, "gcp.gemini", "gemini-2.5-flash"),
        (
            {"model": "bedrock/anthropic.claude-3-haiku-20240307-v1:0"},
            "aws.bedrock",
            "anthropic.claude-3-haiku-20240307-v1:0",
        ),
        ({"model": "mistral/mistral-large-latest"}, "mistral_ai", "mistral-large-latest"),
        ({"model": "xai/grok-4"}, "x_ai", "grok-4"),
        ({"model": "groq/llama-3.3-70b-versatile"}, "groq", "llama-3.3-70b-versatile"),
        ({"model": "deepseek/deepseek-chat"}, "deepseek", "deepseek-chat"),
        ({"model": "perplexity/sonar"}, "perplexity", "sonar"),
        ({"model": "watsonx/ibm/granite-13b"}, "ibm.watsonx.ai", "ibm/granite-13b"),
        ({"model": "openrouter/openai/gpt-4o"}, "openrouter", "openai/gpt-4o"),
        (
            {"model": "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo"},
            "together_ai",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
        ),
        ({"model": "ollama_chat/llama3.2"}, "ollama", "llama3.2"),
        ({"model": "hosted_vllm/my-model"}, "vllm", "my-model"),
        ({"model": "my-model", "custom_llm_provider": "groq"}, "groq", "my-model"),
        ({"model": "xai/grok-4", "custom_llm_provider": "xai"}, "x_ai", "grok-4"),
        ({"model": "meta-llama/Llama-3-8b", "custom_llm_provider": "openai"}, "openai", "meta-llama/Llama-3-8b"),
    ],
)
def test_provider_and_model(litellm_module: Any, kwargs: dict[str, Any], provider: str, model: str) -> None:
    found = Router(litellm_module).route(kwargs)

    assert (found.provider, found.model) == (provider, model)


def test_server_from_api_base(litellm_module: Any) -> None:
    router = Router(litellm_module)

    assert router.route({"model": "gpt-4o", "api_base": "https://GW.example.com/v1"})[2:] == ("gw.example.com", None)
    assert router.route({"model": "gpt-4o", "api_base": "http://localhost:4000"})[2:] == ("localhost", 4000)
    assert router.route({"model": "gpt-4o"})[2:] == (None, None)


def test_unknown_names_are_kept_lower_case() -> None:
    assert convention_name("Cerebras") == "cerebras"


async def test_positional_arguments(
    litellm_module: Any, fake_anthropic: FakeAnthropicServer, span_exporter: Any, litellm_only: Any
) -> None:
    litellm_module.completion(
        "anthropic/claude-sonnet-4-5", USER, api_base=fake_anthropic.base_url, api_key="k", max_tokens=8
    )

    span = only_span(span_exporter)
    assert span.name == "chat claude-sonnet-4-5"
    assert span.instrumentation_scope.name == LITELLM_SCOPE


@pytest.fixture
def prices() -> Any:
    budgets.use_prices({"claude-sonnet-4-5": {"input": 1000, "output": 4000}})
    yield
    budgets.use_prices(None)


@pytest.mark.usefixtures("litellm_only", "prices")
async def test_a_spent_budget_refuses_the_next_call_without_sending(
    llm: Driver, fake_anthropic: FakeAnthropicServer
) -> None:
    answer = payloads.message("claude-sonnet-4-5", usage_body=payloads.usage(10, 5))
    fake_anthropic.enqueue(FakeResponse.json(answer))
    call = {"model": "anthropic/claude-sonnet-4-5", "messages": USER, "api_base": fake_anthropic.base_url}

    with wt.budget(usd=0.01) as b:
        await llm.completion(**call, api_key="k", max_tokens=8)
        assert b.spent == pytest.approx(0.03)  # 10 * 1000 + 5 * 4000 per million tokens
        with pytest.raises(wt.BudgetExceeded):
            await llm.completion(**call, api_key="k", max_tokens=8)
        with pytest.raises(wt.BudgetExceeded):
            await llm.completion(**call, api_key="k", max_tokens=8, stream=True)

    assert [r.path for r in fake_anthropic.requests] == ["/v1/messages"]


def test_registered_for_opentelemetry_instrument() -> None:
    from importlib.metadata import entry_points

    (entry_point,) = entry_points(group="opentelemetry_instrumentor", name="litellm")

    assert entry_point.load() is LiteLLMInstrumentor
    assert LiteLLMInstrumentor().instrumentation_dependencies() == ("litellm >= 1.80.0, < 2",)


def test_install_knows_litellm() -> None:
    from wikitrace_otel._install import INSTRUMENTORS

    assert INSTRUMENTORS["litellm"] == ("litellm", "wikitrace_otel.instrumentors.litellm:LiteLLMInstrumentor")
