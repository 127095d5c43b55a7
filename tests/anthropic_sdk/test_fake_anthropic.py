"""The fake Anthropic server's wire format, read with the standard library (no SDK)."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

import pytest

from wikitrace_otel.testing.fake_anthropic import FakeAnthropicServer, payloads, stream


def _post(server: FakeAnthropicServer, path: str, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        f"{server.base_url}{path}", data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as failed:
        with failed:
            return failed.code, dict(failed.headers), failed.read()


def test_message_count_tokens_and_not_found(fake_anthropic: FakeAnthropicServer) -> None:
    status, headers, body = _post(fake_anthropic, "/v1/messages", {"model": "m", "messages": []})
    assert status == 200 and headers["request-id"] == "req_fake_1"
    assert json.loads(body)["content"] == [{"type": "text", "text": payloads.DEFAULT_TEXT}]
    status, _, body = _post(fake_anthropic, "/v1/messages/count_tokens", {"model": "m", "messages": []})
    assert status == 200 and json.loads(body)["input_tokens"] >= 1
    status, _, body = _post(fake_anthropic, "/v1/nothing", {})
    assert status == 404
    assert json.loads(body)["error"]["type"] == "not_found_error"
    assert [r.path for r in fake_anthropic.requests] == ["/v1/messages", "/v1/messages/count_tokens", "/v1/nothing"]


def test_stream_is_named_sse_events_in_order(fake_anthropic: FakeAnthropicServer) -> None:
    status, headers, body = _post(fake_anthropic, "/v1/messages", {"model": "m", "stream": True})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    blocks = [b for b in body.decode().split("\n\n") if b]
    names = [b.split("\n")[0].removeprefix("event: ") for b in blocks]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    assert "ping" in names and "[DONE]" not in body.decode()
    for block in blocks:
        name, data = block.split("\n")
        assert json.loads(data.removeprefix("data: "))["type"] == name.removeprefix("event: ")


@pytest.mark.parametrize("block", [payloads.thinking_block("a b c"), payloads.tool_use_block("t", "f", {"x": [1, 2]})])
def test_block_deltas_reassemble(block: dict[str, Any]) -> None:
    events = payloads.message_events(payloads.message("m", [block]))
    deltas = [e["delta"] for e in events if e["type"] == "content_block_delta"]
    if block["type"] == "thinking":
        assert "".join(d.get("thinking", "") for d in deltas) == "a b c"
        assert deltas[-1] == {"type": "signature_delta", "signature": block["signature"]}
    else:
        assert json.loads("".join(d["partial_json"] for d in deltas)) == {"x": [1, 2]}


def test_queued_answers_and_cut_streams(fake_anthropic: FakeAnthropicServer) -> None:
    fake_anthropic.enqueue(stream(payloads.message_events(payloads.message("m")), cut_after=2))
    with pytest.raises(http.client.IncompleteRead):  # the chunked body never ends properly
        _post(fake_anthropic, "/v1/messages", {"stream": True})
    status, _, _ = _post(fake_anthropic, "/v1/messages", {"model": "m"})
    assert status == 200
