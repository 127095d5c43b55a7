"""The query filters against hostile values, checked against a brute-force filter in Python.

A small real store is written once through the SDK and the file exporter, with attribute values
chosen to trip a careless query builder: quotes, SQL comments, ``%`` and ``_`` (LIKE wildcards),
backslashes, NUL, unicode, long strings. The brute force here knows only what the README and the
``TraceFilter`` docstring promise: a trace is selected when one of its spans matches each field,
``since``/``until`` bound the trace's first start, ``stats`` checks each model call on its own.
It also knows one storage rule: the index drops NUL characters (they cannot be indexed) and
treats an empty text as absent.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fuzz_support import SeededIds, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode

from wikitrace_otel.exporters import FileSpanExporter
from wikitrace_otel.query import QueryStore, TraceFilter
from wikitrace_otel.query._filter import MAX_LIMIT

HOSTILE = (
    "gpt-4o-mini",
    "x' OR 1=1 --",
    "' OR ''='",
    "'); DROP TABLE spans; --",
    "'",
    '"',
    "%",
    "_",
    "a%",
    "a_b",
    "axb",
    "\\",
    "\\'",
    "NULL",
    "*",
    "é",
    "日本語",
    " ",
    "a\x00b",
    "ab",
    "L" * 3000,
)
"""Attribute values in the store, and the first candidates for filter values."""
BASE_NS = 1_780_000_000 * 10**9
TRACES = 24


@dataclass(frozen=True)
class Truth:
    """What one span was written with: the brute force's copy of the store."""

    trace_id: str
    start: int
    service: str
    model: str | None
    response_model: str | None
    user: str | None
    session: str | None
    error: bool
    content: str | None


def _indexed(value: str | None) -> str | None:
    """A text as the index holds it: without NUL, and None when empty."""
    return value.replace("\x00", "") or None if value else None


def _pick(rng: random.Random) -> str | None:
    return rng.choice((None, *HOSTILE))


def _write_trace(tracer: Any, rng: random.Random, index: int, service: str) -> list[Truth]:
    """One trace of 1-3 spans (a root and its children) with values drawn from :data:`HOSTILE`."""
    root_start = BASE_NS + index * 10**9 + rng.randrange(10**6)
    parent: Any = None
    written = []
    for number in range(rng.randint(1, 3)):
        model, response_model, user, session, content = (_pick(rng) for _ in range(5))
        attributes = {
            key: value
            for key, value in (
                ("gen_ai.request.model", model),
                ("gen_ai.response.model", response_model),
                ("user.id", user),
                ("session.id", session),
                ("input.value", content),
            )
            if value is not None
        }
        if model or response_model:
            attributes["gen_ai.operation.name"] = "chat"
        start = root_start + number * 1000
        span = tracer.start_span(f"span {index}.{number}", context=parent, attributes=attributes, start_time=start)
        parent = parent or trace.set_span_in_context(span)
        error = rng.random() < 0.3
        if error:
            span.set_status(Status(StatusCode.ERROR, "failed"))
        span.end(end_time=start + rng.randrange(10**9))
        trace_id = format(span.get_span_context().trace_id, "032x")
        written.append(Truth(trace_id, start, service, model, response_model, user, session, error, content))
    return written


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[QueryStore, list[Truth]]]:
    """A store of ``TRACES`` traces with hostile values, indexed; and what was written."""
    root = tmp_path_factory.mktemp("hostile-store")
    rng = random.Random(20261122)
    truth: list[Truth] = []
    providers = {}
    for service in ("shop", "x' OR 1=1 --", "%"):
        provider = TracerProvider(
            resource=Resource.create({"service.name": service}), id_generator=SeededIds(len(service))
        )
        provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(root)))
        providers[service] = provider
    for index in range(TRACES):
        service = rng.choice(sorted(providers))
        truth += _write_trace(providers[service].get_tracer("fuzz"), rng, index, service)
    for provider in providers.values():
        provider.shutdown()
    store = QueryStore(root, threads=1)
    assert store.refresh() == len(truth)
    yield store, truth
    store.close()


# --- the brute force ---------------------------------------------------------------------------

_SPAN_FIELDS: dict[str, Callable[[Truth, str], bool]] = {
    "service": lambda span, value: _indexed(span.service) == value,
    "model": lambda span, value: value in (_indexed(span.model), _indexed(span.response_model)),
    "provider": lambda span, value: False,  # no span of this store names a provider
    "user": lambda span, value: _indexed(span.user) == value,
    "session": lambda span, value: _indexed(span.session) == value,
    "search": lambda span, value: span.content is not None and value.lower() in _indexed(span.content).lower(),
}


def _given(selection: TraceFilter) -> dict[str, str]:
    return {name: getattr(selection, name) for name in _SPAN_FIELDS if getattr(selection, name) is not None}


def brute_traces(truth: list[Truth], selection: TraceFilter) -> list[str]:
    """Trace ids the filter selects, newest first, at most ``limit``."""
    traces: dict[str, list[Truth]] = {}
    for span in truth:
        traces.setdefault(span.trace_id, []).append(span)
    selected = []
    for trace_id, spans in traces.items():
        start = min(span.start for span in spans)
        if not all(any(_SPAN_FIELDS[name](span, value) for span in spans) for name, value in _given(selection).items()):
            continue
        if (selection.since is not None and start < selection.since) or (
            selection.until is not None and start > selection.until
        ):
            continue
        errors = any(span.error for span in spans)
        if (selection.status == "error" and not errors) or (selection.status == "ok" and errors):
            continue
        selected.append((-start, trace_id))
    return [trace_id for _, trace_id in sorted(selected)][: selection.limit]


def brute_model_calls(truth: list[Truth], selection: TraceFilter) -> dict[str | None, int]:
    """``stats --by model`` calls per model: each model call checked on its own."""
    calls: Counter[str | None] = Counter()
    for span in truth:
        if span.model is None and span.response_model is None:
            continue  # not a model call
        if not all(_SPAN_FIELDS[name](span, value) for name, value in _given(selection).items()):
            continue
        if (selection.status == "error" and not span.error) or (selection.status == "ok" and span.error):
            continue
        if (selection.since is not None and span.start < selection.since) or (
            selection.until is not None and span.start > selection.until
        ):
            continue
        calls[_indexed(span.model) or _indexed(span.response_model)] += 1
    return dict(calls)


def _check(store: QueryStore, truth: list[Truth], selection: TraceFilter, *, stats: bool = True) -> int:
    """Compare the store's answers (trace list, and ``stats``) with the brute force; returns the traces selected."""
    got = [summary["trace_id"] for summary in store.list_traces(selection)]
    assert got == brute_traces(truth, selection), selection
    if stats:
        calls = {row["key"]: row["calls"] for row in store.stats("model", selection)}
        assert calls == brute_model_calls(truth, selection), selection
    return len(got)


# --- the tests ---------------------------------------------------------------------------------


def _mostly_absent(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # A filter of five random fields selects nothing; one or two given fields select something.
    return st.one_of(st.none(), st.none(), st.none(), values)


texts = _mostly_absent(st.one_of(st.sampled_from(HOSTILE), st.sampled_from(HOSTILE), st.text(max_size=8)))
searches = _mostly_absent(
    st.one_of(
        st.sampled_from((*HOSTILE, "1=1", "drop", "LL", "%%", "a_", "x'", "")),
        st.text(alphabet="abxLl%_'\" -\\", max_size=5),
    )
)
times = _mostly_absent(st.integers(BASE_NS - 10**9, BASE_NS + (TRACES + 1) * 10**9))


def test_filters_agree_with_a_brute_force_filter(
    hostile_store: tuple[QueryStore, list[Truth]], outcome: Callable[..., None]
) -> None:
    store, truth = hostile_store
    counts: Counter[str] = Counter()

    @fuzz_settings(ci=50, full=500)
    @given(
        st.fixed_dictionaries(
            {
                "service": texts,
                "model": texts,
                "provider": st.one_of(st.none(), st.just("openai")),
                "user": texts,
                "session": texts,
                "search": searches,
                "status": st.sampled_from([None, "error", "ok"]),
                "since": times,
                "until": times,
                "limit": st.one_of(st.just(MAX_LIMIT), st.integers(1, 8)),
            }
        )
    )
    def check(fields: dict[str, Any]) -> None:
        counts["inputs"] += 1
        if fields["since"] is not None and fields["until"] is not None and fields["since"] > fields["until"]:
            with pytest.raises(ValueError, match="since is later than until"):
                TraceFilter(**fields)
            counts["refused"] += 1
            return
        counts["traces_selected"] += _check(store, truth, TraceFilter(**fields))

    check()
    outcome(inputs=counts["inputs"], refused=counts["refused"], selected=counts["traces_selected"], crashes=0)


def test_sql_metacharacters_match_only_themselves(
    hostile_store: tuple[QueryStore, list[Truth]], outcome: Callable[..., None]
) -> None:
    store, truth = hostile_store
    probes = (*HOSTILE, "x' OR '1'='1", "' OR 1=1; --", "%%", "a%b", "_b", "x'; DELETE FROM spans; --", "\x00")
    matched = 0
    for value in probes:
        for field in ("service", "model", "user", "search"):
            selection = TraceFilter(**{field: value}, limit=MAX_LIMIT)
            matched += _check(store, truth, selection, stats=field == "model")
    # Nothing a value did changed the store.
    assert store.span_count == len(truth)
    assert len(store.list_traces(TraceFilter(limit=MAX_LIMIT))) == TRACES
    # An injection that would select everything selects nothing.
    assert store.list_traces(TraceFilter(user="x' OR '1'='1")) == []
    outcome(inputs=len(probes) * 4, selected=matched, crashes=0)


_KEYS = ("service", "model", "provider", "status", "user", "session", "since", "until", "search", "limit", "by")
param_values = st.one_of(
    st.text(max_size=12),
    st.builds(
        "{}{}{}".format,
        st.sampled_from(["", " ", "-"]),
        st.integers(0, 10**400).map(str),
        st.sampled_from(["ms", "s", "m", "h", "d", "w", "MS", " H ", "y", "", ".5d"]),
    ),
    st.from_regex(r"\A[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}(T[0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2}(\.[0-9]{1,9})?)?)?\Z"),
    st.sampled_from(["error", "OK", "Error ", "-1", "0", "100001", "1e3", "0x10", "\uff11\uff12", "\x00", "NaN"]),
    st.just("9" * 5000),
)


def test_filter_parameters_parse_or_say_what_is_wrong(outcome: Callable[..., None]) -> None:
    counts: Counter[str] = Counter()

    @fuzz_settings(ci=200, full=5000)
    @given(st.dictionaries(st.one_of(*[st.sampled_from(_KEYS)] * 3, st.text(max_size=6)), param_values, max_size=4))
    def check(params: dict[str, str]) -> None:
        counts["inputs"] += 1
        try:
            selection = TraceFilter.from_params(params, now_ns=BASE_NS)
        except ValueError as error:
            assert str(error), "a refusal says what is wrong"
            counts["refused"] += 1
            return
        assert selection.status in (None, "error", "ok") and 1 <= selection.limit <= MAX_LIMIT
        counts["parsed"] += 1

    check()
    outcome(inputs=counts["inputs"], refused=counts["refused"], parsed=counts["parsed"], crashes=0)


@pytest.mark.parametrize(("key", "value"), [("since", "9" * 400 + "d"), ("until", "9" * 300 + "h")])
def test_a_duration_too_long_for_a_float_is_a_bad_value(key: str, value: str) -> None:
    with pytest.raises(ValueError, match=f"bad {key}"):
        TraceFilter.from_params({key: value}, now_ns=BASE_NS)


def test_a_since_beyond_128_bits_selects_correctly(hostile_store: tuple[QueryStore, list[Truth]]) -> None:
    store, truth = hostile_store
    selection = TraceFilter(since=-(10**40), limit=MAX_LIMIT)  # far in the past: every trace qualifies
    assert _check(store, truth, selection) == TRACES
