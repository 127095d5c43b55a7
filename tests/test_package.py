"""The package's public surface: exports, version, the names in ``semconv``, the command line
and the entry points."""

from __future__ import annotations

import ast
import itertools
import re
import subprocess
import sys
from importlib.metadata import entry_points, version
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import wikitrace_otel
from wikitrace_otel import cli, environment_variables, semconv
from wikitrace_otel.semconv import gen_ai, metrics, wikitrace

SRC = Path(wikitrace_otel.__file__).parent


def constants(module: ModuleType) -> dict[str, Any]:
    """Public upper-case module-level names (enum classes are CamelCase and left out)."""
    return {name: value for name, value in vars(module).items() if name.isupper() and not name.startswith("_")}


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wikitrace_otel", *args], capture_output=True, text=True, timeout=60, check=False
    )


# --- exports and version --------------------------------------------------------------


def test_exported_names() -> None:
    assert wikitrace_otel.__all__ == [
        "Budget",
        "BudgetExceeded",
        "BudgetRule",
        "BudgetWarning",
        "Installation",
        "ModelCall",
        "Session",
        "__version__",
        "agent",
        "budget",
        "budget_check",
        "budget_remaining",
        "clear_session",
        "close_model_call",
        "current_cost",
        "current_session",
        "install",
        "model_call",
        "open_model_call",
        "retrieval",
        "session",
        "session_reset",
        "set_session",
        "span",
        "tool",
        "tool_call_id",
        "trace",
        "workflow",
    ]
    assert sorted(wikitrace_otel.__all__) == wikitrace_otel.__all__
    for name in wikitrace_otel.__all__:
        assert hasattr(wikitrace_otel, name)


def test_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.dev\d+)?", wikitrace_otel.__version__)
    assert wikitrace_otel.__version__ == version("wikitrace-otel")


# --- semconv --------------------------------------------------------------------------


@pytest.mark.parametrize("module", [gen_ai, wikitrace, metrics], ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_constants_are_strings_or_bucket_tuples(module) -> None:
    found = constants(module)
    assert found
    for name, value in found.items():
        if name.endswith("_BUCKETS"):
            assert isinstance(value, tuple), name
            assert all(isinstance(v, (int, float)) for v in value), name
            assert list(value) == sorted(set(value)), f"{name} is not strictly increasing"
        else:
            assert isinstance(value, str), name
            assert value == value.strip(), name
            assert value, name


def test_attribute_and_event_names_are_unique() -> None:
    names = [v for module in (gen_ai, wikitrace) for v in constants(module).values()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_metric_names_are_unique() -> None:
    names = [v for k, v in constants(metrics).items() if not k.startswith("UNIT_") and not k.endswith("_BUCKETS")]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("module", [gen_ai, wikitrace], ids=["gen_ai", "wikitrace"])
def test_attribute_constant_names_spell_their_value(module) -> None:
    # GEN_AI_USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens": a typo in either shows up here.
    odd = {
        name: value
        for name, value in constants(module).items()
        if not name.startswith("EVENT_") and not name.endswith("_PREFIX") and name != value.upper().replace(".", "_")
    }
    assert odd == {}


def test_schema_url_and_commit() -> None:
    assert semconv.SCHEMA_URL == "https://opentelemetry.io/schemas/gen-ai-dev/1.42.0-dev"
    assert semconv.SEMCONV_COMMIT == "6fd0d763a092db245a54104fc1124031eb3c51d2"
    assert sorted(semconv.__all__) == ["SCHEMA_URL", "SEMCONV_COMMIT"]


def test_buckets_are_those_of_the_conventions() -> None:
    assert metrics.DURATION_BUCKETS == (
        0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
    )  # fmt: skip
    assert metrics.TOKEN_BUCKETS == (
        1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
    )  # fmt: skip


def test_metric_names_are_those_of_the_conventions() -> None:
    names = {v for k, v in constants(metrics).items() if not k.startswith("UNIT_") and not k.endswith("_BUCKETS")}
    assert names == {
        "gen_ai.client.inference.duration",
        "gen_ai.client.operation.duration",
        "gen_ai.client.inference.time_to_first_chunk",
        "gen_ai.client.inference.time_per_output_chunk",
        "gen_ai.client.inference.usage.input_tokens",
        "gen_ai.client.inference.usage.output_tokens",
        "gen_ai.client.inference.usage.cache_read.input_tokens",
        "gen_ai.client.inference.usage.cache_write.input_tokens",
        "gen_ai.client.inference.usage.reasoning.output_tokens",
        "gen_ai.client.inference.operation.input_tokens",
        "gen_ai.client.inference.operation.output_tokens",
        "gen_ai.client.operation.cost",
        "gen_ai.client.token.usage",
        "wikitrace.metrics.dropped",
    }
    assert (metrics.UNIT_SECONDS, metrics.UNIT_TOKENS, metrics.UNIT_USD) == ("s", "{token}", "{USD}")


def test_well_known_values() -> None:
    assert {p.value for p in gen_ai.Provider} == {
        "openai", "anthropic", "aws.bedrock", "azure.ai.openai", "azure.ai.inference", "gcp.gemini",
        "gcp.vertex_ai", "gcp.gen_ai", "mistral_ai", "cohere", "groq", "deepseek", "perplexity", "x_ai",
        "ibm.watsonx.ai", "moonshot_ai",
    }  # fmt: skip
    assert {o.value for o in gen_ai.Operation} == {
        "chat", "text_completion", "generate_content", "embeddings", "retrieval", "execute_tool",
        "invoke_agent", "invoke_workflow", "fetch_response", "rerank",
    }  # fmt: skip
    assert {t.value for t in gen_ai.OutputType} == {"text", "json", "image", "speech"}
    assert {t.value for t in gen_ai.OpenAIApiType} == {"chat_completions", "responses"}


def test_no_scattered_attribute_literals() -> None:
    # Every gen_ai.* / openai.* name used outside semconv/ must come from a semconv constant.
    scattered = []
    for path in SRC.rglob("*.py"):
        if "semconv" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and " " not in node.value
                and node.value.startswith(("gen_ai.", "openai.api.", "openai.request.", "openai.response."))
            ):
                scattered.append(f"{path.relative_to(SRC)}:{node.lineno} {node.value}")
    assert scattered == []


# --- command line ---------------------------------------------------------------------


def test_cli_version() -> None:
    done = run_cli("--version")

    assert (done.returncode, done.stdout, done.stderr) == (0, f"wikitrace-otel {wikitrace_otel.__version__}\n", "")


@pytest.mark.parametrize("args", [["--help"], ["-h"], []], ids=["--help", "-h", "no-args"])
def test_cli_help(args) -> None:
    done = run_cli(*args)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: wikitrace-otel")
    assert "OpenTelemetry-native instrumentation for LLM applications" in done.stdout
    assert "--version" in done.stdout
    assert done.stderr == ""


def test_cli_unknown_argument() -> None:
    done = run_cli("--bogus")

    assert done.returncode == 2
    assert done.stdout == ""
    assert "unrecognized arguments: --bogus" in done.stderr


def test_main_in_process(capsys) -> None:
    assert cli.main([]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: wikitrace-otel")
    assert err == ""

    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"wikitrace-otel {wikitrace_otel.__version__}\n"

    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    assert "usage: wikitrace-otel" in capsys.readouterr().out


def test_console_script_entry_point() -> None:
    (script,) = entry_points(group="console_scripts", name="wikitrace-otel")

    assert script.load() is cli.main


# --- environment variables ------------------------------------------------------------


def test_environment_variables_entry_point() -> None:
    (entry_point,) = entry_points(group="opentelemetry_environment_variables", name="wikitrace_otel")

    assert entry_point.value == "wikitrace_otel.environment_variables"
    assert entry_point.load() is environment_variables


def test_environment_variable_constants() -> None:
    found = constants(environment_variables)
    assert set(found) == {
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        "WIKITRACE_GENAI_MAX_CONTENT_SIZE",
        "WIKITRACE_SEMCONV_LEGACY",
        "WIKITRACE_OPENAI_INCLUDE_USAGE",
        "WIKITRACE_GENAI_PROVIDER_HOSTS",
        "WIKITRACE_RAISE_INTERNAL_ERRORS",
        "WIKITRACE_DIR",
        "WIKITRACE_PRICES",
        "WIKITRACE_SLACK_WEBHOOK",
        "WIKITRACE_ALERT_WEBHOOK",
        "WIKITRACE_ALERT_SECRET",
    }
    assert all(name == value for name, value in found.items())


def test_every_environment_variable_is_documented() -> None:
    # A constant followed by a string expression: its attribute docstring.
    body = ast.parse(Path(environment_variables.__file__).read_text(encoding="utf-8")).body
    documented = set()
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and after.value.value.strip()
        ):
            documented.add(node.target.id)
    assert documented == set(constants(environment_variables))
