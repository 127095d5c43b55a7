"""Fixtures for the Mistral SDK tests: a fake Mistral server, the instrumentor wired to the
in-memory providers of ``tests/conftest.py``, a client used sync or async, and a span-end counter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("mistralai")

from mistral_support import EndCounter, MistralSdk, mistral_class

from wikitrace_otel.instrumentors.mistral import MistralInstrumentor
from wikitrace_otel.testing.fake_mistral import FakeMistralServer, running_server


@pytest.fixture(scope="session")
def fake_mistral_session() -> Iterator[FakeMistralServer]:
    yield from running_server()


@pytest.fixture
def fake_mistral(fake_mistral_session: FakeMistralServer) -> FakeMistralServer:
    fake_mistral_session.reset()
    return fake_mistral_session


@pytest.fixture
def instrument_mistral(
    tracer_provider: Any, meter_provider: Any, logger_provider: Any
) -> Iterator[Callable[..., MistralInstrumentor]]:
    """Instrument the SDK with the test providers; keyword arguments go to ``instrument()``."""
    instrumentors: list[MistralInstrumentor] = []

    def _instrument(**kwargs: Any) -> MistralInstrumentor:
        instrumentor = MistralInstrumentor()
        instrumentor.instrument(
            tracer_provider=tracer_provider, meter_provider=meter_provider, logger_provider=logger_provider, **kwargs
        )
        instrumentors.append(instrumentor)
        return instrumentor

    yield _instrument
    for instrumentor in instrumentors:
        instrumentor.uninstrument()


@pytest.fixture
def instrumented(instrument_mistral: Callable[..., MistralInstrumentor]) -> MistralInstrumentor:
    return instrument_mistral()


@pytest.fixture
async def mistral_client(fake_mistral: FakeMistralServer) -> Any:
    client = mistral_class()(api_key="test-key", server_url=fake_mistral.base_url)
    yield client
    # Close both HTTP clients here: left to the SDK's finalizer, sockets leak past the test.
    client.__exit__(None, None, None)
    await client.__aexit__(None, None, None)


@pytest.fixture(params=["sync", "async"])
def sdk(request: pytest.FixtureRequest, mistral_client: Any) -> MistralSdk:
    return MistralSdk(mistral_client, request.param == "async")


@pytest.fixture
def ends(tracer_provider: Any, caplog: pytest.LogCaptureFixture) -> EndCounter:
    counter = EndCounter(caplog)
    tracer_provider.add_span_processor(counter)
    return counter
