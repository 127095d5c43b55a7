"""Fixtures for the Mistral SDK tests: a fake Mistral server, the instrumentor wired to the
in-memory providers of ``tests/conftest.py``, a client used sync or async, and a span-end counter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("mistralai")

from mistral_support import MistralSdk, mistral_class

from sdk_support import EndCounter, fake_server_fixtures, install_end_counter, instrument_fixture
from wikitrace_otel.instrumentors.mistral import MistralInstrumentor
from wikitrace_otel.testing.fake_mistral import FakeMistralServer, running_server

fake_mistral_session, fake_mistral = fake_server_fixtures("fake_mistral", running_server)
instrument_mistral = instrument_fixture("instrument_mistral", MistralInstrumentor)


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
    return install_end_counter(tracer_provider, caplog)
