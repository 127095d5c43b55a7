"""The store's OTLP/JSON is the protobuf JSON mapping of what the OTLP protobuf exporter sends.

Every comparison runs the same SDK spans through ``encode_spans`` (opentelemetry-exporter-otlp-
proto-common) and through our encoder, then checks both that protobuf's own parser reads our
line back to the identical message and that our JSON equals ``MessageToDict`` of it (same keys,
same omitted defaults). The only normalisation is OTLP/JSON's documented exception: ids in hex.
"""

from __future__ import annotations

import enum
import json
import math
import re
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags, TraceState
from opentelemetry.version import __version__ as otel_version
from store_support import ARRAYS, SCALARS, finished_spans, ids_to_base64, parse_line, protobuf_dict, protobuf_encoding

from wikitrace_otel.exporters import _otlp_json
from wikitrace_otel.exporters._otlp_json import TracesDataEncoder, encode_any_value

SDK_1_45 = tuple(int(part) for part in otel_version.split(".")[:2]) >= (1, 45)
REMOTE_PARENT = SpanContext(
    trace_id=0x0AF7651916CD43DD8448EB211C80319C,
    span_id=0x00F067AA0BA902B7,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
    trace_state=TraceState([("vendor", "opaque1"), ("wt", "x")]),
)


def assert_same_as_protobuf(spans: list[ReadableSpan]) -> dict[str, Any]:
    (line, count), *rest = TracesDataEncoder().encode(spans, 10**9)[0]
    assert rest == []
    assert count == len(spans)
    ours = json.loads(line)
    assert ids_to_base64(ours) == protobuf_dict(spans)
    parsed = parse_line(line)
    if not any(math.isnan(v) for s in spans for v in (s.attributes or {}).values() if isinstance(v, float)):
        assert parsed == protobuf_encoding(spans)  # NaN != NaN, so messages holding one never compare equal
    return ours


def many_kinds_of_span(tracer_provider: TracerProvider) -> None:
    tracer = tracer_provider.get_tracer("wikitrace.test", "1.2.3", schema_url="https://example.com/s/1.0")
    other = tracer_provider.get_tracer("other.scope", attributes={"scope.attr": "yes", "scope.n": 3})
    bare = tracer_provider.get_tracer("")
    with tracer.start_as_current_span("root", attributes=SCALARS | ARRAYS) as root:
        root.add_event("first", {"e.str": "x", "e.list": [1, 2]}, timestamp=1_700_000_000_123_456_789)
        root.add_event("bare")
        root.set_status(Status(StatusCode.ERROR, 'it broke: "quoted" 日本'))
        for kind in SpanKind:
            with other.start_as_current_span(f"kind {kind.name}", kind=kind) as child:
                child.set_status(Status(StatusCode.OK))
        links = [Link(SpanContext(1, 2, False), {"l": 1}), Link(SpanContext(3, 4, True))]
        with bare.start_as_current_span("linked", links=links):
            pass
        try:
            with tracer.start_as_current_span("failing"):
                raise ValueError("boom")
        except ValueError:
            pass
    remote = trace.set_span_in_context(trace.NonRecordingSpan(REMOTE_PARENT))
    with tracer.start_as_current_span("remote child", context=remote, kind=SpanKind.SERVER):
        pass


def test_every_field_matches_the_protobuf_encoding() -> None:
    spans = finished_spans(many_kinds_of_span)

    ours = assert_same_as_protobuf(spans)

    scopes = ours["resourceSpans"][0]["scopeSpans"]
    assert [s["scope"].get("name", "") for s in scopes] == ["other.scope", "", "wikitrace.test"]
    assert scopes[2]["schemaUrl"] == "https://example.com/s/1.0"
    remote_child = next(s for s in scopes[2]["spans"] if s["name"] == "remote child")
    assert remote_child["flags"] == 0x300  # parent's remote bit known and set
    assert remote_child["traceState"] == "vendor=opaque1,wt=x"
    assert remote_child["parentSpanId"] == "00f067aa0ba902b7"


def test_the_json_follows_otlp_json_rules() -> None:
    line = TracesDataEncoder().encode(finished_spans(many_kinds_of_span), 10**9)[0][0][0]
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        if not isinstance(node, dict):
            return
        for key, value in node.items():
            seen.add(key)
            assert re.fullmatch(r"[a-z][a-zA-Z]*", key), key  # lowerCamelCase
            if key in ("traceId", "parentSpanId") or (key == "spanId"):
                assert re.fullmatch(r"[0-9a-f]{32}" if key == "traceId" else r"[0-9a-f]{16}", value), (key, value)
            elif key.endswith("UnixNano") or key == "intValue":
                assert isinstance(value, str) and re.fullmatch(r"-?\d+", value), (key, value)
            elif key in ("kind", "code", "flags") or key.startswith("dropped"):
                assert type(value) is int, (key, value)
            walk(value)

    assert line.endswith(b"\n") and line.count(b"\n") == 1
    walk(json.loads(line))
    assert {"traceId", "spanId", "parentSpanId", "traceState", "kind", "code", "message", "events", "links"} <= seen


def test_resources_and_scopes_group_like_the_protobuf_encoder() -> None:
    # Two providers with different resources, and two distinct-but-equal scope objects whose spans
    # interleave: one group per equal scope, spans in batch order inside it.
    spans: list[ReadableSpan] = []
    for service in ("one", "two"):
        resource = Resource({"service.name": service}, schema_url="https://example.com/r")

        def build(tracer_provider: TracerProvider) -> None:
            first, second = tracer_provider.get_tracer("same", "1"), tracer_provider.get_tracer("same", "1")
            for i in range(6):
                with (first if i % 2 else second).start_as_current_span(f"span {i}"):
                    pass

        spans += finished_spans(build, resource=resource)
    mixed = [spans[0], spans[6], spans[1], spans[7], spans[2]]

    ours = assert_same_as_protobuf(mixed)

    assert [len(r["scopeSpans"]) for r in ours["resourceSpans"]] == [1, 1]
    assert [s["name"] for s in ours["resourceSpans"][0]["scopeSpans"][0]["spans"]] == ["span 0", "span 1", "span 2"]


def test_equal_resources_of_different_providers_share_a_group() -> None:
    spans = []
    for _ in range(2):
        spans += finished_spans(many_kinds_of_span, resource=Resource({"service.name": "same"}))

    ours = assert_same_as_protobuf(spans)

    assert len(ours["resourceSpans"]) == 1


def test_a_subclass_that_defines_its_own_attributes_is_respected() -> None:
    # A redacting wrapper overrides the attributes property: we must not read around it.
    class Redacted(ReadableSpan):
        @property
        def attributes(self) -> Any:
            return {key: "[redacted]" for key in super().attributes}

        @property
        def events(self) -> Any:
            return ()

    original = finished_spans(many_kinds_of_span)[0]
    span = Redacted(original.name, original.context, attributes={"secret": "hunter2"}, start_time=1, end_time=2)

    line = TracesDataEncoder().encode([span], 10**9)[0][0][0]

    assert b"hunter2" not in line
    assert parse_line(line) == protobuf_encoding([span])


def test_dropped_counts() -> None:
    limits = SpanLimits(max_span_attributes=2, max_events=1, max_links=1, max_event_attributes=1, max_link_attributes=1)

    def build(tracer_provider: TracerProvider) -> None:
        # Bounded lists keep the newest: the first link and event are the dropped ones.
        links = [Link(SpanContext(1, 3, False)), Link(SpanContext(1, 2, False), {"a": 1, "b": 2})]
        tracer = tracer_provider.get_tracer("t")
        with tracer.start_as_current_span("s", links=links, attributes=dict.fromkeys("xyz", 1)) as span:
            span.add_event("e0")
            span.add_event("e1", {"a": 1, "b": 2})

    spans = finished_spans(build, limits=limits)
    span = assert_same_as_protobuf(spans)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]

    assert (span["droppedAttributesCount"], span["droppedEventsCount"], span["droppedLinksCount"]) == (1, 1, 1)
    assert span["events"][0]["droppedAttributesCount"] == 1
    assert span["links"][0]["droppedAttributesCount"] == 1


# --- values beyond what every SDK release accepts -------------------------------------------


class Tier(str, enum.Enum):
    DEFAULT = "default"


class Level(enum.IntEnum):
    HIGH = 3


def raw_span(attributes: dict[str, Any], **kwargs: Any) -> ReadableSpan:
    """A span built without the SDK's attribute cleaning, holding exactly ``attributes``."""
    context = SpanContext(0x1234, 0x5678, False)
    scope = InstrumentationScope("raw", "0.1")
    return ReadableSpan("raw", context, attributes=attributes, start_time=1, end_time=2, instrumentation_scope=scope)


def test_bytes_maps_and_subclasses_match_protobuf() -> None:
    # SDK 1.45 keeps bytes and maps on spans (1.41 decodes or drops them); enum members reach
    # the exporter as the SDK only checks isinstance.
    attributes = {
        "bytes": b"\x00\xffbinary",
        "map": {"nested": {"list": [1, 2]}, "s": "v", "empty": {}},
        "map.empty": {},
        "enum.str": Tier.DEFAULT,
        "enum.int": Level.HIGH,
        "array.of.maps": [{"a": 1}],
    }

    value = assert_same_as_protobuf([raw_span(attributes)])["resourceSpans"][0]["scopeSpans"][0]["spans"][0]

    by_key = {kv["key"]: kv["value"] for kv in value["attributes"]}
    assert by_key["bytes"] == {"bytesValue": "AP9iaW5hcnk="}
    assert by_key["enum.str"] == {"stringValue": "default"}
    assert by_key["enum.int"] == {"intValue": "3"}


def test_none_in_an_array_is_an_empty_value() -> None:
    span = raw_span({"array.none": ["a", None]})
    line = TracesDataEncoder().encode([span], 10**9)[0][0][0]

    stored = parse_line(line).resource_spans[0].scope_spans[0].spans[0].attributes[0].value.array_value.values
    assert [v.WhichOneof("value") for v in stored] == ["string_value", None]
    if SDK_1_45:  # 1.41's encoder drops the whole attribute instead
        assert_same_as_protobuf([span])


def test_integers_beyond_int64_become_strings() -> None:
    # protobuf cannot hold them (its encoder drops the attribute); an intValue would make the
    # Collector reject the whole line.
    assert encode_any_value(2**64) == '{"stringValue":"18446744073709551616"}'
    assert encode_any_value(-(2**63) - 1) == '{"stringValue":"-9223372036854775809"}'
    assert encode_any_value([2**70]) == '{"arrayValue":{"values":[{"stringValue":"1180591620717411303424"}]}}'


def test_an_unknown_value_type_drops_only_that_attribute(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_otlp_json, "_warned_types", set())  # warned once per type and process
    spans = [raw_span({"ok": 1, "odd": object()}), raw_span({"odd": object()})]

    ours = assert_same_as_protobuf(spans)  # the protobuf encoder drops it too

    assert [kv["key"] for kv in ours["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"]] == ["ok"]
    warnings = [r.getMessage() for r in caplog.records if r.name == _otlp_json.__name__]
    assert warnings == ["Attribute 'odd' dropped from the span store: <class 'object'> is not an attribute type"]


def test_a_lone_surrogate_keeps_the_line_valid_utf8() -> None:
    span = raw_span({"broken": "ab\ud800cd"})
    line = TracesDataEncoder().encode([span], 10**9)[0][0][0]

    text = line.decode("utf-8")  # strict: raises on invalid UTF-8
    attribute = json.loads(text)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"][0]
    assert attribute["value"]["stringValue"] == "ab\ud800cd"


def test_a_link_keeps_its_trace_state() -> None:
    # The protobuf encoder leaves Link.trace_state out; OTLP has the field, so we write it.
    link = Link(SpanContext(1, 2, True, trace_state=TraceState([("k", "v")])))
    span = ReadableSpan("s", SpanContext(1, 3, False), links=[link], start_time=1, end_time=2)
    line = TracesDataEncoder().encode([span], 10**9)[0][0][0]

    assert parse_line(line).resource_spans[0].scope_spans[0].spans[0].links[0].trace_state == "k=v"
    assert json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["links"][0]["flags"] == 0x300


def test_an_unusable_span_is_left_out_of_its_batch() -> None:
    good = raw_span({"a": 1})
    spans = [good, ReadableSpan("no context"), ReadableSpan(None, SpanContext(1, 2, False), start_time=1)]

    lines, failed = TracesDataEncoder().encode(spans, 10**9)

    assert failed == 2
    assert [count for _, count in lines] == [1]
    assert parse_line(lines[0][0]) == protobuf_encoding([good])


# --- long batches ---------------------------------------------------------------------------


def flat(data: TracesData) -> list[tuple[Any, Any, Any]]:
    """(resource, scope, span) for every span, in order."""
    return [(rs.resource, ss.scope, span) for rs in data.resource_spans for ss in rs.scope_spans for span in ss.spans]


def test_a_long_batch_is_split_into_whole_lines_under_the_limit() -> None:
    def build(tracer_provider: TracerProvider) -> None:
        tracers = [tracer_provider.get_tracer("a"), tracer_provider.get_tracer("b", "2")]
        for i in range(40):
            with tracers[i % 3 == 0].start_as_current_span(f"span {i}", attributes={"payload": "x" * (i * 10)}):
                pass

    spans = finished_spans(build)
    spans.append(raw_span({"huge": "y" * 5000}))  # alone longer than the limit
    expected = protobuf_encoding(spans)
    want = [
        (rs.resource, ss.scope, span) for rs in expected.resource_spans for ss in rs.scope_spans for span in ss.spans
    ]

    lines, failed = TracesDataEncoder().encode(spans, 1500)

    got = []
    for line, count in lines:
        assert len(line) <= 1500 or count == 1
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        parsed = parse_line(line)
        found = [
            (rs.resource, ss.scope, span) for rs in parsed.resource_spans for ss in rs.scope_spans for span in ss.spans
        ]
        assert len(found) == count
        got += found
    assert failed == 0
    assert len(lines) > 10
    assert got == want
