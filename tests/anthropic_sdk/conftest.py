"""Fixtures for the Anthropic SDK tests: a fake Anthropic server, the instrumentor wired to the
in-memory providers of ``tests/conftest.py``, sync and async clients, and a span-end counter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from anthropic_support import AnthropicSdk

from sdk_support import EndCounter, fake_server_fixtures, install_end_counter, instrument_fixture
from wikitrace_otel.instrumentors.anthropic import AnthropicInstrumentor
from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, running_server

pytest.importorskip("anthropic")


fake_anthropic_session, fake_anthropic = fake_server_fixtures("fake_anthropic", running_server)
instrument_anthropic = instrument_fixture("instrument_anthropic", AnthropicInstrumentor)


@pytest.fixture
def instrumented(instrument_anthropic: Callable[..., AnthropicInstrumentor]) -> AnthropicInstrumentor:
    return instrument_anthropic()


@pytest.fixture
def anthropic_client(fake_anthropic: FakeAnthropicServer) -> Iterator[Any]:
    import anthropic

    with anthropic.Anthropic(api_key="sk-ant-test", base_url=fake_anthropic.base_url, max_retries=0) as client:
        yield client


@pytest.fixture
async def anthropic_async_client(fake_anthropic: FakeAnthropicServer) -> Any:
    import anthropic

    client = anthropic.AsyncAnthropic(api_key="sk-ant-test", base_url=fake_anthropic.base_url, max_retries=0)
    yield client
    await client.close()


@pytest.fixture(params=["sync", "async"])
def sdk(request: pytest.FixtureRequest) -> AnthropicSdk:
    is_async = request.param == "async"
    client = request.getfixturevalue("anthropic_async_client" if is_async else "anthropic_client")
    return AnthropicSdk(client, is_async)


@pytest.fixture
def ends(tracer_provider: Any, caplog: pytest.LogCaptureFixture) -> EndCounter:
    return install_end_counter(tracer_provider, caplog)
