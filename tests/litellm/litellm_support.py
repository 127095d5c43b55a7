"""Helpers for the LiteLLM tests: one awaitable driver for sync and async LiteLLM functions."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

from sdk_support import SdkDriver

USER = [{"role": "user", "content": "Hi"}]
OPENAI_SCOPE = "wikitrace_otel.instrumentors.openai"
LITELLM_SCOPE = "wikitrace_otel.instrumentors.litellm"


class Driver(SdkDriver):
    """``litellm.completion`` / ``acompletion`` (and the embeddings pair) behind one interface."""

    def __init__(self, litellm: Any, is_async: bool) -> None:
        super().__init__(litellm, is_async)
        self.litellm = litellm

    async def completion(self, **kwargs: Any) -> Any:
        if self.is_async:
            return await self.litellm.acompletion(**kwargs)
        return _in_thread(self.litellm.completion, **kwargs)

    async def embedding(self, **kwargs: Any) -> Any:
        if self.is_async:
            return await self.litellm.aembedding(**kwargs)
        return _in_thread(self.litellm.embedding, **kwargs)

    async def first(self, stream: Any) -> Any:
        """Read one chunk, then leave the rest unread."""
        if self.is_async:
            return await stream.__anext__()
        return next(stream)


def _in_thread(function: Any, **kwargs: Any) -> Any:
    """Run a sync LiteLLM function as a sync program would: in a thread with no event loop
    (with one running, LiteLLM queues async logging work that the loop never runs). The thread
    gets a copy of the context, so the caller's current span is the parent; nothing but the
    caller keeps the result (garbage-collection tests rely on that)."""
    outcome: list[tuple[bool, Any]] = []
    context = contextvars.copy_context()

    def run() -> None:
        try:
            outcome.append((True, context.run(function, **kwargs)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            outcome.append((False, exc))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    ok, value = outcome.pop()
    if ok:
        return value
    raise value
