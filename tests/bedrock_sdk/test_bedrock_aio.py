"""aiobotocore clients against the fake Bedrock server over HTTP: ``converse`` and
``invoke_model`` (the body awaited for its usage and handed back unread), errors, retries,
operations not traced, and instrument / uninstrument of ``AioBaseClient``."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import Any

import pytest

pytest.importorskip("aiobotocore", reason="aiobotocore is not installed: async Bedrock clients untested")

from bedrock_support import CLAUDE, NOVA, USER, aio_client

from otel_helpers import attributes, json_attribute, metric_points, only_span
from sdk_support import EndCounter
from wikitrace_otel.instrumentors import bedrock
from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor
from wikitrace_otel.testing.fake_bedrock import FakeBedrockServer, error, eventstream, json_answer, payloads, stream

CLAUDE_BODY = {
    "anthropic_version": "bedrock-2023-05-31",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "Hi"}],
}


def _original() -> Any:
    from aiobotocore.client import AioBaseClient

    return AioBaseClient.__dict__["_make_api_call"]


@pytest.mark.usefixtures("instrumented")
async def test_converse(aio_live: Any, span_exporter: Any, metric_reader: Any, ends: EndCounter) -> None:
    answer = await aio_live.converse(modelId=NOVA, messages=USER, inferenceConfig={"maxTokens": 50, "topP": 0.5})
    assert answer["output"]["message"]["content"][0]["text"] == f"Hello from {NOVA}."
    span = only_span(span_exporter)
    found = attributes(span)
    assert span.name == f"chat {NOVA}" and span.kind.name == "CLIENT"
    assert found["gen_ai.provider.name"] == "aws.bedrock"
    assert found["gen_ai.request.max_tokens"] == 50 and found["gen_ai.request.top_p"] == 0.5
    assert (found["gen_ai.usage.input_tokens"], found["gen_ai.usage.output_tokens"]) == (12, 7)
    assert found["gen_ai.response.finish_reasons"] == ["end_turn"]
    assert found["server.address"] == "127.0.0.1" and isinstance(found["server.port"], int)
    assert "gen_ai.request.stream" not in found
    points = metric_points(metric_reader)
    assert len(points["gen_ai.client.inference.duration"]) == 1
    (used,) = points["gen_ai.client.inference.usage.output_tokens"]
    assert used.value == 7
    ends.check(span_exporter)


async def test_converse_content(instrument_bedrock: Any, aio_live: Any, span_exporter: Any) -> None:
    instrument_bedrock(capture_content="SPAN_ONLY")
    await aio_live.converse(modelId=NOVA, messages=USER, system=[{"text": "Be brief."}])
    span = only_span(span_exporter)
    assert json_attribute(span, "gen_ai.input.messages") == [
        {"role": "user", "parts": [{"type": "text", "content": "Hello"}]}
    ]
    assert json_attribute(span, "gen_ai.system_instructions") == [{"type": "text", "content": "Be brief."}]
    (output,) = json_attribute(span, "gen_ai.output.messages")
    assert output["parts"] == [{"type": "text", "content": f"Hello from {NOVA}."}]


@pytest.mark.usefixtures("instrumented")
async def test_http_error_passes_through(fake_bedrock: FakeBedrockServer, aio_live: Any, span_exporter: Any) -> None:
    from botocore.exceptions import ClientError

    fake_bedrock.enqueue(error(429, "ThrottlingException", "slow down"))
    with pytest.raises(ClientError) as raised:
        await aio_live.converse(modelId=NOVA, messages=USER)
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    span = only_span(span_exporter)
    assert span.status.status_code.name == "ERROR"
    assert attributes(span)["error.type"] == "ThrottlingException"


@pytest.mark.usefixtures("instrumented")
async def test_retries_are_inside_the_one_span(fake_bedrock: FakeBedrockServer, span_exporter: Any) -> None:
    fake_bedrock.enqueue(error(429, "ThrottlingException", "slow down"))
    async with aio_client(fake_bedrock.endpoint_url, retries=1) as retrying:
        await retrying.converse(modelId=NOVA, messages=USER)
    assert len(fake_bedrock.requests) == 2
    span = only_span(span_exporter)
    assert span.status.status_code.name == "UNSET"
    assert attributes(span)["gen_ai.response.finish_reasons"] == ["end_turn"]


@pytest.mark.usefixtures("instrumented")
async def test_span_is_current_while_sending(aio_live: Any, span_exporter: Any, tracer_provider: Any) -> None:
    # The parent is the caller's span; aiobotocore's own hooks see the call's span as current.
    from opentelemetry import trace

    seen: list[Any] = []
    aio_live.meta.events.register(
        "before-send.bedrock-runtime.Converse", lambda **_: seen.append(trace.get_current_span())
    )
    with tracer_provider.get_tracer("test").start_as_current_span("request handler") as parent:
        await aio_live.converse(modelId=NOVA, messages=USER)
    call = next(s for s in span_exporter.get_finished_spans() if s.name.startswith("chat"))
    assert call.parent is not None and call.parent.span_id == parent.get_span_context().span_id
    assert [s.get_span_context().span_id for s in seen] == [call.context.span_id]


@pytest.mark.usefixtures("instrumented")
async def test_concurrent_calls_get_a_span_each(
    aio_live: Any, span_exporter: Any, tracer_provider: Any, ends: EndCounter
) -> None:
    with tracer_provider.get_tracer("test").start_as_current_span("request handler") as parent:
        answers = await asyncio.gather(*(aio_live.converse(modelId=f"{NOVA}-{i}", messages=USER) for i in range(5)))
    assert [a["output"]["message"]["content"][0]["text"] for a in answers] == [
        f"Hello from {NOVA}-{i}." for i in range(5)
    ]
    calls = [s for s in span_exporter.get_finished_spans() if s.name.startswith("chat")]
    assert sorted(s.name for s in calls) == [f"chat {NOVA}-{i}" for i in range(5)]
    assert {s.parent.span_id for s in calls if s.parent is not None} == {parent.get_span_context().span_id}
    ends.check(span_exporter, expected_spans=6)


@pytest.mark.usefixtures("instrumented")
async def test_a_cancelled_call_ends_its_span(aio_live: Any, span_exporter: Any, ends: EndCounter) -> None:
    sending = asyncio.Event()

    async def hang(**_: Any) -> None:  # an aiobotocore hook inside the call: it never returns
        sending.set()
        await asyncio.sleep(3600)

    aio_live.meta.events.register("before-send.bedrock-runtime.Converse", hang)
    task = asyncio.ensure_future(aio_live.converse(modelId=NOVA, messages=USER))
    await sending.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = only_span(span_exporter)
    assert span.status.status_code.name == "ERROR"
    assert attributes(span)["error.type"] == "asyncio.exceptions.CancelledError"
    ends.check(span_exporter)


@pytest.mark.usefixtures("instrumented")
async def test_a_spent_budget_refuses_without_sending(fake_bedrock: FakeBedrockServer, aio_live: Any) -> None:
    import wikitrace_otel as wt
    from wikitrace_otel import budgets

    budgets.use_prices({NOVA: {"input": 1000, "output": 4000}})  # per million tokens
    try:
        with wt.budget(usd=0.02) as spent:
            await aio_live.converse(modelId=NOVA, messages=USER)  # 12 in, 7 out: $0.04
            assert spent.exceeded
            with pytest.raises(wt.BudgetExceeded):
                await aio_live.converse_stream(modelId=NOVA, messages=USER)
            with pytest.raises(wt.BudgetExceeded):
                await aio_live.invoke_model(modelId=NOVA, body=b'{"messages": []}')
    finally:
        budgets.use_prices(None)
    assert len(fake_bedrock.requests) == 1


@pytest.mark.usefixtures("instrumented")
async def test_invoke_model_body_is_read_for_the_span_and_handed_back_unread(
    fake_bedrock: FakeBedrockServer, aio_live: Any, span_exporter: Any, ends: EndCounter
) -> None:
    message = payloads.anthropic_message(CLAUDE, "Hi there.", input_tokens=10, output_tokens=5, cache_write=20)
    fake_bedrock.enqueue(json_answer(message))
    answer = await aio_live.invoke_model(modelId=CLAUDE, body=json.dumps(CLAUDE_BODY))
    body = answer["body"]
    from aiobotocore import response

    assert type(body).__module__ == response.__name__  # aiobotocore's own body class, rebuilt
    assert json.loads(await body.read()) == message
    assert await body.read() == b""
    found = attributes(only_span(span_exporter))
    assert found["gen_ai.request.max_tokens"] == 64
    assert found["gen_ai.response.id"] == "msg_bdrk_fake"
    assert found["gen_ai.usage.input_tokens"] == 30 and found["gen_ai.usage.cache_write.input_tokens"] == 20
    assert found["gen_ai.response.finish_reasons"] == ["end_turn"]
    ends.check(span_exporter)


@pytest.mark.usefixtures("instrumented")
@pytest.mark.parametrize("how", ["read", "chunks", "async_with", "lines"])
async def test_invoke_model_body_reads_every_way(how: str, fake_bedrock: FakeBedrockServer, aio_live: Any) -> None:
    message = payloads.anthropic_message(CLAUDE, "x" * 3000)  # longer than one 1 KiB chunk
    fake_bedrock.enqueue(json_answer(message))
    body = (await aio_live.invoke_model(modelId=CLAUDE, body=json.dumps(CLAUDE_BODY)))["body"]
    if how == "read":
        data = await body.read(10) + await body.read()
    elif how == "chunks":
        data = b"".join([chunk async for chunk in body])
    elif how == "async_with":
        async with body as opened:
            data = await opened.read()
    else:
        data = b"\n".join([line async for line in body.iter_lines()])
    assert json.loads(data) == message
    body.close()


@pytest.mark.usefixtures("instrumented")
async def test_invoke_model_over_the_httpx_backend(fake_bedrock: FakeBedrockServer, span_exporter: Any) -> None:
    # aiobotocore's other HTTP backend has a body class of its own, closed with await.
    httpxsession = pytest.importorskip("aiobotocore.httpxsession")
    from aiobotocore.config import AioConfig

    message = payloads.anthropic_message(CLAUDE, input_tokens=10, output_tokens=5)
    fake_bedrock.enqueue(json_answer(message))
    config = AioConfig(http_session_cls=httpxsession.HttpxSession, retries={"total_max_attempts": 1})
    async with aio_client(fake_bedrock.endpoint_url, config=config) as bedrock:
        answer = await bedrock.invoke_model(modelId=CLAUDE, body=json.dumps(CLAUDE_BODY))
        body = answer["body"]
        assert type(body).__name__ in ("AioHttpxStreamingBody", "HttpxStreamingBody")
        assert json.loads(await body.read()) == message  # 3.0's httpx body reads only all at once
        async with body:  # closes the response with await
            pass
    assert attributes(only_span(span_exporter))["gen_ai.usage.output_tokens"] == 5


@pytest.mark.usefixtures("instrumented")
async def test_invoke_model_usage_from_headers_and_embeddings(
    fake_bedrock: FakeBedrockServer, aio_live: Any, span_exporter: Any
) -> None:
    headers = {"x-amzn-bedrock-input-token-count": "7", "x-amzn-bedrock-output-token-count": "0"}
    fake_bedrock.enqueue(json_answer({"embedding": [0.1, 0.2], "inputTextTokenCount": 7}, headers))
    model = "amazon.titan-embed-text-v2:0"
    answer = await aio_live.invoke_model(modelId=model, body=json.dumps({"inputText": "Hi"}))
    assert json.loads(await answer["body"].read())["embedding"] == [0.1, 0.2]
    span = only_span(span_exporter)
    assert span.name == f"embeddings {model}"
    assert attributes(span)["gen_ai.usage.input_tokens"] == 7


@pytest.mark.usefixtures("instrumented")
async def test_invoke_model_body_cut_while_read(
    fake_bedrock: FakeBedrockServer, aio_live: Any, span_exporter: Any, ends: EndCounter
) -> None:
    # A body that breaks off: aiobotocore's own read error comes out of invoke_model.
    fake_bedrock.enqueue(stream([eventstream.chunk({"x": 1})] * 3, cut_after=1))
    with pytest.raises(Exception) as raised:
        await aio_live.invoke_model(modelId=CLAUDE, body=json.dumps(CLAUDE_BODY))
    span = only_span(span_exporter)
    assert span.status.status_code.name == "ERROR"
    assert span.events[0].attributes is not None
    assert span.events[0].attributes["exception.type"].endswith(type(raised.value).__name__)
    ends.check(span_exporter)


@pytest.mark.usefixtures("instrumented")
async def test_other_operations_are_not_traced(aio_live: Any, span_exporter: Any) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError):  # the fake answers 400 to anything it does not know
        await aio_live.apply_guardrail(
            guardrailIdentifier="g", guardrailVersion="1", source="INPUT", content=[{"text": {"text": "x"}}]
        )
    assert span_exporter.get_finished_spans() == ()


async def test_instrument_and_uninstrument(
    instrument_bedrock: Any, fake_bedrock: FakeBedrockServer, span_exporter: Any
) -> None:
    original = _original()
    async with aio_client(fake_bedrock.endpoint_url) as before:
        instrument_bedrock()
        assert _original() is not original
        async with aio_client(fake_bedrock.endpoint_url) as after:
            await before.converse(modelId=NOVA, messages=USER)
            await after.converse(modelId=NOVA, messages=USER)
        assert len(span_exporter.get_finished_spans()) == 2
        BedrockInstrumentor().uninstrument()
        assert _original() is original
        await before.converse(modelId=NOVA, messages=USER)
    assert len(span_exporter.get_finished_spans()) == 2


def test_without_aiobotocore_the_sync_client_is_still_traced(
    instrument_bedrock: Any, fake_bedrock: FakeBedrockServer, span_exporter: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bedrock_support import client

    original = _original()
    for name in ("aiobotocore", "aiobotocore.client"):
        monkeypatch.setitem(sys.modules, name, None)  # as if not installed: importing it fails
    instrument_bedrock()
    monkeypatch.undo()
    assert _original() is original
    client(fake_bedrock.endpoint_url).converse(modelId=NOVA, messages=USER)
    assert only_span(span_exporter).name == f"chat {NOVA}"


class _BrokenModule:
    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("half-installed aiobotocore")


def test_an_aiobotocore_that_fails_to_load_costs_only_itself(
    instrument_bedrock: Any,
    fake_bedrock: FakeBedrockServer,
    span_exporter: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bedrock_support import client

    monkeypatch.setattr(bedrock, "_ASYNC_TARGETS", (("wikitrace_broken_aio", "AioBaseClient", "_make_api_call"),))
    monkeypatch.setitem(sys.modules, "wikitrace_broken_aio", _BrokenModule())
    instrument_bedrock()
    assert any("half-installed aiobotocore" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    client(fake_bedrock.endpoint_url).converse(modelId=NOVA, messages=USER)
    assert only_span(span_exporter).name == f"chat {NOVA}"


def _is_wrapped() -> str:
    return "isinstance(AioBaseClient.__dict__['_make_api_call'], __import__('wrapt').FunctionWrapper)"


def _run(code: str) -> list[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()


def test_aiobotocore_is_wrapped_when_the_application_imports_it() -> None:
    # Neither importing the instrumentor nor instrument() imports aiobotocore (nor aiohttp).
    loaded = "any(m.split('.')[0] in ('aiobotocore', 'aiohttp') for m in sys.modules)"
    out = _run(
        "import sys\n"
        "from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor\n"
        f"print({loaded})\n"
        "BedrockInstrumentor().instrument()\n"
        f"print({loaded})\n"
        "from aiobotocore.client import AioBaseClient\n"
        f"print({_is_wrapped()})\n"
        "BedrockInstrumentor().uninstrument()\n"
        f"print({_is_wrapped()})\n"
    )
    assert out == ["False", "False", "True", "False"]


def test_uninstrumented_before_aiobotocore_is_imported() -> None:
    out = _run(
        "from wikitrace_otel.instrumentors.bedrock import BedrockInstrumentor\n"
        "BedrockInstrumentor().instrument()\n"
        "BedrockInstrumentor().uninstrument()\n"
        "from aiobotocore.client import AioBaseClient\n"
        f"print({_is_wrapped()})\n"
    )
    assert out == ["False"]


async def test_a_body_class_that_cannot_be_rebuilt_gets_a_plain_one(monkeypatch: pytest.MonkeyPatch) -> None:
    # A future body class built another way: reported, and the caller still reads its bytes.
    from wikitrace_otel.instrumentors.bedrock.aio import buffered_body

    class Unknown:
        def __init__(self) -> None:
            self.opened = True

    monkeypatch.setenv("WIKITRACE_RAISE_INTERNAL_ERRORS", "false")
    body = buffered_body(Unknown(), b"abcdef")
    assert await body.read(2) == b"ab"
    assert [chunk async for chunk in body.iter_chunks(3)] == [b"cde", b"f"]
    async with body:
        assert await body.read() == b""
