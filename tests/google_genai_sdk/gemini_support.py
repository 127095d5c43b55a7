"""Helpers of the Google Gen AI SDK tests: a sync/async driver, common payloads, clients."""

from __future__ import annotations

from typing import Any

from sdk_support import GeneratorSdkDriver
from wikitrace_otel.testing.fake_gemini import FakeGeminiServer, payloads

MODEL = "gemini-fake-1"
SCOPE = "wikitrace_otel.instrumentors.google_genai"


def rich_response() -> dict[str, Any]:
    """An answer with a thought, text and a function call; usage with cache and thought tokens."""
    return payloads.response(
        MODEL,
        [
            payloads.candidate(
                [
                    payloads.thought_part("Weather needs a tool."),
                    payloads.text_part("Let me check the weather."),
                    payloads.function_call_part("get_weather", {"city": "Paris"}, call_id="call_1"),
                ],
                "STOP",
            )
        ],
        usage_body=payloads.usage(120, 40, cached=100, thoughts=12),
        response_id="resp_rich",
    )


def rich_attributes(response_id: str | None = "resp_rich") -> dict[str, Any]:
    """The response attributes :func:`rich_response` gives a span (older SDKs drop the
    response id of the Gemini API: pass what the SDK returned)."""
    found = {
        "gen_ai.response.id": response_id,
        "gen_ai.response.model": MODEL,
        "gen_ai.response.finish_reasons": ["stop"],
        "gen_ai.usage.input_tokens": 120,
        "gen_ai.usage.cache_read.input_tokens": 100,
        "gen_ai.usage.output_tokens": 52,
        "gen_ai.usage.reasoning.output_tokens": 12,
    }
    return {k: v for k, v in found.items() if v is not None}


class GeminiSdk(GeneratorSdkDriver):
    """``client.models`` or ``client.aio.models`` behind one awaitable interface (streams
    included: the async ``generate_content_stream`` is awaited too)."""

    def __init__(self, client: Any, is_async: bool) -> None:
        super().__init__(client, is_async)
        self.models = client.aio.models if is_async else client.models

    def target(self) -> Any:
        """``client.models`` or ``client.aio.models``."""
        return self.models


def make_client(server: FakeGeminiServer, vertexai: bool = False) -> Any:
    """A client of the fake server: Gemini Developer API mode, or Vertex AI express mode (API key)."""
    from google import genai

    options = {"base_url": server.base_url}
    if vertexai:
        return genai.Client(vertexai=True, api_key="test-key", http_options=options)
    return genai.Client(api_key="test-key", http_options=options)


async def close_client(client: Any) -> None:
    """Close both sides of a client where the SDK can (newer releases)."""
    aclose = getattr(client.aio, "aclose", None)
    if aclose is not None:
        await aclose()
    else:  # older releases offer no close: shut their async HTTP client ourselves
        api_client = client._api_client
        async_http = getattr(api_client, "_async_httpx_client", None)
        if async_http is not None:
            await async_http.aclose()
    close = getattr(client, "close", None)
    if close is not None:
        close()
