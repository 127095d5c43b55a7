"""Streams of ``generate_content_stream``: the accumulator and the proxies that carry the span.

The SDK's stream is a (sync or async) generator that sends its request only when first read,
and each later read may wait on the network (or, with automatic continuation, send the next
request), so the proxies make the call's span current while the SDK works inside
``__next__`` / ``__anext__``: HTTP client spans nest under it. The span itself ends as for every provider (see
:mod:`wikitrace_otel._genai.stream`): exhaustion, an error, ``close()`` / ``aclose()``, or
garbage collection.

Each chunk is a ``GenerateContentResponse`` holding only the new parts; the usage metadata is
cumulative (the last one counts) and the finish reasons arrive with the last chunk of each
candidate. Parts are gathered only when content capture is on; consecutive text pieces of the
same kind (answer or thought) are joined.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace

from wikitrace_otel._genai.invocation import Invocation
from wikitrace_otel._genai.stream import Accumulator, AsyncTracedStream, TracedStream
from wikitrace_otel.instrumentors.google_genai import extractors as ex
from wikitrace_otel.instrumentors.google_genai import messages
from wikitrace_otel.semconv import gen_ai as g


class _Candidate:
    """What one candidate (by index) streamed so far."""

    __slots__ = ("reason", "parts")

    def __init__(self) -> None:
        self.reason: str | None = None
        self.parts: list[dict[str, Any]] = []

    def add(self, part: dict[str, Any]) -> None:
        last = self.parts[-1] if self.parts else None
        if last is not None and last["type"] == part["type"] and part["type"] in ("text", "reasoning"):
            last["content"] += part["content"]
        else:
            self.parts.append(part)


class GenerateContentAccumulator(Accumulator):
    """Stream chunks → response attributes (and output content when captured)."""

    __slots__ = ("capture", "last", "usage", "candidates")

    def __init__(self, invocation: Invocation) -> None:
        super().__init__(invocation)
        self.capture = invocation.content is not None
        self.last: Any = None
        self.usage: Any = None
        self.candidates: dict[int, _Candidate] = {}

    def on_chunk(self, chunk: Any) -> None:
        self.last = chunk
        usage = getattr(chunk, "usage_metadata", None)
        if usage is not None:
            self.usage = usage
        for position, candidate in enumerate(getattr(chunk, "candidates", None) or ()):
            index = getattr(candidate, "index", None)
            key = index if isinstance(index, int) else position
            state = self.candidates.get(key)
            if state is None:
                state = self.candidates[key] = _Candidate()
            reason = getattr(candidate, "finish_reason", None)
            if reason is not None:
                state.reason = ex.enum_text(reason)
            if self.capture:
                self._gather(state, candidate)

    @staticmethod
    def _gather(state: _Candidate, candidate: Any) -> None:
        content = getattr(candidate, "content", None)
        for part in getattr(content, "parts", None) or ():
            state.add(messages.part_of(part))

    def finish(self, complete: bool) -> None:
        response = self.invocation.response
        if self.last is not None:
            ex.identity_attributes(self.last, response)
        ex.usage_attributes(self.usage, response)
        ordered = [self.candidates[i] for i in sorted(self.candidates)]
        reasons = tuple(c.reason or "error" for c in ordered) or ("error",)
        response[g.GEN_AI_RESPONSE_FINISH_REASONS] = reasons
        if self.invocation.content is not None:
            self.invocation.content[g.GEN_AI_OUTPUT_MESSAGES] = [
                {"role": "assistant", "parts": c.parts, "finish_reason": c.reason or "error"} for c in ordered
            ]


class GeminiStream(TracedStream):
    """A traced sync stream whose reads run with the call's span current."""

    def __init__(self, wrapped: Any, accumulator: Accumulator) -> None:
        super().__init__(wrapped, accumulator)
        # Built once: a read only attaches it (a few µs per chunk matter on long streams).
        self._self_context = trace.set_span_in_context(accumulator.invocation.span)

    def __next__(self) -> Any:
        # TracedStream.__next__ inlined (one frame less per chunk), with the span attached.
        token = otel_context.attach(self._self_context)
        try:
            iterator = self._self_iterator
            if iterator is None:
                iterator = self._self_iterator = iter(self.__wrapped__)
            chunk = next(iterator)
        except StopIteration:
            self._self_end(None, complete=True)
            raise
        except BaseException as exc:
            self._self_end(exc, complete=False)
            raise
        finally:
            otel_context.detach(token)
        self._self_on_chunk(chunk)
        return chunk


class AsyncGeminiStream(AsyncTracedStream):
    """A traced async stream whose reads run with the call's span current."""

    def __init__(self, wrapped: Any, accumulator: Accumulator) -> None:
        super().__init__(wrapped, accumulator)
        self._self_context = trace.set_span_in_context(accumulator.invocation.span)

    async def __anext__(self) -> Any:
        token = otel_context.attach(self._self_context)
        try:
            iterator = self._self_iterator
            if iterator is None:
                iterator = self._self_iterator = self.__wrapped__.__aiter__()
            chunk = await iterator.__anext__()
        except StopAsyncIteration:
            self._self_end(None, complete=True)
            raise
        except BaseException as exc:
            self._self_end(exc, complete=False)
            raise
        finally:
            otel_context.detach(token)
        self._self_on_chunk(chunk)
        return chunk
