"""Helpers of the Cohere SDK tests: a sync/async driver and common names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sdk_support import GeneratorSdkDriver

MODEL = "command-a-fake"
EMBED_MODEL = "embed-v4.0"
RERANK_MODEL = "rerank-v3.5"
USER = [{"role": "user", "content": "Hello"}]
SCOPE = "wikitrace_otel.instrumentors.cohere"


class CohereSdk(GeneratorSdkDriver):
    """A ``ClientV2`` or ``AsyncClientV2`` behind one awaitable interface."""

    def __init__(self, make_client: Callable[[bool], Any], is_async: bool) -> None:
        self._make_client = make_client
        super().__init__(None, is_async)

    @property
    def client(self) -> Any:
        """The client, created on first use (after the test instrumented the SDK)."""
        if self._client is None:
            self._client = self._make_client(self.is_async)
        return self._client

    @client.setter
    def client(self, value: Any) -> None:
        self._client = value

    def stream(self, **kwargs: Any) -> Any:
        """``client.chat_stream(**kwargs)``: a generator, or an async generator (never awaited)."""
        return self.client.chat_stream(**kwargs)
