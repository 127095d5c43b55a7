"""Helpers for the fuzz tests: the hypothesis profile, OTLP strategies, and ways to damage bytes.

- :func:`fuzz_settings` gives deterministic hypothesis settings sized by the reliability size.
- Strategies: :func:`valid_requests` (well-formed ``ExportTraceServiceRequest`` messages),
  :data:`hostile_values` and :func:`hostile_json_requests` (OTLP/JSON with wrong types,
  out-of-range numbers, bad ids, deep nesting), :data:`json_values` (any JSON document).
- :func:`mutate` damages a body the way a network or a disk does: cuts, bit flips, inserted or
  deleted bytes. It draws from a seeded ``random.Random``, so one hypothesis example can try many
  damages cheaply and every run tries the same ones.
- :func:`to_otlp_json` / :func:`kept_spans` are this module's own reading of OTLP, independent
  of the collector's, used as the oracle for what a request should store.
- :class:`SeededIds` makes stores written through the SDK identical from run to run.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Iterator
from typing import Any

from google.protobuf import json_format
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from opentelemetry.sdk.trace.id_generator import IdGenerator
from reliability_sizes import sized

PROFILE = "wikitrace-fuzz"
settings.register_profile(
    PROFILE,
    derandomize=True,  # the same examples on every run: CI never fails by luck
    deadline=None,  # a loaded two-core machine makes per-example timing meaningless
    database=None,
    print_blob=True,
    suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much),
)


def fuzz_settings(ci: int, full: int) -> settings:
    """The fuzz profile with ``max_examples`` from :func:`sized`."""
    return settings(settings.get_profile(PROFILE), max_examples=sized(ci, full))


INT64 = (-(2**63), 2**63 - 1)


class SeededIds(IdGenerator):
    """SDK span and trace ids from a seeded generator: a store written with it is the same on every run."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def generate_span_id(self) -> int:
        return self._random.getrandbits(64) | 1

    def generate_trace_id(self) -> int:
        return self._random.getrandbits(128) | 1


ID_FIELDS = ("traceId", "spanId", "parentSpanId")

# --- well-formed requests ---------------------------------------------------------------------

names = st.text(max_size=40)
trace_ids = st.binary(min_size=16, max_size=16).filter(any)
span_ids = st.binary(min_size=8, max_size=8).filter(any)
scalar_values = st.one_of(
    st.text(max_size=30).map(lambda text: AnyValue(string_value=text)),
    st.integers(*INT64).map(lambda number: AnyValue(int_value=number)),
    st.floats(allow_nan=False).map(lambda number: AnyValue(double_value=number)),
    st.booleans().map(lambda flag: AnyValue(bool_value=flag)),
    st.binary(max_size=16).map(lambda data: AnyValue(bytes_value=data)),
)


def _array(values: list[AnyValue]) -> AnyValue:
    value = AnyValue()
    value.array_value.values.extend(values)
    return value


any_values = st.recursive(scalar_values, lambda inner: st.lists(inner, max_size=3).map(_array), max_leaves=4)
key_values = st.lists(st.builds(KeyValue, key=st.text(max_size=20), value=any_values), max_size=3)


@st.composite
def spans(draw: st.DrawFn, trace_id: bytes | None = None) -> Span:
    """One span with valid ids, any name, attributes of every type and times within int64."""
    start = draw(st.integers(0, INT64[1]))
    span = Span(
        trace_id=trace_id or draw(trace_ids),
        span_id=draw(span_ids),
        parent_span_id=draw(st.one_of(st.just(b""), span_ids)),
        name=draw(names),
        kind=draw(st.integers(0, 5)),
        start_time_unix_nano=start,
        end_time_unix_nano=draw(st.integers(start, INT64[1])),
    )
    span.attributes.extend(draw(key_values))
    span.status.code = draw(st.integers(0, 2))
    span.status.message = draw(st.text(max_size=20))
    return span


@st.composite
def valid_requests(draw: st.DrawFn, max_spans: int = 4) -> ExportTraceServiceRequest:
    """A well-formed traces request: one resource, 1-2 scopes, 0-``max_spans`` spans each."""
    request = ExportTraceServiceRequest()
    resource = request.resource_spans.add()
    resource.resource.attributes.extend(draw(key_values))
    for _ in range(draw(st.integers(1, 2))):
        scope = resource.scope_spans.add()
        scope.scope.name = draw(names)
        scope.spans.extend(draw(st.lists(spans(), max_size=max_spans)))
    return request


def to_otlp_json(message: Any) -> dict[str, Any]:
    """A message in OTLP/JSON: the protobuf JSON mapping with ids as hex instead of base64."""

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: base64.b64decode(val).hex() if key in ID_FIELDS else fix(val) for key, val in node.items()}
        if isinstance(node, list):
            return [fix(value) for value in node]
        return node

    return fix(json_format.MessageToDict(message, use_integers_for_enums=True))  # OTLP/JSON: enums as integers


def all_spans(request: ExportTraceServiceRequest) -> Iterator[Span]:
    """Every span of a traces request, in order."""
    for resource in request.resource_spans:
        for scope in resource.scope_spans:
            yield from scope.spans


def span_ok(span: Span) -> bool:
    """OTLP's rule for a span worth storing: 16-byte and 8-byte non-zero ids, parent empty or 8 bytes."""
    return (
        len(span.trace_id) == 16
        and any(span.trace_id)
        and len(span.span_id) == 8
        and any(span.span_id)
        and len(span.parent_span_id) in (0, 8)
    )


def kept_spans(request: ExportTraceServiceRequest) -> list[Span]:
    """The spans of ``request`` a receiver must store (and no others)."""
    return [span for span in all_spans(request) if span_ok(span)]


def span_key(span: Span) -> tuple[bytes, bytes, str, bytes]:
    """What identifies a stored span for comparisons: ids, name, and its attributes' bytes."""
    attributes = b"".join(kv.SerializeToString(deterministic=True) for kv in span.attributes)
    return span.trace_id, span.span_id, span.name, attributes


# --- hostile input --------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
"""Any JSON document (finite numbers: the JSON grammar has no NaN or Infinity)."""

hostile_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([2**63, 2**64 - 1, 2**64, -1, -(2**63) - 1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["", "NaN", "Infinity", "-Infinity", "1e999", "0x10", " 7 ", "\uff11\uff12", "\x00", "\U0010ffff"]),
)
hostile_values = st.recursive(
    hostile_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=4,
)
"""Values of the wrong type or out of range for any OTLP field."""

hex_ids = st.binary(max_size=24).map(bytes.hex)
bad_ids = st.one_of(
    hex_ids,
    hex_ids.map(str.upper),
    st.text(alphabet="0123456789abcdefABCDEFxg -", max_size=40),
    st.sampled_from(["", "0" * 32, "0" * 16, "0" * 31, "zz" * 8, "0x" + "1" * 30]),
    hostile_scalars,
)
"""Ids of every length, case and type, valid ones included."""


def _any_value_json(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"stringValue": "leaf"}
    for _ in range(depth):
        value = {"arrayValue": {"values": [value]}}
    return value


_json_any_value = st.one_of(
    st.text(max_size=10).map(lambda text: {"stringValue": text}),
    st.integers(*INT64).map(lambda number: {"intValue": str(number)}),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda number: {"doubleValue": number}),
    st.booleans().map(lambda flag: {"boolValue": flag}),
)
_VALID_JSON_FIELDS = {
    "traceId": trace_ids.map(bytes.hex),
    "spanId": span_ids.map(bytes.hex),
    "parentSpanId": st.one_of(st.just(""), span_ids.map(bytes.hex)),
    "name": st.text(max_size=30),
    "kind": st.integers(0, 5),
    "startTimeUnixNano": st.integers(0, INT64[1]).map(str),
    "endTimeUnixNano": st.integers(0, INT64[1]).map(str),
    "attributes": st.lists(st.fixed_dictionaries({"key": st.text(max_size=10), "value": _json_any_value}), max_size=3),
    "status": st.fixed_dictionaries({"code": st.integers(0, 2), "message": st.text(max_size=10)}),
    "flags": st.integers(0, 2**32 - 1),
}
_HOSTILE_JSON_FIELDS = {
    "traceId": bad_ids,
    "spanId": bad_ids,
    "parentSpanId": bad_ids,
    "name": st.one_of(st.just("lone \ud800 surrogate"), hostile_values),
    "kind": st.one_of(st.integers(-3, 9), hostile_scalars),
    "startTimeUnixNano": st.one_of(st.integers(0, 2**64 - 1).map(str), hostile_scalars),
    "endTimeUnixNano": st.one_of(st.integers(0, 2**64 - 1).map(str), hostile_scalars),
    "attributes": st.one_of(
        st.lists(st.fixed_dictionaries({"key": st.text(max_size=10), "value": hostile_values}), max_size=3),
        st.integers(0, 300).map(lambda depth: [{"key": "deep", "value": _any_value_json(depth)}]),
        hostile_values,
    ),
    "status": st.one_of(st.fixed_dictionaries({"code": hostile_scalars, "message": hostile_scalars}), hostile_values),
    "flags": hostile_scalars,
}


@st.composite
def hostile_json_spans(draw: st.DrawFn) -> dict[str, Any]:
    """An OTLP/JSON span: any fields present, up to three of them missing, mistyped or out of range.

    Few hostile fields per span, so that requests are sometimes accepted and what is kept can be checked.
    """
    present = draw(st.lists(st.sampled_from(sorted(_VALID_JSON_FIELDS)), unique=True))
    hostile = set(draw(st.lists(st.sampled_from(present), unique=True, max_size=3))) if present else set()
    return {name: draw((_HOSTILE_JSON_FIELDS if name in hostile else _VALID_JSON_FIELDS)[name]) for name in present}


@st.composite
def hostile_json_requests(draw: st.DrawFn) -> dict[str, Any]:
    """An OTLP/JSON traces request whose structure is right and whose values are hostile."""
    spans_json = draw(st.lists(hostile_json_spans(), max_size=4))
    scope: dict[str, Any] = {"scope": draw(st.one_of(st.just({"name": "s"}), hostile_values)), "spans": spans_json}
    resource = {"resource": draw(st.one_of(st.just({"attributes": []}), hostile_values)), "scopeSpans": [scope]}
    return {"resourceSpans": [resource]}


# --- damage ------------------------------------------------------------------------------------


def mutate(body: bytes, rng: random.Random) -> bytes:
    """``body`` cut, bit-flipped, with bytes inserted, deleted or overwritten (1-3 of these)."""
    data = bytearray(body)
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("truncate", "flip", "insert", "delete", "overwrite"))
        where = rng.randrange(max(len(data), 1))
        if kind == "truncate":
            del data[where:]
        elif kind == "flip" and data:
            data[where] ^= 1 << rng.randrange(8)
        elif kind == "insert":
            data[where:where] = rng.randbytes(rng.randint(1, 8))
        elif kind == "delete":
            del data[where : where + rng.randint(1, 8)]
        else:
            patch = rng.randbytes(rng.randint(1, 8))
            data[where : where + len(patch)] = patch
    return bytes(data)
