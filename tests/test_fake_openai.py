"""The fake OpenAI server speaks the wire formats the real ``openai`` SDK expects.

Every test drives the real SDK (sync, async and Azure clients, ``max_retries=0``)
over HTTP against ``tests/fake_openai`` and asserts on the parsed values.  The
suite runs against openai 1.x (httpx) and openai >= 2 (httpx2); the few places
where the SDKs behave differently are marked with ``NEW_SDK``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import pydantic
import pytest
from openai import AsyncOpenAI, AzureOpenAI, OpenAI
from openai.types import Completion, CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response, ResponseStreamEvent

from wikitrace_otel.testing.fake_openai import (
    FakeOpenAIServer,
    FakeResponse,
    default_response,
    encode_sse,
    payloads,
    responses_api,
)
from wikitrace_otel.testing.fake_openai.server import RecordedRequest

SDK_MAJOR = int(openai.__version__.split(".")[0])
NEW_SDK = SDK_MAJOR >= 2
API_KEY = "sk-test-key"
AZURE_KEY = "azure-test-key"
API_VERSION = "2024-10-21"
MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2026-01-01"
MESSAGES: list[Any] = [{"role": "user", "content": "What is the weather?"}]
WEATHER_PARAMETERS = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
    "additionalProperties": False,
}
CHAT_TOOL: Any = {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_PARAMETERS}}
STRICT_CHAT_TOOL: Any = {"type": "function", "function": {**CHAT_TOOL["function"], "strict": True}}
RESPONSES_TOOL: Any = {"type": "function", "name": "get_weather", "parameters": WEATHER_PARAMETERS, "strict": True}


class Answer(pydantic.BaseModel):
    answer: str


class GetWeather(pydantic.BaseModel):
    """Weather for a city."""

    city: str


def cut_stream_error() -> type[BaseException]:
    """What a stream cut mid-body raises while iterating: openai>=2 wraps the
    transport error in APIConnectionError, openai 1.x lets httpx's escape."""
    if NEW_SDK:
        return openai.APIConnectionError
    import httpx

    return httpx.RemoteProtocolError


def read_timeout_error() -> type[BaseException]:
    """What a read timeout mid-stream raises (wrapped only by openai>=2)."""
    if NEW_SDK:
        return openai.APITimeoutError
    import httpx

    return httpx.ReadTimeout


@pytest.fixture
def client(fake_openai: FakeOpenAIServer) -> Iterator[OpenAI]:
    with OpenAI(api_key=API_KEY, base_url=fake_openai.base_url, max_retries=0, timeout=10) as sdk:
        yield sdk


@pytest.fixture
async def async_client(fake_openai: FakeOpenAIServer) -> AsyncIterator[AsyncOpenAI]:
    async with AsyncOpenAI(api_key=API_KEY, base_url=fake_openai.base_url, max_retries=0, timeout=10) as sdk:
        yield sdk


@pytest.fixture
def azure_client(fake_openai: FakeOpenAIServer) -> Iterator[AzureOpenAI]:
    endpoint = fake_openai.azure_endpoint
    with AzureOpenAI(api_key=AZURE_KEY, api_version=API_VERSION, azure_endpoint=endpoint, max_retries=0) as sdk:
        yield sdk


def only_request(server: FakeOpenAIServer) -> RecordedRequest:
    assert len(server.requests) == 1
    return server.requests[0]


# --------------------------------------------------------------------------- server basics


def test_records_requests_with_headers_query_and_body(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    client.chat.completions.create(model=MODEL, messages=MESSAGES, extra_query={"trace": "1"}, temperature=0.5)

    request = only_request(fake_openai)
    assert (request.method, request.path, request.query) == ("POST", "/v1/chat/completions", {"trace": "1"})
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert request.headers["content-type"] == "application/json"
    assert request.body == {"model": MODEL, "messages": MESSAGES, "temperature": 0.5}


def test_base_urls_use_loopback(fake_openai: FakeOpenAIServer) -> None:
    assert fake_openai.base_url == f"http://127.0.0.1:{fake_openai.port}/v1"
    assert fake_openai.azure_endpoint == f"http://127.0.0.1:{fake_openai.port}"


def test_start_is_idempotent_and_stop_releases_the_port() -> None:
    server = FakeOpenAIServer()
    with server:
        port = server.port
        assert server.start() is server and server.port == port
        with OpenAI(api_key=API_KEY, base_url=server.base_url, max_retries=0) as sdk:
            assert sdk.embeddings.create(model="e", input="x").data[0].index == 0
    with pytest.raises(RuntimeError):
        _ = server.port
    server.stop()


def test_enqueued_answers_are_used_in_order_then_defaults(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(FakeResponse.json({**payloads.chat_completion({"model": "a"}), "id": "first"}))
    fake_openai.enqueue(FakeResponse.json({**payloads.chat_completion({"model": "b"}), "id": "second"}))

    ids = [client.chat.completions.create(model=MODEL, messages=MESSAGES).id for _ in range(3)]

    assert ids == ["first", "second", "chatcmpl-fake-1"]


def test_reset_clears_requests_queue_and_request_ids(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(FakeResponse.error(500))
    fake_openai.reset()
    fake_openai.enqueue(FakeResponse.error(400))
    fake_openai.reset()

    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES)

    assert completion._request_id == "req_fake_1"
    assert len(fake_openai.requests) == 1


def test_unknown_route_is_an_openai_404(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.models.list()

    assert caught.value.status_code == 404
    assert caught.value.code == "unknown_url"
    assert only_request(fake_openai).path == "/v1/models"


def test_sse_encoding_names_typed_events() -> None:
    assert encode_sse("[DONE]") == b"data: [DONE]\n\n"
    assert encode_sse({"a": 1}) == b'data: {"a":1}\n\n'
    assert encode_sse({"type": "response.created"}) == b'event: response.created\ndata: {"type":"response.created"}\n\n'


# --------------------------------------------------------------------------- chat completions


def test_chat_completion(client: OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES)

    assert completion.id == "chatcmpl-fake-1"
    assert completion.model == RESPONSE_MODEL
    assert completion.system_fingerprint == "fp_fake"
    assert completion.service_tier == "default"
    assert completion.created == payloads.CREATED
    [choice] = completion.choices
    assert choice.message.content == "Hello from choice 0"
    assert choice.message.role == "assistant"
    assert choice.finish_reason == "stop"
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (11, 7, 18)
    assert usage.prompt_tokens_details is not None and usage.prompt_tokens_details.cached_tokens == 3
    assert usage.completion_tokens_details is not None and usage.completion_tokens_details.reasoning_tokens == 2


def test_chat_completion_n_choices(client: OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES, n=3)

    assert [c.index for c in completion.choices] == [0, 1, 2]
    assert [c.message.content for c in completion.choices] == [f"Hello from choice {i}" for i in range(3)]


def test_chat_completion_tool_call(client: OpenAI) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=[CHAT_TOOL], n=2)

    first, second = completion.choices
    assert first.finish_reason == "tool_calls"
    assert first.message.content is None
    [call] = first.message.tool_calls or []
    assert call.id == "call_fake_1" and call.type == "function"
    assert (call.function.name, call.function.arguments) == ("get_weather", '{"city": "Paris"}')
    assert (second.finish_reason, second.message.content) == ("stop", "Hello from choice 1")


def test_chat_completion_stream_with_usage(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)

    assert all(chunk.object == "chat.completion.chunk" and chunk.model == RESPONSE_MODEL for chunk in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    content = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert content == ["Hello f", "rom cho", "ice 0"]
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert all(chunk.usage is None for chunk in chunks[:-1])
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 18


def test_chat_completion_stream_without_usage_and_n_choices(client: OpenAI) -> None:
    chunks = list(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True, n=2))

    assert all(chunk.usage is None and len(chunk.choices) == 1 for chunk in chunks)
    texts = {0: "", 1: ""}
    for chunk in chunks:
        texts[chunk.choices[0].index] += chunk.choices[0].delta.content or ""
    assert texts == {0: "Hello from choice 0", 1: "Hello from choice 1"}
    assert [c.choices[0].finish_reason for c in chunks[-2:]] == ["stop", "stop"]


def test_chat_completion_stream_tool_call(client: OpenAI) -> None:
    chunks = list(client.chat.completions.create(model=MODEL, messages=MESSAGES, tools=[CHAT_TOOL], stream=True))

    calls = [call for chunk in chunks for call in chunk.choices[0].delta.tool_calls or []]
    assert len(calls) >= 2
    assert calls[0].id == "call_fake_1" and calls[0].function is not None
    assert calls[0].function.name == "get_weather"
    assert all(call.id is None and call.index == 0 for call in calls[1:])
    assert "".join((call.function.arguments or "") for call in calls if call.function) == '{"city": "Paris"}'
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_chat_completion_parse(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    completion = client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Answer)

    message = completion.choices[0].message
    assert message.content == '{"answer": "42"}'
    assert message.parsed == Answer(answer="42")
    assert only_request(fake_openai).body["response_format"]["type"] == "json_schema"


def test_chat_stream_helper_final_completion(client: OpenAI) -> None:
    with client.chat.completions.stream(
        model=MODEL, messages=MESSAGES, stream_options={"include_usage": True}
    ) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_completion()

    # the role chunk's empty content ("") is a content.delta too
    assert events.count("content.delta") == 4 and "content.done" in events
    assert final.choices[0].message.content == "Hello from choice 0"
    assert final.choices[0].finish_reason == "stop"
    assert final.model == RESPONSE_MODEL and final.system_fingerprint == "fp_fake"
    assert final.usage is not None and final.usage.completion_tokens == 7


def test_chat_stream_helper_structured_and_tools(client: OpenAI) -> None:
    with client.chat.completions.stream(model=MODEL, messages=MESSAGES, response_format=Answer) as stream:
        parsed = stream.get_final_completion().choices[0].message.parsed
    tool = openai.pydantic_function_tool(GetWeather, name="get_weather")
    with client.chat.completions.stream(model=MODEL, messages=MESSAGES, tools=[tool]) as stream:
        done = [event for event in stream if event.type == "tool_calls.function.arguments.done"]
        final = stream.get_final_completion()

    assert parsed == Answer(answer="42")
    assert len(done) == 1 and done[0].parsed_arguments == GetWeather(city="Paris")
    [call] = final.choices[0].message.tool_calls or []
    assert call.function.parsed_arguments == GetWeather(city="Paris")


def test_chat_parse_and_stream_with_non_strict_tools(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    """``parse()`` refuses non-strict tools before sending; sync ``stream()`` takes them unparsed."""
    with pytest.raises(ValueError, match="not strict"):
        client.chat.completions.parse(model=MODEL, messages=MESSAGES, tools=[CHAT_TOOL])
    with client.chat.completions.stream(model=MODEL, messages=MESSAGES, tools=[CHAT_TOOL]) as stream:
        [call] = stream.get_final_completion().choices[0].message.tool_calls or []

    assert call.function.arguments == '{"city": "Paris"}' and call.function.parsed_arguments is None
    assert len(fake_openai.requests) == 1


async def test_async_chat_stream_with_non_strict_tools(async_client: AsyncOpenAI) -> None:
    """openai 1.x's async ``stream()`` (unlike its sync one) refuses non-strict tools."""
    stream_manager = async_client.chat.completions.stream
    if not NEW_SDK:
        with pytest.raises(ValueError, match="not strict"):
            stream_manager(model=MODEL, messages=MESSAGES, tools=[CHAT_TOOL])
        return
    async with stream_manager(model=MODEL, messages=MESSAGES, tools=[CHAT_TOOL]) as stream:
        final = await stream.get_final_completion()
    assert final.choices[0].finish_reason == "tool_calls"


async def test_async_chat_completion_and_stream(async_client: AsyncOpenAI) -> None:
    completion = await async_client.chat.completions.create(model=MODEL, messages=MESSAGES)
    stream = await async_client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]

    assert completion.choices[0].message.content == "Hello from choice 0"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from choice 0"
    assert chunks[-1].usage is not None and chunks[-1].usage.prompt_tokens == 11


async def test_async_chat_stream_helper_and_parse(async_client: AsyncOpenAI) -> None:
    tools = [STRICT_CHAT_TOOL]
    async with async_client.chat.completions.stream(model=MODEL, messages=MESSAGES, tools=tools) as stream:
        final = await stream.get_final_completion()
    parsed = await async_client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Answer)

    [call] = final.choices[0].message.tool_calls or []
    assert (call.id, call.function.arguments) == ("call_fake_1", '{"city": "Paris"}')
    assert call.function.parsed_arguments == {"city": "Paris"}
    assert parsed.choices[0].message.parsed == Answer(answer="42")


# --------------------------------------------------------------------------- responses


def test_responses_create(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    response = client.responses.create(model=MODEL, input="Hi", instructions="Be brief")

    assert (response.id, response.status, response.model) == ("resp_fake_1", "completed", RESPONSE_MODEL)
    assert response.output_text == "Hello from responses"
    assert response.service_tier == "default" and response.instructions == "Be brief"
    assert [item.type for item in response.output] == ["message"]
    usage = response.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (13, 9, 22)
    assert usage.input_tokens_details.cached_tokens == 4
    assert usage.output_tokens_details.reasoning_tokens == 5
    assert only_request(fake_openai).path == "/v1/responses"


def test_responses_function_call_and_reasoning(client: OpenAI) -> None:
    response = client.responses.create(
        model=MODEL, input="Hi", tools=[RESPONSES_TOOL], reasoning={"effort": "low", "summary": "auto"}
    )

    reasoning, call = response.output
    assert reasoning.type == "reasoning"
    assert [s.text for s in reasoning.summary] == ["Thinking about the answer."]
    assert call.type == "function_call"
    assert (call.call_id, call.name, call.arguments) == ("call_fake_1", "get_weather", '{"city": "Paris"}')
    assert response.reasoning is not None and response.reasoning.effort == "low"


def test_responses_raw_stream_event_sequence(client: OpenAI) -> None:
    events = list(client.responses.create(model=MODEL, input="Hi", stream=True))

    types = [event.type for event in events]
    assert types[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert types[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert types.count("response.output_text.delta") == 3
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == "Hello from responses"
    completed = events[-1]
    assert completed.type == "response.completed"
    assert completed.response.output_text == "Hello from responses"
    assert completed.response.usage is not None and completed.response.usage.total_tokens == 22


def test_responses_stream_helper_final_response(client: OpenAI) -> None:
    with client.responses.stream(model=MODEL, input="Hi", reasoning={"summary": "auto"}) as stream:
        snapshots = [event.snapshot for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()

    assert snapshots == ["Hello f", "Hello from res", "Hello from responses"]
    assert final.output_text == "Hello from responses"
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.usage is not None and final.usage.output_tokens == 9


def test_responses_stream_helper_tool_call(client: OpenAI) -> None:
    with client.responses.stream(model=MODEL, input="Hi", tools=[RESPONSES_TOOL]) as stream:
        argument_snapshots = [e.snapshot for e in stream if e.type == "response.function_call_arguments.delta"]
        final = stream.get_final_response()

    assert argument_snapshots[-1] == '{"city": "Paris"}'
    [call] = final.output
    assert call.type == "function_call" and call.parsed_arguments == {"city": "Paris"}


def test_responses_parse_and_stream_parse(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    parsed = client.responses.parse(model=MODEL, input="Hi", text_format=Answer)
    with client.responses.stream(model=MODEL, input="Hi", text_format=Answer) as stream:
        streamed = stream.get_final_response()

    assert parsed.output_parsed == Answer(answer="42")
    assert streamed.output_parsed == Answer(answer="42")
    assert fake_openai.requests[0].body["text"]["format"]["type"] == "json_schema"


def test_responses_retrieve(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    created = client.responses.create(model="gpt-4.1", input="Hi")
    retrieved = client.responses.retrieve(created.id)
    unknown = client.responses.retrieve("resp_other")
    events = list(client.responses.retrieve(created.id, stream=True))

    assert retrieved.model == "gpt-4.1-2026-01-01" and retrieved.output_text == created.output_text
    assert unknown.id == "resp_other" and unknown.output_text == "Hello from responses"
    assert events[-1].type == "response.completed" and events[-1].response.id == created.id
    assert [(r.method, r.path, r.query) for r in fake_openai.requests[1:]] == [
        ("GET", "/v1/responses/resp_fake_1", {}),
        ("GET", "/v1/responses/resp_other", {}),
        ("GET", "/v1/responses/resp_fake_1", {"stream": "true"}),
    ]


def test_responses_stream_helper_resumes_by_id(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    """The helper sends only ``?stream=true`` (no ``starting_after``) and drops
    events with ``sequence_number <= starting_after`` itself."""
    client.responses.create(model=MODEL, input="Hi")
    with client.responses.stream(response_id="resp_fake_1", starting_after=3) as stream:
        numbers = [event.sequence_number for event in stream]
        final = stream.get_final_response()

    assert numbers[0] == 4 and final.output_text == "Hello from responses"
    assert fake_openai.requests[1].method == "GET"
    assert fake_openai.requests[1].query == {"stream": "true"}


async def test_async_responses_stream_helper(async_client: AsyncOpenAI) -> None:
    async with async_client.responses.stream(model=MODEL, input="Hi", text_format=Answer) as stream:
        types = [event.type async for event in stream]
        final = await stream.get_final_response()
    response = await async_client.responses.create(model=MODEL, input="Hi")

    assert types[0] == "response.created" and types[-1] == "response.completed"
    assert final.output_parsed == Answer(answer="42")
    assert response.output_text == "Hello from responses"


# --------------------------------------------------------------------------- embeddings and legacy completions


def test_embeddings_default_base64_is_decoded(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    result = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])

    assert only_request(fake_openai).body["encoding_format"] == "base64"  # the SDK asks for base64
    assert [item.index for item in result.data] == [0, 1]
    assert result.data[0].embedding == payloads.embedding_vector(0, 8)
    assert result.data[1].embedding == payloads.embedding_vector(1, 8)
    assert result.model == "text-embedding-3-small-2026-01-01"
    assert (result.usage.prompt_tokens, result.usage.total_tokens) == (5, 5)


def test_embeddings_explicit_float_and_dimensions(client: OpenAI) -> None:
    result = client.embeddings.create(model="e", input="a", dimensions=4, encoding_format="float")
    tokens = client.embeddings.create(model="e", input=[1, 2, 3], encoding_format="float")

    assert [item.embedding for item in result.data] == [[0.25, 0.5, 0.75, 1.0]]
    assert len(tokens.data) == 1 and len(tokens.data[0].embedding) == 8


def test_explicit_base64_stays_encoded(client: OpenAI) -> None:
    result = client.embeddings.create(model="e", input="a", dimensions=2, encoding_format="base64")

    assert result.data[0].embedding == "AACAPgAAAD8="  # type: ignore[comparison-overlap]  # [0.25, 0.5]


async def test_async_embeddings(async_client: AsyncOpenAI) -> None:
    result = await async_client.embeddings.create(model="e", input="a", dimensions=3)

    assert result.data[0].embedding == [0.25, 0.5, 0.75]


def test_legacy_completion_and_stream(client: OpenAI) -> None:
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Hi", n=2)
    chunks = list(
        client.completions.create(
            model="gpt-3.5-turbo-instruct", prompt="Hi", stream=True, stream_options={"include_usage": True}
        )
    )

    assert completion.object == "text_completion" and completion.id == "cmpl-fake-1"
    assert [(c.text, c.finish_reason) for c in completion.choices] == [("Hello legacy", "length")] * 2
    assert completion.usage is not None
    assert (completion.usage.prompt_tokens, completion.usage.completion_tokens, completion.usage.total_tokens) == (
        4,
        6,
        10,
    )
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "Hello legacy"
    assert chunks[-2].choices[0].finish_reason == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 10


# --------------------------------------------------------------------------- Azure


def test_azure_chat_embeddings_and_responses(azure_client: AzureOpenAI, fake_openai: FakeOpenAIServer) -> None:
    completion = azure_client.chat.completions.create(model="my-gpt4o", messages=MESSAGES)
    embedding = azure_client.embeddings.create(model="my-embed", input="a", encoding_format="float")
    response = azure_client.responses.create(model="my-gpt4o", input="Hi")

    assert completion.model == "my-gpt4o-2026-01-01"
    assert embedding.data[0].embedding == payloads.embedding_vector(0, 8)
    assert response.output_text == "Hello from responses"
    assert [r.path for r in fake_openai.requests] == [
        "/openai/deployments/my-gpt4o/chat/completions",
        "/openai/deployments/my-embed/embeddings",
        "/openai/responses",
    ]
    for request in fake_openai.requests:
        assert request.query == {"api-version": API_VERSION}
        assert request.headers["api-key"] == AZURE_KEY
        # openai 1.x sends the key as a bearer token as well; openai>=2 only as api-key
        assert request.headers.get("authorization") == (None if NEW_SDK else f"Bearer {AZURE_KEY}")


def test_azure_deployment_client_stream(fake_openai: FakeOpenAIServer) -> None:
    with AzureOpenAI(
        api_key=AZURE_KEY,
        api_version=API_VERSION,
        azure_endpoint=fake_openai.azure_endpoint,
        azure_deployment="prod-deployment",
        max_retries=0,
    ) as azure:
        stream = azure.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    assert text == "Hello from choice 0"
    assert only_request(fake_openai).path == "/openai/deployments/prod-deployment/chat/completions"


def test_azure_deployment_names_a_missing_model() -> None:
    request = RecordedRequest("POST", "/openai/deployments/dep-1/chat/completions", {}, {}, {"messages": []})

    answer = json.loads(default_response(request, {}).body)

    assert answer["model"] == "dep-1-2026-01-01"


# --------------------------------------------------------------------------- raw and streaming responses


def test_with_raw_response(client: OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)

    assert raw.status_code == 200
    assert raw.headers["x-request-id"] == "req_fake_1"
    assert raw.headers["content-type"] == "application/json"
    completion = raw.parse()
    assert completion.choices[0].message.content == "Hello from choice 0"
    assert completion._request_id == "req_fake_1"


def test_with_raw_response_stream(client: OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES, stream=True)

    assert raw.headers["content-type"].startswith("text/event-stream")
    assert "".join(c.choices[0].delta.content or "" for c in raw.parse()) == "Hello from choice 0"


def test_with_streaming_response(client: OpenAI) -> None:
    with client.chat.completions.with_streaming_response.create(model=MODEL, messages=MESSAGES) as response:
        assert response.headers["x-request-id"] == "req_fake_1"
        completion = response.parse()
    with client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=MESSAGES, stream=True
    ) as streamed:
        lines = [line for line in streamed.iter_lines() if line]

    assert completion.choices[0].message.content == "Hello from choice 0"
    assert lines[-1] == "data: [DONE]"
    assert json.loads(lines[0].removeprefix("data: "))["object"] == "chat.completion.chunk"


async def test_async_with_streaming_response(async_client: AsyncOpenAI) -> None:
    async with async_client.responses.with_streaming_response.create(model=MODEL, input="Hi") as response:
        assert response.status_code == 200
        parsed = await response.parse()

    assert parsed.output_text == "Hello from responses"


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (403, openai.PermissionDeniedError),
        (404, openai.NotFoundError),
        (409, openai.ConflictError),
        (422, openai.UnprocessableEntityError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
        (503, openai.InternalServerError),
    ],
)
def test_error_statuses(
    client: OpenAI, fake_openai: FakeOpenAIServer, status: int, exception: type[openai.APIStatusError]
) -> None:
    fake_openai.enqueue(FakeResponse.error(status, "Boom", code=f"code_{status}", param="model"))

    with pytest.raises(exception) as caught:
        client.chat.completions.create(model=MODEL, messages=MESSAGES)

    error = caught.value
    assert error.status_code == status
    assert (error.code, error.param, error.type) == (f"code_{status}", "model", "invalid_request_error")
    assert "Boom" in error.message
    assert error.request_id == "req_fake_1"
    assert error.body == {
        "message": "Boom",
        "type": "invalid_request_error",
        "param": "model",
        "code": f"code_{status}",
    }


async def test_async_error_with_headers(async_client: AsyncOpenAI, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(
        FakeResponse.error(429, "Slow down", code="rate_limit_exceeded", type_="requests", headers={"retry-after": "1"})
    )

    with pytest.raises(openai.RateLimitError) as caught:
        await async_client.responses.create(model=MODEL, input="Hi")

    assert caught.value.code == "rate_limit_exceeded" and caught.value.type == "requests"
    assert caught.value.response.headers["retry-after"] == "1"


def test_error_event_in_stream_raises_api_error(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    first = payloads.chat_completion_chunks({"model": MODEL})[0]
    error = {"error": {"message": "Overloaded", "type": "server_error", "param": None, "code": "overloaded"}}
    fake_openai.enqueue(FakeResponse.sse([first, error]))

    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):
            received.append(chunk)

    assert len(received) == 1
    assert not isinstance(caught.value, openai.APIStatusError)
    assert (caught.value.message, caught.value.code, caught.value.type) == ("Overloaded", "overloaded", "server_error")


def test_responses_error_event_is_yielded_not_raised(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    created = responses_api.response_events(responses_api.response_object({"model": MODEL}))[0]
    error = {"type": "error", "code": "server_error", "message": "Oops", "param": None, "sequence_number": 1}
    fake_openai.enqueue(FakeResponse.sse([created, error], done=False))

    with client.responses.stream(model=MODEL, input="Hi") as stream:
        events = list(stream)
        with pytest.raises(RuntimeError, match=r"response\.completed"):
            stream.get_final_response()

    assert [event.type for event in events] == ["response.created", "error"]
    assert events[1].type == "error" and events[1].message == "Oops"


def test_cut_chat_stream(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    body = {"model": MODEL, "stream_options": {"include_usage": True}}
    fake_openai.enqueue(FakeResponse.sse(payloads.chat_completion_chunks(body), cut_after=2))

    received = []
    with pytest.raises(cut_stream_error()):
        for chunk in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True):
            received.append(chunk)

    assert [chunk.choices[0].delta.content for chunk in received] == ["", "Hello f"]


async def test_async_cut_responses_stream(async_client: AsyncOpenAI, fake_openai: FakeOpenAIServer) -> None:
    events = responses_api.response_events(responses_api.response_object({"model": MODEL}))
    fake_openai.enqueue(FakeResponse.sse(events, cut_after=5))

    seen = []
    with pytest.raises(cut_stream_error()):
        async with async_client.responses.stream(model=MODEL, input="Hi") as stream:
            async for event in stream:
                seen.append(event.type)

    assert seen[:2] == ["response.created", "response.in_progress"] and len(seen) == 5


def test_slow_stream_is_delivered(client: OpenAI, fake_openai: FakeOpenAIServer) -> None:
    fake_openai.enqueue(FakeResponse.slow_sse(payloads.chat_completion_chunks({"model": MODEL}), delay_s=0.01))

    stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)

    assert "".join(c.choices[0].delta.content or "" for c in stream) == "Hello from choice 0"


def test_slow_stream_read_timeout(fake_openai: FakeOpenAIServer) -> None:
    chunks = payloads.chat_completion_chunks({"model": MODEL})[:2]
    fake_openai.enqueue(FakeResponse.slow_sse(chunks, delay_s=0.6))

    with OpenAI(api_key=API_KEY, base_url=fake_openai.base_url, max_retries=0, timeout=0.2) as sdk:
        stream = sdk.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        with pytest.raises(read_timeout_error()):
            list(stream)


# --------------------------------------------------------------------------- strict schema checks


def _validate_all(model: Any, items: list[dict[str, Any]]) -> None:
    adapter = pydantic.TypeAdapter(model)
    for item in items:
        adapter.validate_python(item)


CHAT_BODIES: list[dict[str, Any]] = [
    {"model": MODEL},
    {"model": MODEL, "n": 2, "tools": [CHAT_TOOL], "stream_options": {"include_usage": True}},
    {"model": MODEL, "response_format": {"type": "json_schema", "json_schema": {"name": "Answer"}}},
]
RESPONSES_BODIES: list[dict[str, Any]] = [
    {"model": MODEL},
    {"model": MODEL, "tools": [RESPONSES_TOOL], "reasoning": {"effort": "low", "summary": "auto"}},
    {"model": MODEL, "text": {"format": {"type": "json_schema", "name": "Answer", "schema": {}, "strict": True}}},
]


@pytest.mark.parametrize("body", CHAT_BODIES)
def test_chat_payloads_validate_strictly(body: dict[str, Any]) -> None:
    _validate_all(ChatCompletion, [payloads.chat_completion(body)])
    _validate_all(ChatCompletionChunk, payloads.chat_completion_chunks(body))


@pytest.mark.parametrize("body", RESPONSES_BODIES)
def test_responses_payloads_validate_strictly(body: dict[str, Any]) -> None:
    response = responses_api.response_object(body)
    _validate_all(Response, [response])
    _validate_all(ResponseStreamEvent, responses_api.response_events(response))


def test_other_payloads_validate_strictly() -> None:
    body = {"model": MODEL, "n": 2, "stream_options": {"include_usage": True}}
    final_chunks = [c for c in payloads.completion_chunks(body) if all(x["finish_reason"] for x in c["choices"])]
    _validate_all(Completion, [payloads.completion(body), *final_chunks])
    _validate_all(CreateEmbeddingResponse, [payloads.embeddings({"model": "e", "input": ["a", "b"]})])
