"""Fixtures shared by the OpenAI SDK tests: a sync/async driver and a span-end counter."""

from __future__ import annotations

from typing import Any

import pytest
from stream_support import Sdk

from sdk_support import EndCounter, install_end_counter


@pytest.fixture(params=["sync", "async"])
def sdk(request: pytest.FixtureRequest) -> Sdk:
    # Only the client the test needs: building one costs ~0.1 s.
    is_async = request.param == "async"
    return Sdk(request.getfixturevalue("async_client" if is_async else "client"), is_async)


@pytest.fixture
def ends(tracer_provider: Any, caplog: pytest.LogCaptureFixture) -> EndCounter:
    return install_end_counter(tracer_provider, caplog)
