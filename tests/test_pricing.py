"""PriceTable and ModelPrice: prices from genai-prices' own data, overrides, matching, the cache."""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from wikitrace_otel.pricing import PRICES_ENV, ModelPrice, PriceTable
from wikitrace_otel.pricing import _table as table_module

genai_prices = pytest.importorskip("genai_prices")
from genai_prices.data import providers as _gp_providers  # noqa: E402 - only once genai-prices is known present

M = 1_000_000


# --- genai-prices' own data, read directly (not through the code under test) -----------


def data_model(provider_id: str, model_id: str) -> Any:
    """The genai-prices ModelInfo with exactly this provider and model id."""
    (provider,) = [p for p in _gp_providers if p.id == provider_id]
    (model,) = [m for m in provider.models if m.id == model_id]
    return model


def data_prices(provider_id: str, model_id: str, context: dict[str, str] | None = None) -> Any:
    """The model's prices in force now (genai-prices' ModelPrice, Decimal per million tokens)."""
    return data_model(provider_id, model_id).get_prices(datetime.now(timezone.utc), context)


def rate(value: Decimal | None) -> float:
    assert value is not None and not hasattr(value, "tiers"), value
    return float(value)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """Every call to genai_prices.calc_price, as (model_ref, provider_id)."""
    seen: list[tuple[str, Any]] = []
    real = genai_prices.calc_price

    def counting(usage: Any, model_ref: str, **kwargs: Any) -> Any:
        seen.append((model_ref, kwargs.get("provider_id")))
        return real(usage, model_ref, **kwargs)

    monkeypatch.setattr(genai_prices, "calc_price", counting)
    return seen


# --- prices of known models -----------------------------------------------------------


def test_gpt_4o_cached_input_is_charged_at_the_cached_rate() -> None:
    expected = data_prices("openai", "gpt-4o")
    price = PriceTable().lookup("openai", "gpt-4o-2024-08-06")

    assert price is not None
    assert (price.input, price.output, price.cache_read) == (
        rate(expected.input_mtok),
        rate(expected.output_mtok),
        rate(expected.cache_read_mtok),
    )
    assert price.cache_read < price.input
    # 1200 input tokens of which 1000 cached, 300 output.
    want = (
        200 * rate(expected.input_mtok) + 1000 * rate(expected.cache_read_mtok) + 300 * rate(expected.output_mtok)
    ) / M
    assert price.cost(input_tokens=1200, output_tokens=300, cache_read=1000) == pytest.approx(want, rel=1e-12)


def test_claude_cache_writes_are_charged_at_the_cache_write_rate() -> None:
    expected = data_prices("anthropic", "claude-haiku-4-5")
    price = PriceTable().lookup("anthropic", "claude-haiku-4-5-20251001")

    assert price is not None and price.cache_write == rate(expected.cache_write_mtok)
    assert price.cache_write > price.input
    # Anthropic: input 100 uncached + 2000 cache write + 500 cache read = 2600 (conventions count).
    want = (
        100 * rate(expected.input_mtok)
        + 2000 * rate(expected.cache_write_mtok)
        + 500 * rate(expected.cache_read_mtok)
        + 40 * rate(expected.output_mtok)
    ) / M
    assert price.cost(input_tokens=2600, output_tokens=40, cache_read=500, cache_write=2000) == pytest.approx(want)


def test_long_context_tier_is_picked_by_the_call_input() -> None:
    expected = data_prices("anthropic", "claude-sonnet-4-5")
    tiered = expected.input_mtok
    assert hasattr(tiered, "tiers"), "claude-sonnet-4-5 is no longer tiered in genai-prices"
    start = tiered.tiers[0].start
    price = PriceTable().lookup("anthropic", "claude-sonnet-4-5-20250929")
    assert price is not None

    at_start = price.cost(input_tokens=start, output_tokens=0)
    above = price.cost(input_tokens=start + 1, output_tokens=1000)

    assert at_start == pytest.approx(start * float(tiered.base) / M)
    want = ((start + 1) * float(tiered.tiers[0].price) + 1000 * float(expected.output_mtok.tiers[0].price)) / M
    assert above == pytest.approx(want)


def test_embeddings_model() -> None:
    expected = data_prices("openai", "text-embedding-3-small")
    price = PriceTable().lookup("openai", "text-embedding-3-small")

    assert price is not None
    assert price.cost(input_tokens=8000) == pytest.approx(8000 * rate(expected.input_mtok) / M)


def test_reasoning_priced_apart_from_output_where_genai_prices_does() -> None:
    expected = data_prices("perplexity", "sonar-deep-research")
    price = PriceTable().lookup("perplexity", "sonar-deep-research")

    assert price is not None and price.reasoning == rate(expected.output_reasoning_mtok) != price.output
    want = 10 * rate(expected.input_mtok) + 30 * rate(expected.output_mtok) + 70 * rate(expected.output_reasoning_mtok)
    assert price.cost(input_tokens=10, output_tokens=100, reasoning=70) == pytest.approx(want / M)


def test_per_request_fee() -> None:
    expected = data_prices("perplexity", "sonar")
    price = PriceTable().lookup("perplexity", "sonar")

    assert price is not None
    assert price.per_request == pytest.approx(float(expected.requests_kcount) / 1000)
    assert price.cost(input_tokens=0, output_tokens=0) == pytest.approx(price.per_request)


def test_openai_service_tier_selects_its_price() -> None:
    expected = data_prices("openai", "gpt-4o", {"service_tier": "priority"})
    standard = PriceTable().lookup("openai", "gpt-4o")
    priority = PriceTable().lookup("openai", "gpt-4o", service_tier="priority")

    assert priority is not None and standard is not None
    assert priority.input == rate(expected.input_mtok) != standard.input


USAGES = [
    {"input_tokens": 1200, "output_tokens": 300},
    {"input_tokens": 1200, "output_tokens": 300, "cache_read_tokens": 1000},
    {"input_tokens": 5000, "output_tokens": 10, "cache_read_tokens": 1000, "cache_write_tokens": 3000},
    {"input_tokens": 250_000, "output_tokens": 2000, "cache_read_tokens": 100_000},
]
MODELS = [
    ("openai", "openai", "gpt-4o-2024-08-06"),
    ("openai", "openai", "gpt-4o-mini"),
    ("anthropic", "anthropic", "claude-sonnet-4-5-20250929"),
    ("anthropic", "anthropic", "claude-haiku-4-5"),
    ("gcp.gemini", "google", "gemini-2.5-pro"),
    ("aws.bedrock", "aws", "anthropic.claude-3-5-sonnet-20240620-v1:0"),
    ("deepseek", "deepseek", "deepseek-chat"),
]


@pytest.mark.parametrize("usage", USAGES, ids=lambda u: "-".join(str(v) for v in u.values()))
@pytest.mark.parametrize(("provider_name", "provider_id", "model"), MODELS, ids=[m[2] for m in MODELS])
def test_same_cost_as_genai_prices_itself(provider_name: str, provider_id: str, model: str, usage: dict) -> None:
    if "cache_write_tokens" in usage and data_prices_for(provider_id, model).cache_write_mtok is None:
        usage = {k: v for k, v in usage.items() if k != "cache_write_tokens"}
    want = genai_prices.calc_price(genai_prices.Usage(**usage), model, provider_id=provider_id).total_price
    price = PriceTable().lookup(provider_name, model)

    assert price is not None
    got = price.cost(
        usage["input_tokens"],
        usage["output_tokens"],
        usage.get("cache_read_tokens", 0),
        usage.get("cache_write_tokens", 0),
    )
    assert got == pytest.approx(float(want), rel=1e-9)


def data_prices_for(provider_id: str, model: str) -> Any:
    return genai_prices.calc_price(genai_prices.Usage(), model, provider_id=provider_id).model_price


# --- matching -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("provider_name", "model", "matched"),
    [
        ("openai", "gpt-4o-2024-08-06", "openai/gpt-4o"),
        ("openai", "gpt-4o-2099-01-01", "openai/gpt-4o"),  # unknown snapshot date: the alias' price
        ("openai", "openai/gpt-4o", "openai/gpt-4o"),
        (None, "gpt-4o", "openai/gpt-4o"),
        ("azure.ai.openai", "gpt-4o-2024-11-20", "azure/gpt-4o"),
        ("aws.bedrock", "amazon.titan-embed-text-v2:0", "aws/amazon.titan-embed-text-v2:0"),
        ("gcp.gemini", "models/gemini-2.5-flash", "google/gemini-2.5-flash"),
        ("gcp.vertex_ai", "publishers/google/models/gemini-2.5-pro", "google/gemini-2.5-pro"),
        ("gcp.vertex_ai", "claude-sonnet-4-5@20250929", "google/claude-sonnet-4-5"),
        ("mistral_ai", "mistral-large-latest", "mistral/mistral-large"),
        ("groq", "llama-3.3-70b-versatile", "groq/llama-3.3-70b-versatile"),
        ("x_ai", "grok-4", "x-ai/"),
        ("cohere", "command-r-plus", "cohere/command-r-plus"),
        ("openrouter", "anthropic/claude-sonnet-4.5", "openrouter/anthropic/claude-sonnet-4.5"),
        ("together_ai", "meta-llama/Llama-3.3-70B-Instruct-Turbo", "together/"),
        ("fireworks_ai", "accounts/fireworks/models/llama-v3p1-8b-instruct", "fireworks/"),
        ("Anthropic", "claude-haiku-4-5", "anthropic/claude-haiku-4-5"),  # OpenLLMetry's gen_ai.system spelling
    ],
)
def test_provider_and_model_names_are_matched(provider_name: str | None, model: str, matched: str) -> None:
    price = PriceTable().lookup(provider_name, model)

    assert price is not None and price.source == "genai-prices"
    assert price.matched.startswith(matched), price.matched


@pytest.mark.parametrize(
    ("provider_name", "model"),
    [
        ("openai", "no-such-model"),
        ("azure.ai.openai", "my-deployment"),  # a deployment name says nothing about the model
        ("ollama", "llama3"),
        ("ollama", "deepseek/deepseek-r1"),  # local model: not DeepSeek's API price
        ("vllm", "gpt-4o"),
        ("openai", ""),
    ],
)
def test_unknown_models_have_no_price(provider_name: str, model: str) -> None:
    assert PriceTable().lookup(provider_name, model) is None


def test_fallback_model_is_priced_when_the_first_is_unknown() -> None:
    price = PriceTable().lookup("azure.ai.openai", "my-deployment", fallback="gpt-4o")

    assert price is not None and price.matched == "azure/gpt-4o"


# --- the cache ------------------------------------------------------------------------


def test_genai_prices_is_consulted_once_per_model(calls: list) -> None:
    table = PriceTable()
    for _ in range(100):
        assert table.lookup("openai", "gpt-4o-2024-08-06") is not None
    assert calls == [("gpt-4o-2024-08-06", "openai")]

    table.lookup("anthropic", "claude-haiku-4-5")
    assert len(calls) == 2


def test_unknown_models_are_remembered_too(calls: list) -> None:
    table = PriceTable()
    assert table.lookup("openai", "no-such-model-2024-01-01") is None
    tried = len(calls)
    assert tried >= 1

    for _ in range(10):
        assert table.lookup("openai", "no-such-model-2024-01-01") is None
    assert len(calls) == tried


def test_cache_is_bounded_least_recently_used_first(calls: list) -> None:
    table = PriceTable(cache_size=2)
    table.lookup("openai", "gpt-4o")
    table.lookup("openai", "gpt-4o-mini")
    table.lookup("openai", "gpt-4o")  # most recent now
    table.lookup("openai", "text-embedding-3-small")  # evicts gpt-4o-mini
    assert len(calls) == 3

    table.lookup("openai", "gpt-4o")
    assert len(calls) == 3
    table.lookup("openai", "gpt-4o-mini")
    assert len(calls) == 4


def test_time_conditional_price_is_resolved_again_when_it_changes(calls: list, monkeypatch) -> None:
    # DeepSeek's price depends on the time of day: the entry expires at the next boundary.
    table = PriceTable()
    table.lookup("deepseek", "deepseek-chat")
    table.lookup("deepseek", "deepseek-chat")
    assert len(calls) == 1

    monkeypatch.setattr(table_module, "time", lambda: datetime(2100, 1, 1, tzinfo=timezone.utc).timestamp())
    table.lookup("deepseek", "deepseek-chat")
    assert len(calls) == 2


def test_clear_forgets_resolved_prices(calls: list) -> None:
    table = PriceTable()
    table.lookup("openai", "gpt-4o")
    table.clear()
    table.lookup("openai", "gpt-4o")
    assert len(calls) == 2


@pytest.mark.parametrize("size", [0, -1, 1.5, True, "10"])
def test_bad_cache_size(size: Any) -> None:
    with pytest.raises(ValueError, match="cache_size"):
        PriceTable(cache_size=size)


# --- overrides ------------------------------------------------------------------------

OVERRIDE = {"input": 1.0, "output": 2.0, "cache_read": 0.5, "cache_write": 1.5}


def test_dict_override_wins_over_genai_prices(calls: list) -> None:
    table = PriceTable(overrides={"gpt-4o": OVERRIDE})
    price = table.lookup("openai", "gpt-4o-2024-08-06")  # date suffix matches the override too

    assert price == ModelPrice(1.0, 2.0, 0.5, 1.5, source="override", matched="gpt-4o")
    assert price.cost(1000, 100, 200, 300) == pytest.approx((500 * 1.0 + 200 * 0.5 + 300 * 1.5 + 100 * 2.0) / M)
    assert calls == []


def test_provider_scoped_override() -> None:
    table = PriceTable(overrides={"azure.ai.openai/my-deployment": {"input": 3, "output": 4}})

    assert table.lookup("azure.ai.openai", "my-deployment") == ModelPrice(
        3.0, 4.0, matched="azure.ai.openai/my-deployment"
    )
    assert table.lookup("openai", "my-deployment") is None


def test_override_of_the_fallback_wins_over_genai_prices_for_the_model() -> None:
    # Azure: the request names the deployment, the response the model behind it.
    table = PriceTable(overrides={"azure.ai.openai/my-deployment": {"input": 3, "output": 4}})
    price = table.lookup("azure.ai.openai", "gpt-4o-2024-08-06", fallback="my-deployment")

    assert price is not None and price.source == "override"


def test_override_defaults_cache_and_reasoning_to_input_and_output() -> None:
    price = PriceTable(overrides={"m": {"input": 1, "output": 10}}).lookup("p", "m")

    assert price is not None
    assert price.cost(1000, 100, cache_read=500, cache_write=100, reasoning=50) == pytest.approx(
        (1000 * 1 + 100 * 10) / M
    )


def test_json_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"My-Model": {"input": 1, "output": 2}}))

    price = PriceTable(overrides=path).lookup(None, "my-model")
    assert price is not None and (price.input, price.output) == (1.0, 2.0)
    assert PriceTable(overrides=str(path)).lookup(None, "my-model") == price


def test_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text('["my-model"]\ninput = 1\noutput = 2.5\n\n["openai/gpt-4o"]\ninput = 9\noutput = 9\n')
    table = PriceTable(overrides=path)

    assert table.lookup("x", "my-model") == ModelPrice(1.0, 2.5, matched="my-model")
    assert table.lookup("openai", "gpt-4o") == ModelPrice(9.0, 9.0, matched="openai/gpt-4o")


def test_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "prices.json"
    path.write_text(json.dumps({"my-model": {"input": 1, "output": 2}}))
    monkeypatch.setenv(PRICES_ENV, str(path))

    assert PriceTable().lookup(None, "my-model") is not None
    # An explicit argument replaces the environment variable.
    assert PriceTable(overrides={"other": {"input": 1, "output": 1}}).lookup(None, "my-model") is None


BAD_FILES = [
    ("prices.json", "{not json", "not valid JSON"),
    ("prices.toml", "[oops\n", "not valid TOML"),
    ("prices.yaml", "gpt-4o: {}", r"must be a \.json or \.toml file"),
    ("prices.json", "[1, 2]", "expected a table of model prices"),
    ("prices.json", '{"m": {"input": 1}}', r"'m': missing \['output'\]"),
    ("prices.json", '{"m": {"input": 1, "output": 1, "audio": 3}}', r"unknown price field\(s\) \['audio'\]"),
    ("prices.json", '{"m": {"input": -1, "output": 1}}', r"'m'.input: expected a non-negative number"),
    ("prices.json", '{"m": {"input": true, "output": 1}}', r"'m'.input: expected a non-negative number"),
    ("prices.json", '{"m": {"input": "1", "output": 1}}', r"'m'.input: expected a non-negative number"),
    ("prices.json", '{"m": 2.5}', r"'m': expected a table like"),
    ("prices.json", '{"": {"input": 1, "output": 1}}', "model names must be non-empty strings"),
]


@pytest.mark.parametrize(("name", "content", "problem"), BAD_FILES, ids=[b[2][:30] for b in BAD_FILES])
def test_bad_file_is_a_clear_error(tmp_path: Path, name: str, content: str, problem: str) -> None:
    path = tmp_path / name
    path.write_text(content)

    with pytest.raises(ValueError, match=problem) as raised:
        PriceTable(overrides=path)
    assert str(path) in str(raised.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(ValueError, match="cannot read price overrides") as raised:
        PriceTable(overrides=path)
    assert str(path) in str(raised.value)


def test_bad_file_named_by_the_environment_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "prices.json"
    path.write_text("{")
    monkeypatch.setenv(PRICES_ENV, str(path))

    with pytest.raises(ValueError, match=rf"{PRICES_ENV}=.*prices\.json: not valid JSON"):
        PriceTable()


def test_bad_dict_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"prices: 'm': missing \['output'\]"):
        PriceTable(overrides={"m": {"input": 1}})
    with pytest.raises(ValueError, match="expected a dict of model prices or the path"):
        PriceTable(overrides=42)  # type: ignore[arg-type]


def test_toml_without_tomllib_or_tomli_says_so(tmp_path: Path, monkeypatch) -> None:
    # What Python 3.10 without the tomli package sees.
    monkeypatch.setitem(sys.modules, "tomllib", None)
    monkeypatch.setitem(sys.modules, "tomli", None)
    path = tmp_path / "prices.toml"
    path.write_text('["m"]\ninput = 1\noutput = 1\n')

    with pytest.raises(ValueError, match=r"needs Python 3\.11\+ or the 'tomli' package; use a \.json file"):
        PriceTable(overrides=path)


# --- without genai-prices -------------------------------------------------------------


def test_without_genai_prices_only_overrides_price(monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "genai_prices", None)  # import genai_prices -> ImportError
    caplog.set_level(logging.DEBUG, logger="wikitrace_otel.pricing")
    table = PriceTable(overrides={"my-model": {"input": 1, "output": 1}})

    assert table.lookup("openai", "gpt-4o") is None
    assert table.lookup("openai", "gpt-4o-mini") is None
    assert table.lookup("openai", "my-model") is not None
    assert table.preload() is False
    assert [r.message for r in caplog.records].count(
        "genai-prices is not installed (it needs Python 3.11+); only overrides are priced"
    ) == 1


def test_preload() -> None:
    assert PriceTable().preload() is True


# --- ModelPrice arithmetic ------------------------------------------------------------


def test_cost_arithmetic() -> None:
    price = ModelPrice(input=2.0, output=8.0, cache_read=0.5, cache_write=2.5, reasoning=4.0, per_request=0.001)

    assert price.cost() == pytest.approx(0.001)
    assert price.cost(1000, 500, cache_read=300, cache_write=200, reasoning=100) == pytest.approx(
        (500 * 2.0 + 300 * 0.5 + 200 * 2.5 + 400 * 8.0 + 100 * 4.0) / M + 0.001
    )


def test_input_that_leaves_out_the_cache_is_charged_in_full() -> None:
    # Anthropic's raw input_tokens excludes the cache; more cached than input can only mean that.
    price = ModelPrice(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)

    assert price.cost(100, 0, cache_read=5000, cache_write=1000) == pytest.approx(
        (100 * 3.0 + 5000 * 0.3 + 1000 * 3.75) / M
    )
    # ...and the tier is chosen by the whole input, cached tokens included.
    tiered = ModelPrice(input=1.0, output=1.0, tiers=((1000, ModelPrice(input=2.0, output=2.0)),))
    assert tiered.cost(100, 0, cache_read=5000) == pytest.approx((100 * 2.0 + 5000 * 2.0) / M)


def test_output_that_leaves_out_reasoning_is_charged_in_full() -> None:
    price = ModelPrice(input=0.0, output=10.0, reasoning=1.0)

    assert price.cost(0, 100, reasoning=400) == pytest.approx((100 * 10.0 + 400 * 1.0) / M)
