"""Fixtures for the Bedrock tests: the instrumentor wired to the in-memory providers of
``tests/conftest.py``, real boto3 clients (stubbed with botocore's ``Stubber``, or pointed at
the fake Bedrock server for event streams), and a span-end counter.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("boto3")

from bedrock_support import EndCounter, client

from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor
from wikitrace_otel.testing.fake_bedrock import FakeBedrockServer, running_server


@pytest.fixture(scope="session")
def fake_bedrock_session() -> Iterator[FakeBedrockServer]:
    yield from running_server()


@pytest.fixture
def fake_bedrock(fake_bedrock_session: FakeBedrockServer) -> FakeBedrockServer:
    fake_bedrock_session.reset()
    return fake_bedrock_session


@pytest.fixture
def instrument_bedrock(
    tracer_provider: Any, meter_provider: Any, logger_provider: Any
) -> Iterator[Callable[..., BedrockInstrumentor]]:
    """Instrument botocore with the test providers; keyword arguments go to ``instrument()``."""
    instrumentors: list[BedrockInstrumentor] = []

    def _instrument(**kwargs: Any) -> BedrockInstrumentor:
        instrumentor = BedrockInstrumentor()
        instrumentor.instrument(
            tracer_provider=tracer_provider, meter_provider=meter_provider, logger_provider=logger_provider, **kwargs
        )
        instrumentors.append(instrumentor)
        return instrumentor

    yield _instrument
    for instrumentor in instrumentors:
        instrumentor.uninstrument()


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
def ends(tracer_provider: Any, caplog: pytest.LogCaptureFixture) -> EndCounter:
    counter = EndCounter(caplog)
    tracer_provider.add_span_processor(counter)
    return counter
