"""Fixtures for the Google Gen AI SDK tests: a fake Gemini server, the instrumentor wired to the
in-memory providers of ``tests/conftest.py``, sync and async clients, and a span-end counter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from gemini_support import GeminiSdk, close_client, make_client

from sdk_support import EndCounter, fake_server_fixtures, install_end_counter, instrument_fixture
from wikitrace_otel.instrumentors.google_genai import GoogleGenAIInstrumentor
from wikitrace_otel.testing.fake_gemini import FakeGeminiServer, running_server

pytest.importorskip("google.genai")

_HERE = Path(__file__).parent
# With aiohttp installed, the SDK's async side uses it, by subclassing aiohttp's ClientSession,
# which aiohttp itself warns about: an SDK matter, not ours.
_AIOHTTP_SUBCLASS = pytest.mark.filterwarnings("ignore:Inheritance class AiohttpClientSession:DeprecationWarning")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(_AIOHTTP_SUBCLASS)


fake_gemini_session, fake_gemini = fake_server_fixtures("fake_gemini", running_server)
instrument_gemini = instrument_fixture("instrument_gemini", GoogleGenAIInstrumentor)


@pytest.fixture
def instrumented(instrument_gemini: Callable[..., GoogleGenAIInstrumentor]) -> GoogleGenAIInstrumentor:
    return instrument_gemini()


@pytest.fixture
async def gemini_client(fake_gemini: FakeGeminiServer) -> AsyncIterator[Any]:
    client = make_client(fake_gemini)
    yield client
    await close_client(client)


@pytest.fixture(params=["sync", "async"])
def sdk(request: pytest.FixtureRequest, gemini_client: Any) -> GeminiSdk:
    return GeminiSdk(gemini_client, request.param == "async")


@pytest.fixture
def ends(tracer_provider: Any, caplog: pytest.LogCaptureFixture) -> EndCounter:
    return install_end_counter(tracer_provider, caplog)
