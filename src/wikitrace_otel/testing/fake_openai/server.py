"""A fake OpenAI HTTP server for tests (stdlib only).

``FakeOpenAIServer`` is a :class:`wikitrace_otel.testing._http.FakeServer` (a
``ThreadingHTTPServer`` on ``127.0.0.1``, random port, in a daemon thread, HTTP/1.1
with keep-alive), so the real ``openai`` SDK talks to it over real sockets.  Every request is recorded as a
``RecordedRequest``; the answer is the next queued ``FakeResponse`` if any, else
a deterministic default derived from the request (see ``payloads`` and
``responses_api``).

Wire formats:

* JSON answers carry ``Content-Length`` and ``content-type: application/json``.
* Streams (``text/event-stream``) use ``Transfer-Encoding: chunked``, one HTTP
  chunk per SSE event.  An event is ``data: <json>\\n\\n``, preceded by an
  ``event: <type>`` line when the payload has a string ``type`` (the Responses
  API does this); a plain string is sent as raw ``data`` (e.g. ``[DONE]``).
* Every answer carries ``x-request-id: req_fake_<n>`` (n counts requests from 1,
  restarting at ``reset()``) unless the ``FakeResponse`` sets its own.

Routes (any of the prefixes ``/v1``, ``/openai`` and
``/openai/deployments/<deployment>``, the Azure forms, which send
``?api-version=...``; for Azure the deployment stands in for a missing model):
``POST /chat/completions``, ``POST /completions``, ``POST /embeddings``,
``POST /responses``, ``GET /responses/<id>`` (``?stream=true`` for events; a
response created earlier in this session, else the default response for model
``gpt-fake`` under that id).  Streams end with ``data: [DONE]`` except the
Responses API's, which (like the real API) just end after ``response.completed``.
Anything else gets a 404 OpenAI error (code ``unknown_url``).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from wikitrace_otel.testing._http import (
    JSON,
    FakeResponse,
    FakeServer,
    RecordedRequest,
    SSEEvent,
    encode_sse,
)

from . import payloads, responses_api

__all__ = ["FakeOpenAIServer", "FakeResponse", "RecordedRequest", "SSEEvent", "default_response", "encode_sse"]


# --------------------------------------------------------------------------- routing

_PREFIX = re.compile(r"^(?:/v1|/openai(?:/deployments/(?P<deployment>[^/]+))?)(?P<rest>/.*)$")
Handler = Callable[[JSON, dict[str, str], dict[str, JSON], str], FakeResponse]


def _chat(body: JSON, query: dict[str, str], store: dict[str, JSON], arg: str) -> FakeResponse:
    if body.get("stream"):
        return FakeResponse.sse(payloads.chat_completion_chunks(body))
    return FakeResponse.json(payloads.chat_completion(body))


def _completions(body: JSON, query: dict[str, str], store: dict[str, JSON], arg: str) -> FakeResponse:
    if body.get("stream"):
        return FakeResponse.sse(payloads.completion_chunks(body))
    return FakeResponse.json(payloads.completion(body))


def _embeddings(body: JSON, query: dict[str, str], store: dict[str, JSON], arg: str) -> FakeResponse:
    return FakeResponse.json(payloads.embeddings(body))


def _create_response(body: JSON, query: dict[str, str], store: dict[str, JSON], arg: str) -> FakeResponse:
    response = responses_api.response_object(body)
    store[response["id"]] = response
    if body.get("stream"):
        return FakeResponse.sse(responses_api.response_events(response), done=False)
    return FakeResponse.json(response)


def _retrieve_response(body: JSON, query: dict[str, str], store: dict[str, JSON], arg: str) -> FakeResponse:
    response = store.get(arg) or responses_api.response_object({}, response_id=arg)
    if query.get("stream") == "true":
        return FakeResponse.sse(responses_api.response_events(response), done=False)
    return FakeResponse.json(response)


_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    ("POST", re.compile(r"/chat/completions"), _chat),
    ("POST", re.compile(r"/completions"), _completions),
    ("POST", re.compile(r"/embeddings"), _embeddings),
    ("POST", re.compile(r"/responses"), _create_response),
    ("GET", re.compile(r"/responses/(?P<arg>[^/]+)"), _retrieve_response),
]


def default_response(request: RecordedRequest, store: dict[str, JSON]) -> FakeResponse:
    """The deterministic answer for ``request`` when nothing is queued."""
    prefixed = _PREFIX.match(request.path)
    body: JSON = request.body if isinstance(request.body, dict) else {}
    if prefixed:
        if prefixed["deployment"] and "model" not in body:
            body = {**body, "model": prefixed["deployment"]}
        for method, pattern, handler in _ROUTES:
            found = pattern.fullmatch(prefixed["rest"])
            if found and method == request.method:
                return handler(body, request.query, store, found.groupdict().get("arg", ""))
    message = f"Invalid URL ({request.method} {request.path})"
    return FakeResponse.error(404, message, code="unknown_url")


class FakeOpenAIServer(FakeServer):
    """Fake OpenAI API on ``127.0.0.1``; see the module docstring.

    Use ``base_url`` for ``OpenAI(base_url=...)`` and ``azure_endpoint`` for
    ``AzureOpenAI(azure_endpoint=..., api_version=...)``.  Thread-safe.
    """

    name = "fake-openai"

    def __init__(self) -> None:
        super().__init__()
        self._stored: dict[str, JSON] = {}

    def default_response(self, request: RecordedRequest) -> FakeResponse:
        return default_response(request, self._stored)

    def failure_response(self, message: str) -> FakeResponse:
        return FakeResponse.error(500, message, type_="server_error")

    @property
    def azure_endpoint(self) -> str:
        return super().base_url

    @property
    def base_url(self) -> str:
        return f"{self.azure_endpoint}/v1"

    def reset(self) -> None:
        """Forget recorded requests, queued answers and stored responses."""
        super().reset()
        self._stored.clear()
