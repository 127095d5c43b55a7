"""Support shared by the provider SDK suites (``tests/<provider>_sdk``, ``tests/litellm``, ...).

- :class:`EndCounter` / :func:`install_end_counter`: a span processor that shows every span
  ended exactly once (the SDK logs a warning instead of calling ``on_end`` a second time).
- :class:`SdkDriver`: a sync or async client behind one awaitable interface, so one test body
  (parametrized ``sync`` / ``async``) covers both; suites subclass it where their SDK differs.
- :func:`drain`: read a sync or async stream to the end, or only its first items.
- :func:`instrumenting` / :func:`instrument_fixture`: an ``instrument_<provider>`` fixture (its
  body, or the whole fixture).
- :func:`fake_server_fixtures`: the session-scoped fake server and its per-test reset.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pytest
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

InstrumentorT = TypeVar("InstrumentorT", bound=BaseInstrumentor)


class FakeServer(Protocol):
    """What the suites need of a ``wikitrace_otel.testing.fake_*`` server."""

    def reset(self) -> None: ...


ServerT = TypeVar("ServerT", bound=FakeServer)


class EndCounter(SpanProcessor):
    """Counts ``on_end`` per span id; :meth:`check` asserts each span ended exactly once."""

    def __init__(self, caplog: pytest.LogCaptureFixture) -> None:
        caplog.set_level(logging.WARNING, logger="opentelemetry")
        self.ends: Counter[int] = Counter()
        self.caplog = caplog

    def on_end(self, span: ReadableSpan) -> None:
        assert span.context is not None
        self.ends[span.context.span_id] += 1

    def check(self, exporter: InMemorySpanExporter, expected_spans: int = 1) -> None:
        """Exactly ``expected_spans`` spans, each ended once, and no "already ended" warning."""
        spans = exporter.get_finished_spans()
        assert len(spans) == expected_spans, [s.name for s in spans]
        assert dict(self.ends) == {s.context.span_id: 1 for s in spans if s.context is not None}
        warnings = [r.getMessage() for r in self.caplog.records if r.name.startswith("opentelemetry")]
        assert warnings == []


def install_end_counter(tracer_provider: TracerProvider, caplog: pytest.LogCaptureFixture) -> EndCounter:
    """An :class:`EndCounter` added to ``tracer_provider`` (the body of each suite's ``ends`` fixture)."""
    counter = EndCounter(caplog)
    tracer_provider.add_span_processor(counter)
    return counter


async def drain(stream: Any, is_async: bool, limit: int | None = None) -> list[Any]:
    """Read ``stream`` to the end, or only ``limit`` items (then stop without closing).

    ``limit=0`` reads nothing.
    """
    items: list[Any] = []
    if limit == 0:
        return items
    if is_async:
        async for item in stream:
            items.append(item)
            if len(items) == limit:
                break
    else:
        for item in stream:
            items.append(item)
            if len(items) == limit:
                break
    return items


class SdkDriver:
    """A sync or async SDK client behind one awaitable interface.

    ``repr`` is ``sync`` / ``async``, so parametrized test ids read well. Subclasses override
    :meth:`target` (what :meth:`call` looks methods up on) or :meth:`call` / :meth:`close`.
    """

    def __init__(self, client: Any, is_async: bool) -> None:
        self.client = client
        self.is_async = is_async

    def __repr__(self) -> str:
        return "async" if self.is_async else "sync"

    def target(self) -> Any:
        """The object whose (dotted) methods :meth:`call` calls: the client itself by default."""
        return self.client

    async def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """``target.<method>(*args, **kwargs)``, awaited for the async client."""
        result = attrgetter(method)(self.target())(*args, **kwargs)
        return await result if self.is_async else result

    async def drain(self, stream: Any, limit: int | None = None) -> list[Any]:
        """Read ``stream`` to the end, or only ``limit`` items (then stop without closing)."""
        return await drain(stream, self.is_async, limit)

    async def close(self, stream: Any) -> None:
        """``stream.close()``, awaited for the async client."""
        result = stream.close()
        if self.is_async:
            await result


class GeneratorSdkDriver(SdkDriver):
    """An :class:`SdkDriver` whose streams are (async) generators: closed with ``aclose()`` when async."""

    async def close(self, stream: Any) -> None:
        """``close()`` a sync stream, ``aclose()`` an async one."""
        if self.is_async:
            await stream.aclose()
        else:
            stream.close()


def instrumenting(
    instrumentor_class: type[InstrumentorT],
    tracer_provider: Any,
    meter_provider: Any,
    logger_provider: Any,
    **defaults: Any,
) -> Iterator[Callable[..., InstrumentorT]]:
    """The body of an ``instrument_<provider>`` fixture: ``yield from instrumenting(...)``.

    Yields ``instrument(**kwargs)``, which instruments with the test providers (``kwargs`` and
    ``defaults`` go to ``instrument()``, ``kwargs`` first), and uninstruments every instrumentor
    it made once the test is over.
    """
    instrumentors: list[InstrumentorT] = []

    def _instrument(**kwargs: Any) -> InstrumentorT:
        instrumentor = instrumentor_class()
        providers = {"tracer_provider": tracer_provider, "meter_provider": meter_provider}
        instrumentor.instrument(**{**providers, "logger_provider": logger_provider, **defaults, **kwargs})
        instrumentors.append(instrumentor)
        return instrumentor

    yield _instrument
    for instrumentor in instrumentors:
        instrumentor.uninstrument()


def instrument_fixture(name: str, instrumentor_class: type[InstrumentorT]) -> Any:
    """An ``instrument_<provider>`` fixture for a conftest, named ``name``: see :func:`instrumenting`.

    Use as ``instrument_x = instrument_fixture("instrument_x", XInstrumentor)``.
    """

    @pytest.fixture(name=name)
    def instrument(
        tracer_provider: TracerProvider, meter_provider: Any, logger_provider: Any
    ) -> Iterator[Callable[..., InstrumentorT]]:
        yield from instrumenting(instrumentor_class, tracer_provider, meter_provider, logger_provider)

    return instrument


def fake_server_fixtures(name: str, running_server: Callable[[], Iterator[ServerT]]) -> tuple[Any, Any]:
    """Two fixtures for a conftest: ``<name>_session``, one server ``running_server`` starts for
    the whole session, and ``<name>``, that server reset (no recorded requests or queued answers).

    Use as ``fake_x_session, fake_x = fake_server_fixtures("fake_x", running_server)``.
    """

    @pytest.fixture(scope="session", name=f"{name}_session")
    def session_server() -> Iterator[ServerT]:
        yield from running_server()

    @pytest.fixture(name=name)
    def reset_server(request: pytest.FixtureRequest) -> ServerT:
        server: ServerT = request.getfixturevalue(f"{name}_session")
        server.reset()
        return server

    return session_server, reset_server


def clean_env(server: Any, **extra: str) -> dict[str, str]:
    """The parent's environment for a child interpreter: no OTEL_/WIKITRACE_ settings, and the
    fake server ``server`` named as OpenAI; ``extra`` variables added."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "WIKITRACE_"))}
    env["WIKITRACE_GENAI_PROVIDER_HOSTS"] = f"127.0.0.1:{server.port}=openai"
    env.update(extra)
    return env


def instrument_command() -> list[str]:
    """``opentelemetry-instrument`` of this interpreter's environment, then the interpreter."""
    script = Path(sys.executable).with_name("opentelemetry-instrument")
    if not script.exists():
        found = shutil.which("opentelemetry-instrument")
        if found is None:
            pytest.fail("opentelemetry-instrument is not installed next to the interpreter")
        script = Path(found)
    return [str(script), sys.executable]
