"""Fixtures for the Cohere SDK tests: a fake Cohere v2 server, the instrumentor wired to the
in-memory providers of ``tests/conftest.py``, sync and async clients, and a span-end counter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from cohere_support import CohereSdk

from sdk_support import EndCounter, fake_server_fixtures, install_end_counter, instrument_fixture
from wikitrace_otel.instrumentors.cohere import CohereInstrumentor
from wikitrace_otel.testing.fake_cohere import FakeCohereServer, running_server

pytest.importorskip("cohere")


fake_cohere_session, fake_cohere = fake_server_fixtures("fake_cohere", running_server)
instrument_cohere = instrument_fixture("instrument_cohere", CohereInstrumentor)


@pytest.fixture
def instrumented(instrument_cohere: Callable[..., CohereInstrumentor]) -> CohereInstrumentor:
    return instrument_cohere()


@pytest.fixture
async def make_client(fake_cohere: FakeCohereServer) -> AsyncIterator[Callable[[bool], Any]]:
    """``make_client(is_async)``: a ``ClientV2`` / ``AsyncClientV2`` on the fake server.

    Clients are made on demand, so a test decides whether its client exists before
    instrumenting (the SDK copies ``chat`` onto each client when it is created). Each client gets
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
    return install_end_counter(tracer_provider, caplog)
