"""The wrapper put around botocore's ``BaseClient._make_api_call``.

Every boto3/botocore client, whenever it was created, sends each operation through that one
method (``client.converse(...)`` is ``_make_api_call("Converse", params)``), so wrapping it on
the base class traces clients created before and after ``instrument()`` alike, and restoring it
undoes everything. Calls of other services, and Bedrock Runtime operations not in the table,
pass straight through after one dictionary lookup.

For a traced operation the wrapper:
- asks :mod:`wikitrace_otel._genai.gate` first, which may refuse the call (a spent budget) by
  raising before anything is sent;
- starts the span before the request (sampling attributes included) and makes it current while
  botocore sends, so its retries and any HTTP spans nest under it;
- ends it on the answer, or puts the answer's event stream behind a traced stream proxy;
- re-raises botocore's exceptions unchanged, and never lets its own failure reach the caller.

``invoke_model`` answers with a not-yet-read ``StreamingBody``: the wrapper reads it (the
usage is in it) and puts an identical ``StreamingBody`` over the same bytes back in the answer,
so the caller's ``read()`` works as before. An error while reading the body is botocore's, and
is raised from ``invoke_model`` instead of from ``read()``.

aiobotocore's asynchronous twin of this wrapper, built on the same :class:`Tracer` and
:class:`BedrockCall`, is in :mod:`.aio`.
"""

from __future__ import annotations

import functools
import io
from typing import Any, ClassVar
from urllib.parse import urlsplit

from wikitrace_otel._genai import gate
from wikitrace_otel._genai.call import TracedCall, Wrapper, make_call_wrapper
from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.request import input_content, request_attributes
from wikitrace_otel._genai.stream import StreamState, TracedStream
from wikitrace_otel._genai.telemetry import GenAITelemetry
from wikitrace_otel.instrumentors.bedrock.apis import Api, Request
from wikitrace_otel.semconv import gen_ai as g

SERVICE = "bedrock-runtime"
_CACHE_LIMIT = 256


def error_type(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError`` (``ThrottlingException``...), else None.

    Errors inside an event stream (``EventStreamError``) are ``ClientError`` subclasses too.
    """
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    code = error.get("Code") if isinstance(error, dict) else None
    return code if isinstance(code, str) and code else None


class Tracer:
    """Starts invocations for Bedrock Runtime calls and finishes them from their answers."""

    def __init__(self, telemetry: GenAITelemetry, operations: dict[str, Api]) -> None:
        self.telemetry = telemetry
        self.operations = operations
        self._endpoints: dict[str, tuple[str, str | None, int | None]] = {}

    def api_for(self, client: Any, operation_name: Any) -> Api | None:
        """The table entry of a call, or None when it is not a traced Bedrock Runtime operation."""
        api = self.operations.get(operation_name) if isinstance(operation_name, str) else None
        if api is None:
            return None
        meta = getattr(client, "meta", None)
        service_model = getattr(meta, "service_model", None)
        return api if getattr(service_model, "service_name", None) == SERVICE else None

    def endpoint(self, client: Any) -> tuple[str, str | None, int | None]:
        """``(provider, address, port)`` of a client, resolved once per endpoint URL."""
        url = str(getattr(client.meta, "endpoint_url", "") or "")
        known = self._endpoints.get(url)
        if known is None:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower() or None
            try:
                port = parts.port or (443 if parts.scheme == "https" else 80)
            except ValueError:
                port = None
            hosts = self.telemetry.settings.provider_hosts
            provider = (hosts.get(f"{host}:{port}") or hosts.get(host or "")) if hosts else None
            known = (provider or g.Provider.AWS_BEDROCK.value, host, None if port == 443 else port)
            if len(self._endpoints) >= _CACHE_LIMIT:
                self._endpoints.clear()
            self._endpoints[url] = known
        return known

    def start(self, api: Api, client: Any, request: Request) -> Invocation:
        """Open the span of one call (after the budget gate let it through)."""
        provider, address, port = self.endpoint(client)
        attrs = request_attributes(request.operation, provider, request.params.get("modelId"), address, port)
        if api.stream_key is not None:
            attrs[g.GEN_AI_REQUEST_STREAM] = True
        api.request(request, attrs)
        ticket = gate.before_request(attrs, lambda: api.content(request))
        content = input_content(self.telemetry, api.content, request)
        invocation = Invocation(self.telemetry, attrs, content, ticket)
        invocation.error_classifier = error_type
        return invocation

    def finish(
        self,
        api: Api,
        invocation: Invocation,
        request: Request,
        answer: Any,
        data: bytes | None,
        proxy: type[StreamState] = TracedStream,
    ) -> Any:
        """Hand the answer over: end the span now, or put its event stream behind ``proxy`` (the
        sync or async stream proxy) so it ends later."""
        if not isinstance(answer, dict):
            invocation.end()
            return answer
        if api.stream_key is not None and api.accumulator is not None:
            stream = answer.get(api.stream_key)
            if stream is not None:
                answer[api.stream_key] = proxy(stream, api.accumulator(invocation, request))
                return answer
        api.result(invocation, request, answer, data)
        invocation.end()
        return answer


def read_body(answer: Any, invocation: Invocation) -> bytes | None:
    """Read ``invoke_model``'s ``StreamingBody`` into bytes for the span, and give the caller an
    identical unread one. botocore's errors while reading end the span and propagate."""
    body = answer.get("body") if isinstance(answer, dict) else None
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    read = getattr(body, "read", None)
    if read is None:
        return None
    try:
        data = read()
    except BaseException as exc:
        invocation.end(exc)
        raise
    answer["body"] = _streaming_body(data)
    return data if isinstance(data, bytes) else None


def _streaming_body(data: bytes) -> Any:
    from botocore.response import StreamingBody

    return StreamingBody(io.BytesIO(data), len(data))


class BedrockCall(TracedCall):
    """One traced Bedrock Runtime operation while botocore sends it (aiobotocore's subclass
    swaps the stream proxy and reads the body itself)."""

    __slots__ = ("tracer", "api", "request", "data")

    stream_proxy: ClassVar[type[StreamState]] = TracedStream
    reads_body_in_finish: ClassVar[bool] = True

    def __init__(self, tracer: Tracer, api: Api, client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.tracer, self.api = tracer, api
        params = args[1] if len(args) > 1 else kwargs.get("api_params")
        self.request = api.prepare(params if isinstance(params, dict) else {})
        self.data: bytes | None = None
        super().__init__(tracer.start(api, client, self.request), kwargs)

    def finish(self, result: Any) -> Any:
        """Read ``invoke_model``'s body first (botocore's own read errors propagate), then hand over."""
        if self.reads_body_in_finish and self.api.stream_key is None and self.api.reads_body:
            self.data = read_body(result, self.invocation)
        return super().finish(result)

    def hand_over(self, result: Any) -> Any:
        return self.tracer.finish(self.api, self.invocation, self.request, result, self.data, self.stream_proxy)


def begin_call(
    call_type: type[BedrockCall], tracer: Tracer, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> BedrockCall | None:
    """The traced call of ``_make_api_call(operation_name, api_params)``, or None when the
    operation is not traced."""
    operation_name = args[0] if args else kwargs.get("operation_name")
    api = tracer.api_for(instance, operation_name)
    return None if api is None else call_type.begin(tracer, api, instance, args, kwargs)


def make_wrapper(tracer: Tracer) -> Wrapper:
    """A wrapt wrapper for ``BaseClient._make_api_call(operation_name, api_params)``."""
    return make_call_wrapper(functools.partial(begin_call, BedrockCall, tracer), is_async=False)
