"""Fixtures for the LiteLLM tests: LiteLLM imported once per session (it takes seconds), the
LiteLLM instrumentor wired to the in-memory providers of ``tests/conftest.py``, a fake Anthropic
server for the providers LiteLLM calls with its own HTTP code, and a span-end counter.

LiteLLM runs for real: ``openai/...`` models through the real OpenAI SDK against the fake OpenAI
server, ``anthropic/...`` models through LiteLLM's own HTTP client against the fake Anthropic one.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from litellm_support import Driver

from sdk_support import EndCounter, fake_server_fixtures, install_end_counter, instrumenting
from wikitrace_otel.instrumentors.litellm import LiteLLMInstrumentor
from wikitrace_otel.testing.fake_anthropic import running_server

pytest.importorskip("litellm")


@pytest.fixture(scope="session")
def litellm_module() -> Any:
    # LiteLLM fetches its model price map from the network on import unless told not to.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True  # no "Give Feedback" banner on errors
    return litellm


fake_anthropic_session, fake_anthropic = fake_server_fixtures("fake_anthropic", running_server)


@pytest.fixture
def instrument_litellm(
    litellm_module: Any, tracer_provider: Any, meter_provider: Any, logger_provider: Any
) -> Iterator[Callable[..., LiteLLMInstrumentor]]:
    """Instrument LiteLLM with the test providers; keyword arguments go to ``instrument()``."""
    yield from instrumenting(LiteLLMInstrumentor, tracer_provider, meter_provider, logger_provider)


@pytest.fixture
def litellm_only(instrument_litellm: Callable[..., LiteLLMInstrumentor]) -> LiteLLMInstrumentor:
    """LiteLLM instrumented, the OpenAI SDK not."""
    return instrument_litellm()


@pytest.fixture
def both(instrument_litellm: Callable[..., LiteLLMInstrumentor], instrument: Callable[..., Any]) -> None:
    """LiteLLM and the OpenAI SDK instrumented."""
    instrument_litellm()
    instrument()


@pytest.fixture(params=["sync", "async"])
def llm(request: pytest.FixtureRequest, litellm_module: Any) -> Driver:
    return Driver(litellm_module, request.param == "async")


@pytest.fixture
def ends(tracer_provider: Any, caplog: pytest.LogCaptureFixture) -> EndCounter:
    return install_end_counter(tracer_provider, caplog)


@pytest.fixture(autouse=True)
async def litellm_logging_worker(litellm_module: Any) -> Any:
    """LiteLLM queues its own success logging on a worker bound to the running event loop; run
    what is queued and stop the worker before the test's loop closes, or the queued coroutines
    are reported as never awaited."""
    # LiteLLM keeps the SDK clients it builds. A client whose ``with_raw_response`` was built
    # while the OpenAI SDK was instrumented keeps tracing after uninstrument (see
    # test_openai_uninstrument.py), so each test starts with new clients.
    yield
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    for _ in range(3):  # let the tasks LiteLLM scheduled on return enqueue their work
        await asyncio.sleep(0)
    await asyncio.wait_for(GLOBAL_LOGGING_WORKER.flush(), timeout=10)
    await GLOBAL_LOGGING_WORKER.stop()
    await _close_clients(litellm_module.in_memory_llm_clients_cache)


async def _close_clients(cache: Any) -> None:
    """Close and forget the SDK and HTTP clients LiteLLM cached during the test."""
    for client in list(cache.cache_dict.values()):
        close = getattr(client, "close", None)
        if callable(close):
            result = close()
            if inspect.isawaitable(result):
                await result
    cache.flush_cache()


# Warnings LiteLLM itself raises with the pydantic releases we test; every other warning still fails.
_LITELLM_WARNINGS = (
    "ignore:Accessing the 'model_(computed_)?fields' attribute on the instance is deprecated",
    "ignore:The `dict` method is deprecated; use `model_dump` instead",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            for spec in _LITELLM_WARNINGS:
                item.add_marker(pytest.mark.filterwarnings(spec))
