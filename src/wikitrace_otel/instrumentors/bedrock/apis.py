"""The Bedrock Runtime operations the instrumentor traces, and how each maps to a span."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator
from wikitrace_otel.instrumentors.bedrock import converse, invoke
from wikitrace_otel.instrumentors.bedrock import models as m
from wikitrace_otel.semconv import gen_ai as g

Params = dict[str, Any]


@dataclass(frozen=True)
class Request:
    """One call's parameters, read once.

    Attributes:
        operation: ``gen_ai.operation.name`` (``chat``, or ``embeddings`` for embedding models).
        family: the ``invoke_model`` body family (None for Converse, or a body not recognised).
        body: the ``invoke_model`` body as JSON (None for Converse, or a body not readable).
        params: the operation's parameters as the caller passed them.
    """

    operation: str
    family: str | None
    body: dict[str, Any] | None
    params: Params


@dataclass(frozen=True)
class Api:
    """How one Bedrock Runtime operation becomes a span.

    Attributes:
        prepare: reads the parameters into a :class:`Request`.
        request: adds request attributes: ``(request, attrs)``.
        content: the input content (only called when capture is on, or by a budget check).
        result: reads a complete answer: ``(invocation, request, answer, body)``, with
            ``body`` the bytes of the answer's ``body`` when ``reads_body`` (else None).
        accumulator: builds the stream accumulator, or None for a non-streaming operation.
        stream_key: the key of the answer holding the event stream.
        reads_body: the answer's ``body`` is a ``StreamingBody`` to read (``invoke_model``).
    """

    prepare: Callable[[Params], Request]
    request: Callable[[Request, dict[str, Any]], None]
    content: Callable[[Request], dict[str, Any]]
    result: Callable[[Invocation, Request, dict[str, Any], bytes | None], None]
    accumulator: Callable[[Invocation, Request], Accumulator] | None = None
    stream_key: str | None = None
    reads_body: bool = False


def _converse_request(params: Params) -> Request:
    return Request(g.Operation.CHAT.value, None, None, params)


def _invoke_request(params: Params) -> Request:
    body = invoke.parse_body(params.get("body"))
    model = params.get("modelId")
    family = m.family(model if isinstance(model, str) else None, body)
    operation = g.Operation.EMBEDDINGS.value if family in m.EMBEDDING_FAMILIES else g.Operation.CHAT.value
    return Request(operation, family, body, params)


def _invoke_result(invocation: Invocation, request: Request, answer: dict[str, Any], data: bytes | None) -> None:
    parsed = invoke.parse_body(data) if data is not None else None
    headers = converse.as_dict(converse.as_dict(answer.get("ResponseMetadata")).get("HTTPHeaders"))
    invoke.read_answer(request.family, parsed or {}, headers, invocation)


CONVERSE = Api(
    prepare=_converse_request,
    request=lambda request, attrs: converse.request_attributes(request.params, attrs),
    content=lambda request: converse.content(request.params),
    result=lambda invocation, request, answer, data: converse.result(invocation, answer),
)
CONVERSE_STREAM = Api(
    prepare=_converse_request,
    request=lambda request, attrs: converse.request_attributes(request.params, attrs),
    content=lambda request: converse.content(request.params),
    result=lambda invocation, request, answer, data: None,
    accumulator=lambda invocation, request: converse.ConverseStreamAccumulator(invocation),
    stream_key="stream",
)
INVOKE_MODEL = Api(
    prepare=_invoke_request,
    request=lambda request, attrs: invoke.request_attributes(request.family, request.body, attrs),
    content=lambda request: invoke.content(request.family, request.body),
    result=_invoke_result,
    reads_body=True,
)
INVOKE_MODEL_STREAM = Api(
    prepare=_invoke_request,
    request=lambda request, attrs: invoke.request_attributes(request.family, request.body, attrs),
    content=lambda request: invoke.content(request.family, request.body),
    result=lambda invocation, request, answer, data: None,
    accumulator=lambda invocation, request: invoke.InvokeStreamAccumulator(invocation, request.family),
    stream_key="body",
)
