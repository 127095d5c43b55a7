"""Stream faults across provider SDKs: how to fault each provider's stream and read it back.

A :class:`Provider` knows a normal stream of its fake server (``events``), where the finish reason
arrives (``finish_at``), how its SDK opens a stream (``open``), and which faults its wire format
can carry (Bedrock's binary event stream gets only the connection faults). :func:`run_fault`
reads one faulted stream as a user would, with a :class:`Recorder` under whatever the user holds,
so the exception the SDK's own stream raised can be compared, by identity, with the one the user
caught.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import wrapt

from wikitrace_otel.testing import fake_anthropic, fake_bedrock, fake_cohere, fake_gemini, fake_mistral
from wikitrace_otel.testing._http import FakeResponse, encode_sse
from wikitrace_otel.testing.fake_openai import payloads as openai_payloads

ALL_FAULTS = ("cut", "reset", "truncated", "malformed", "unknown")
CONNECTION_FAULTS = ("cut", "reset")
USER = [{"role": "user", "content": "Hi"}]
Closer = Callable[[], Awaitable[None]]
Opener = Callable[[Any, bool], Awaitable[tuple[Any, Closer]]]


class Recorder(wrapt.ObjectProxy):  # type: ignore[misc]
    """Wraps an SDK stream; records each exception its iteration raised (the objects themselves)."""

    def __init__(self, wrapped: Any) -> None:
        super().__init__(wrapped)
        self._self_raised: list[BaseException] = []

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from self.__wrapped__
        except Exception as exc:
            self._self_raised.append(exc)
            raise

    async def __aiter__(self) -> Any:
        try:
            async for item in self.__wrapped__:
                yield item
        except Exception as exc:
            self._self_raised.append(exc)
            raise


@dataclass
class Run:
    """What the user saw reading one stream, and what the SDK's stream raised underneath."""

    items: list[Any] = field(default_factory=list)
    error: BaseException | None = None
    sdk_raised: list[BaseException] = field(default_factory=list)


async def read(stream: Any, is_async: bool) -> Run:
    """Read ``stream`` to its end or its exception, as a user would."""
    run = Run()
    try:
        if is_async:
            async for item in stream:
                run.items.append(item)
        else:
            for item in stream:
                run.items.append(item)
    except Exception as exc:  # noqa: BLE001 - whatever the SDK raises is what is compared
        run.error = exc
    return run


def is_traced(stream: Any) -> bool:
    """True for our stream proxy (a wrapt proxy); the SDKs' own streams are plain objects."""
    return isinstance(stream, wrapt.BaseObjectProxy)


def under_recorder(stream: Any) -> Recorder:
    """Put a :class:`Recorder` between the stream the user holds and the SDK's stream."""
    if is_traced(stream):  # record below our proxy
        recorder = Recorder(stream.__wrapped__)
        stream.__wrapped__ = recorder
        return recorder
    return Recorder(stream)


async def run_fault(provider: Provider, server: Any, fault: str, k: int, is_async: bool) -> Run:
    """Serve ``fault`` after ``k`` events, open the stream with the SDK and read it as a user would."""
    server.enqueue(provider.faulted(fault, k))
    stream, close = await provider.open(server, is_async)
    recorder = under_recorder(stream)
    run = await read(stream if is_traced(stream) else recorder, is_async)
    run.sdk_raised = list(recorder._self_raised)
    await close()
    return run


# --- providers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Provider:
    """How to fault one provider's stream and read it with its SDK."""

    name: str
    server_fixture: str
    instrumentor: Callable[[], Any]
    events: list[Any]
    finish_at: int  # index of the event that carries the finish reason
    reasons: list[str]  # the finish reasons of the whole stream
    open: Opener
    faults: tuple[str, ...] = ALL_FAULTS
    malformed: bytes = b"data: {not json\n\n"
    unknown: Any = None
    done: bool = False  # the server sends ``[DONE]`` after a complete stream
    encode: Callable[[Any], bytes] = encode_sse

    def __repr__(self) -> str:
        return self.name

    def faulted(self, fault: str, k: int) -> FakeResponse:
        """The server's answer carrying ``fault`` after ``k`` events."""
        events = self.events
        if fault == "unknown":
            return FakeResponse(events=[*events[:k], self.unknown, *events[k:]], done=self.done)
        if fault == "malformed":
            return FakeResponse(events=events[:k], tail=self.malformed, done=self.done)
        response = FakeResponse(events=list(events), cut_after=k, reset=fault == "reset")
        if fault == "truncated":
            whole = self.encode(events[k])
            response = dataclasses.replace(response, tail=whole[: len(whole) // 2])
        return response


def _closing(client: Any, is_async: bool) -> Closer:
    async def close() -> None:
        if is_async:
            await (getattr(client, "aclose", None) or client.close)()
        else:
            client.close()

    return close


async def open_openai(server: Any, is_async: bool) -> tuple[Any, Closer]:
    import openai

    client = (openai.AsyncOpenAI if is_async else openai.OpenAI)(api_key="k", base_url=server.base_url, max_retries=0)
    stream = client.chat.completions.create(model="gpt-4o", messages=USER, stream=True)
    return (await stream if is_async else stream), _closing(client, is_async)


async def open_anthropic(server: Any, is_async: bool) -> tuple[Any, Closer]:
    import anthropic

    cls = anthropic.AsyncAnthropic if is_async else anthropic.Anthropic
    client = cls(api_key="k", base_url=server.base_url, max_retries=0)
    stream = client.messages.create(model="claude-fake-1", max_tokens=32, messages=USER, stream=True)
    return (await stream if is_async else stream), _closing(client, is_async)


async def open_mistral(server: Any, is_async: bool) -> tuple[Any, Closer]:
    try:
        from mistralai.client import Mistral
    except ImportError:  # mistralai 1.x
        from mistralai import Mistral

    client = Mistral(api_key="k", server_url=server.base_url)
    chat = client.chat
    stream = (
        await chat.stream_async(model="mistral-small", messages=USER)
        if is_async
        else chat.stream(model="mistral-small", messages=USER)
    )

    async def close() -> None:  # both of the SDK's HTTP clients, else their sockets outlive the test
        client.__exit__(None, None, None)
        await client.__aexit__(None, None, None)

    return stream, close


async def open_cohere(server: Any, is_async: bool) -> tuple[Any, Closer]:
    import cohere
    import httpx

    http = httpx.AsyncClient() if is_async else httpx.Client()
    cls = cohere.AsyncClientV2 if is_async else cohere.ClientV2
    client = cls(api_key="k", base_url=server.base_url, httpx_client=http)
    return client.chat_stream(model="command-r", messages=USER), _closing(http, is_async)


async def open_gemini(server: Any, is_async: bool) -> tuple[Any, Closer]:
    from google import genai

    client = genai.Client(api_key="k", http_options={"base_url": server.base_url})
    models = client.aio.models if is_async else client.models
    stream = models.generate_content_stream(model="gemini-fake", contents="Hi")

    async def close() -> None:
        aclose = getattr(client.aio, "aclose", None)
        if aclose is not None:
            await aclose()
        else:
            # Older releases offer no close. Their async HTTP client, left to the garbage collector,
            # schedules its own close on whatever event loop runs then (a later test's, or a closed
            # one), and its socket is reported unclosed against that later test.
            http = getattr(getattr(client, "_api_client", None), "_async_httpx_client", None)
            if http is not None:
                await http.aclose()
        if hasattr(client, "close"):
            client.close()

    return (await stream if is_async else stream), close


async def open_bedrock(server: Any, is_async: bool) -> tuple[Any, Closer]:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=server.endpoint_url,
        aws_access_key_id="AKIDFAKE",
        aws_secret_access_key="fake-secret",
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )
    stream = client.converse_stream(
        modelId="amazon.nova-fake-v1:0", messages=[{"role": "user", "content": [{"text": "Hi"}]}]
    )["stream"]

    async def close() -> None:
        stream.close()
        client.close()

    return stream, close


def _index(events: list[Any], carries_reason: Callable[[Any], Any]) -> int:
    return next(i for i, event in enumerate(events) if carries_reason(event))


def providers() -> list[Provider]:
    """Every provider with a fake server, each with the faults its SDK's wire format can carry."""
    from wikitrace_otel.instrumentors.anthropic import AnthropicInstrumentor
    from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor
    from wikitrace_otel.instrumentors.cohere import CohereInstrumentor
    from wikitrace_otel.instrumentors.google_genai import GoogleGenAIInstrumentor
    from wikitrace_otel.instrumentors.mistral import MistralInstrumentor
    from wikitrace_otel.instrumentors.openai import OpenAIInstrumentor

    chat = openai_payloads.chat_completion_chunks({"model": "gpt-4o"})
    ant = fake_anthropic.payloads
    messages = ant.message_events(ant.message("claude-fake-1", [ant.text_block("Hello there, friend")]))
    mistral = fake_mistral.payloads.chat_chunks(fake_mistral.payloads.chat_completion("mistral-small", "Hello there"))
    cohere = fake_cohere.payloads.chat_events(fake_cohere.payloads.chat_response("Hello there, friend"))
    gem = fake_gemini.payloads
    parts = [gem.text_part("Hello"), gem.text_part(" there")]
    gemini = gem.stream_chunks(gem.response("gemini-fake", [gem.candidate(parts, "STOP")]))
    bedrock = fake_bedrock.payloads.converse_events(fake_bedrock.payloads.converse_answer("Hello there"))

    def reason(event: Any) -> Any:
        choices = event.get("choices") or [{}]
        return choices[0].get("finish_reason")

    return [
        Provider(
            "openai",
            "fake_openai",
            OpenAIInstrumentor,
            chat,
            _index(chat, reason),
            ["stop"],
            open_openai,
            unknown={"type": "mystery.event", "object": "mystery"},
            done=True,
        ),
        Provider(
            "anthropic",
            "fake_anthropic_server",
            AnthropicInstrumentor,
            messages,
            _index(messages, lambda e: e["type"] == "message_delta"),
            ["end_turn"],
            open_anthropic,
            malformed=b"event: content_block_delta\ndata: {not json\n\n",
            unknown={"type": "mystery_event"},
        ),
        Provider(
            "mistral",
            "fake_mistral_server",
            MistralInstrumentor,
            mistral,
            _index(mistral, reason),
            ["stop"],
            open_mistral,
            unknown={"object": "mystery"},
            done=True,
        ),
        Provider(
            "cohere",
            "fake_cohere_server",
            CohereInstrumentor,
            cohere,
            _index(cohere, lambda e: e["type"] == "message-end"),
            ["COMPLETE"],
            open_cohere,
            unknown={"type": "mystery-event"},
        ),
        Provider(
            "gemini",
            "fake_gemini_server",
            GoogleGenAIInstrumentor,
            gemini,
            _index(gemini, lambda e: e["candidates"][0].get("finishReason")),
            ["stop"],
            open_gemini,
            unknown={"mysteryField": 1},
        ),
        Provider(
            "bedrock",
            "fake_bedrock_server",
            BedrockInstrumentor,
            bedrock,
            _index(bedrock, lambda e: e["headers"][":event-type"] == "messageStop"),
            ["end_turn"],
            open_bedrock,
            faults=(*CONNECTION_FAULTS, "truncated"),
            encode=fake_bedrock.eventstream.encode,
        ),
    ]
