"""Fixtures for the Bedrock tests: the instrumentor wired to the in-memory providers of
``tests/conftest.py``, real boto3 clients (stubbed with botocore's ``Stubber``, or pointed at
the fake Bedrock server for event streams), real aiobotocore clients pointed at the fake
server, and a span-end counter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("boto3")

from bedrock_support import aio_client, client

from sdk_support import EndCounter, fake_server_fixtures, install_end_counter, instrument_fixture
from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor
from wikitrace_otel.testing.fake_bedrock import FakeBedrockServer, running_server

fake_bedrock_session, fake_bedrock = fake_server_fixtures("fake_bedrock", running_server)
instrument_bedrock = instrument_fixture("instrument_bedrock", BedrockInstrumentor)


@pytest.fixture
def instrumented(instrument_bedrock: Callable[..., BedrockInstrumentor]) -> BedrockInstrumentor:
    return instrument_bedrock()


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Any]]:
    """``(client, stubber)``: a client whose calls the Stubber answers; all answers must be used."""
    from botocore.stub import Stubber

    bedrock = client()
    with Stubber(bedrock) as stubber:
        yield bedrock, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def live(fake_bedrock: FakeBedrockServer) -> Any:
    """A client talking HTTP to the fake server."""
    return client(fake_bedrock.endpoint_url)


@pytest.fixture
async def aio_live(fake_bedrock: FakeBedrockServer) -> AsyncIterator[Any]:
    """An aiobotocore client talking HTTP to the fake server (tests using it skip without aiobotocore)."""
    pytest.importorskip("aiobotocore", reason="aiobotocore is not installed: async Bedrock clients untested")
    async with aio_client(fake_bedrock.endpoint_url) as bedrock:
        yield bedrock


@pytest.fixture
def ends(tracer_provider: Any, caplog: pytest.LogCaptureFixture) -> EndCounter:
    return install_end_counter(tracer_provider, caplog)
