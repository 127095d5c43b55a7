"""The leak test's workload: the calls its child interpreter makes, and how they are served.

Every operation in :data:`OPERATIONS` makes exactly one instrumented call with the real OpenAI or
Anthropic SDK, and some abandon their stream a way users do. The in-process clients use an
``httpx2.MockTransport`` (openai 3.x / anthropic 2.x; ``httpx`` for older SDKs): the SDKs build
requests and parse answers as usual, without sockets. Requests for the model ``fail`` get a 500;
for ``cut``, a stream whose body breaks after two events with a read error, as a reset
connection's would. The ``http_*`` clients talk to the fake servers the parent test started.
"""

from __future__ import annotations

import json
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

ANTHROPIC_MODEL = "claude-leak-1"
OPENAI_MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Say hello."}]


class UserError(Exception):
    """What the application raises inside its own ``for chunk in stream`` loop."""


@dataclass
class Counts:
    """What the workload did, by kind; ``calls`` is every instrumented call made."""

    calls: int = 0
    abandoned_streams: int = 0
    server_errors_seen: int = 0
    over_http: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)


@dataclass
class Clients:
    """The SDK clients one operation may use: in-process ones and ones over real HTTP."""

    openai: Any
    async_openai: Any
    anthropic: Any
    async_anthropic: Any
    http_openai: Any
    http_anthropic: Any


Operation = Callable[[Clients, random.Random, Counts, bool], Awaitable[None] | None]


# --- the in-process server ----------------------------------------------------------------
# Requests for model "fail" get a 500; for model "cut", a stream whose body breaks after two
# events (the transport raises a read error, as a reset connection would).


def _bodies() -> dict[str, bytes]:
    from wikitrace_otel.testing import fake_anthropic
    from wikitrace_otel.testing.fake_openai import encode_sse, payloads

    request = {"model": OPENAI_MODEL, "messages": MESSAGES, "stream_options": {"include_usage": True}}
    answer = fake_anthropic.payloads.message(ANTHROPIC_MODEL)
    return {
        "openai": json.dumps(payloads.chat_completion(request)).encode(),
        "openai-stream": b"".join(map(encode_sse, [*payloads.chat_completion_chunks(request), "[DONE]"])),
        "anthropic": json.dumps(answer).encode(),
        "anthropic-stream": b"".join(map(encode_sse, fake_anthropic.payloads.message_events(answer))),
    }


def _split_events(body: bytes) -> list[bytes]:
    return [event + b"\n\n" for event in body.split(b"\n\n") if event]


def transport(http: Any, is_async: bool) -> Any:
    """An in-process ``MockTransport`` answering OpenAI and Anthropic requests (see above)."""
    bodies = _bodies()
    error_body = json.dumps({"error": {"message": "boom", "type": "server_error", "code": None}}).encode()

    def cut_body(events: list[bytes]) -> Any:
        def sync_body() -> Any:
            yield from events[:2]
            raise http.ReadError("connection reset by peer")

        async def async_body() -> Any:
            for event in events[:2]:
                yield event
            raise http.ReadError("connection reset by peer")

        return async_body() if is_async else sync_body()

    def handler(request: Any) -> Any:
        provider = "anthropic" if request.url.path.endswith("/messages") else "openai"
        body = json.loads(request.content)
        if body["model"] == "fail":
            return http.Response(500, headers={"content-type": "application/json"}, content=error_body)
        if not body.get("stream"):
            return http.Response(200, headers={"content-type": "application/json"}, content=bodies[provider])
        events = bodies[f"{provider}-stream"]
        content = cut_body(_split_events(events)) if body["model"] == "cut" else events
        return http.Response(200, headers={"content-type": "text/event-stream"}, content=content)

    return http.MockTransport(handler)


def _http_of(sdk: Any) -> Any:
    """The HTTP library ``sdk`` is built on: ``httpx2`` (openai 3.x, anthropic 2.x) or ``httpx``."""
    base_client = sdk._base_client
    return getattr(base_client, "httpx2", None) or base_client.httpx


def make_clients(config: dict[str, Any]) -> Clients:
    """In-process clients (no retries), and sync clients over HTTP to the parent's fake servers."""
    import anthropic
    import openai

    def in_process(sdk: Any, cls: Any, is_async: bool) -> Any:
        http = _http_of(sdk)
        client_cls = http.AsyncClient if is_async else http.Client
        return cls(api_key="k", max_retries=0, http_client=client_cls(transport=transport(http, is_async)))

    return Clients(
        openai=in_process(openai, openai.OpenAI, False),
        async_openai=in_process(openai, openai.AsyncOpenAI, True),
        anthropic=in_process(anthropic, anthropic.Anthropic, False),
        async_anthropic=in_process(anthropic, anthropic.AsyncAnthropic, True),
        http_openai=openai.OpenAI(api_key="k", base_url=config["openai_url"], max_retries=0),
        http_anthropic=anthropic.Anthropic(api_key="k", base_url=config["anthropic_url"], max_retries=0),
    )


# --- operations: each makes exactly one instrumented call -------------------------------------


def _chat(client: Any, model: str = OPENAI_MODEL, **kwargs: Any) -> Any:
    return client.chat.completions.create(model=model, messages=MESSAGES, **kwargs)


def _stream(client: Any, model: str = OPENAI_MODEL) -> Any:
    return _chat(client, model, stream=True, stream_options={"include_usage": True})


def _message(client: Any, model: str = ANTHROPIC_MODEL, **kwargs: Any) -> Any:
    return client.messages.create(model=model, max_tokens=16, messages=MESSAGES, **kwargs)


def _read(stream: Any, limit: int) -> None:
    for index, _ in enumerate(stream):
        if index + 1 >= limit:
            break


async def _aread(stream: Any, limit: int) -> None:
    index = 0
    async for _ in stream:
        index += 1
        if index >= limit:
            break


def openai_chat(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    _chat(c.http_openai if http else c.openai)


def openai_stream_full(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    _read(_stream(c.http_openai if http else c.openai), 10_000)


def openai_stream_closed_early(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    stream = _stream(c.http_openai if http else c.openai)
    _read(stream, rng.randint(1, 4))
    stream.close()
    counts.abandoned_streams += 1


def openai_stream_break_in_with(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    with _stream(c.http_openai if http else c.openai) as stream:
        _read(stream, rng.randint(1, 4))
    counts.abandoned_streams += 1


def openai_stream_user_error(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    limit = rng.randint(1, 4)
    try:
        with _stream(c.http_openai if http else c.openai) as stream:
            for index, _ in enumerate(stream):
                if index + 1 == limit:
                    raise UserError("the application failed mid-stream")
    except UserError:
        counts.abandoned_streams += 1


def openai_stream_dropped_unread(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    stream = _stream(c.openai)
    del stream
    counts.abandoned_streams += 1


def openai_stream_break_no_close(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    _read(_stream(c.openai), rng.randint(1, 4))  # then dropped, never closed
    counts.abandoned_streams += 1


def openai_stream_user_error_no_close(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    try:
        for _ in _stream(c.openai):
            raise UserError("the application failed mid-stream")
    except UserError:
        counts.abandoned_streams += 1


def openai_server_error(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    import openai

    try:
        _chat(c.openai, "fail")
    except openai.InternalServerError:
        counts.server_errors_seen += 1


def _cut_short(read: Callable[[], None], counts: Counts) -> None:
    """Read a stream whose connection breaks; the break must reach the caller."""
    try:
        read()
    except Exception as exc:  # openai>=2 wraps it in APIConnectionError; the others let ReadError through
        if type(exc).__name__ not in ("APIConnectionError", "ReadError"):
            raise
        counts.server_errors_seen += 1
        counts.abandoned_streams += 1
    else:
        raise AssertionError("the stream was not cut")


def openai_stream_cut(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    _cut_short(lambda: _read(_stream(c.openai, "cut"), 10_000), counts)


async def openai_async_chat(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    await _chat(c.async_openai)


async def openai_async_stream_full(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    await _aread(await _stream(c.async_openai), 10_000)


async def openai_async_stream_break(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    await _aread(await _stream(c.async_openai), rng.randint(1, 4))  # then dropped, never closed
    counts.abandoned_streams += 1


async def openai_async_stream_closed(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    stream = await _stream(c.async_openai)
    await _aread(stream, rng.randint(1, 4))
    await stream.close()
    counts.abandoned_streams += 1


async def openai_async_server_error(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    import openai

    try:
        await _chat(c.async_openai, "fail")
    except openai.InternalServerError:
        counts.server_errors_seen += 1


def anthropic_message(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    _message(c.http_anthropic if http else c.anthropic)


def anthropic_stream_full(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    _read(_message(c.http_anthropic if http else c.anthropic, stream=True), 10_000)


def anthropic_stream_break_no_close(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    _read(_message(c.anthropic, stream=True), rng.randint(1, 5))
    counts.abandoned_streams += 1


def anthropic_stream_cut(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    _cut_short(lambda: _read(_message(c.anthropic, "cut", stream=True), 10_000), counts)


def anthropic_helper(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    client = c.http_anthropic if http else c.anthropic
    with client.messages.stream(model=ANTHROPIC_MODEL, max_tokens=16, messages=MESSAGES) as stream:
        if rng.random() < 0.5:
            stream.get_final_message()
            return
        _read(stream.text_stream, 1)
    counts.abandoned_streams += 1


async def anthropic_async_message(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    await _message(c.async_anthropic)


async def anthropic_async_stream(c: Clients, rng: random.Random, counts: Counts, http: bool) -> None:
    limit = rng.choice((2, 10_000))
    await _aread(await _message(c.async_anthropic, stream=True), limit)
    counts.abandoned_streams += limit == 2


OPERATIONS: tuple[Operation, ...] = (
    openai_chat,
    openai_stream_full,
    openai_stream_closed_early,
    openai_stream_break_in_with,
    openai_stream_user_error,
    openai_stream_dropped_unread,
    openai_stream_break_no_close,
    openai_stream_user_error_no_close,
    openai_server_error,
    openai_stream_cut,
    openai_async_chat,
    openai_async_stream_full,
    openai_async_stream_break,
    openai_async_stream_closed,
    openai_async_server_error,
    anthropic_message,
    anthropic_stream_full,
    anthropic_stream_break_no_close,
    anthropic_stream_cut,
    anthropic_helper,
    anthropic_async_message,
    anthropic_async_stream,
)
"""Every kind of call the workload makes, drawn uniformly."""
HTTP_OPERATIONS: tuple[Operation, ...] = (
    openai_chat,
    openai_stream_full,
    openai_stream_closed_early,
    openai_stream_break_in_with,
    openai_stream_user_error,
    anthropic_message,
    anthropic_stream_full,
    anthropic_helper,
)
"""The kinds also made over real HTTP: those that release their connection. A stream dropped
unclosed keeps its socket open even after ``gc.collect()``, with or without instrumentation (30
such openai streams left 30 sockets open in a trial), which would measure the HTTP client, not us."""
