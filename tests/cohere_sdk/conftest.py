"""Fixtures for the Cohere SDK tests: a fake Cohere v2 server, the instrumentor wired to the
in-memory providers of ``tests/conftest.py``, sync and async clients, and a span-end counter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from cohere_support import CohereSdk, EndCounter

from wikitrace_otel.instrumentors.cohere import CohereInstrumentor
from wikitrace_otel.testing.fake_cohere import FakeCohereServer, running_server

pytest.importorskip("cohere")


@pytest.fixture(scope="session")
def fake_cohere_session() -> Iterator[FakeCohereServer]:
    yield from running_server()


@pytest.fixture
def fake_cohere(fake_cohere_session: FakeCohereServer) -> FakeCohereServer:
    fake_cohere_session.reset()
    return fake_cohere_session


@pytest.fixture
def instrument_cohere(
    tracer_provider: Any, meter_provider: Any, logger_provider: Any
) -> Iterator[Callable[..., CohereInstrumentor]]:
    """Instrument the SDK with the test providers; keyword arguments go to ``instrument()``."""
    instrumentors: list[CohereInstrumentor] = []

    def _instrument(**kwargs: Any) -> CohereInstrumentor:
        instrumentor = CohereInstrumentor()
        instrumentor.instrument(
            tracer_provider=tracer_provider, meter_provider=meter_provider, logger_provider=logger_provider, **kwargs
        )
        instrumentors.append(instrumentor)
        return instrumentor

    yield _instrument
    for instrumentor in instrumentors:
        instrumentor.uninstrument()


@pytest.fixture
def instrumented(instrument_cohere: Callable[..., CohereInstrumentor]) -> CohereInstrumentor:
    return instrument_cohere()


@pytest.fixture
async def make_client(fake_cohere: FakeCohereServer) -> AsyncIterator[Callable[[bool], Any]]:
    """``make_client(is_async)``: a ``ClientV2`` / ``AsyncClientV2`` on the fake server.

    Clients are made on demand because the SDK copies ``chat`` onto each client when it is
    created: a test that instruments first must create its client afterwards. Each client gets
    its own HTTP client, closed here (the SDK's default one is left to the garbage collector).
    """
    import cohere
    import httpx

    opened: list[Any] = []

    def make(is_async: bool) -> Any:
        http = httpx.AsyncClient() if is_async else httpx.Client()
        opened.append(http)
        cls = cohere.AsyncClientV2 if is_async else cohere.ClientV2
        return cls(api_key="co-test", base_url=fake_cohere.base_url, httpx_client=http)

    yield make
    for http in opened:
        await http.aclose() if isinstance(http, httpx.AsyncClient) else http.close()


@pytest.fixture(params=["sync", "async"])
def sdk(request: pytest.FixtureRequest, make_client: Callable[[bool], Any]) -> CohereSdk:
    return CohereSdk(make_client, request.param == "async")


@pytest.fixture
def ends(tracer_provider: Any, caplog: pytest.LogCaptureFixture) -> EndCounter:
    counter = EndCounter(caplog)
    tracer_provider.add_span_processor(counter)
    return counter
