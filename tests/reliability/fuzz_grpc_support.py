"""The hostile calls of the collector's gRPC fuzz run and the grpc client that makes them.

- :func:`cases` is a hypothesis strategy of :class:`Case`: one unary call of a :data:`FAMILIES`
  kind: a body from ``otlp_bodies_support`` on its own method, on another signal's method or on
  an unknown one; metadata (good, bad, missing or odd API keys, reserved headers, binary junk);
  optional gzip; and a way of ending: waiting for the answer, a deadline too short, or a cancel.
- :func:`send` makes the call with identity serializers (the body goes out as given) and returns
  the :class:`Answer`; a call that outlives :data:`TIMEOUT_S` is a hang.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

import grpc
from hypothesis import strategies as st
from otlp_bodies_support import BODY_KINDS, BY_PATH, SERVICES, Expected, bodies, expect

TIMEOUT_S = 10.0
"""The deadline of every call that is not meant to run out of time: reaching it is a hang."""
ROOT_KEY = "fuzz-root-key"
TENANT = "acme"
TENANT_KEY = "fuzz-acme-key"
KEYS = [("", ROOT_KEY), (TENANT, TENANT_KEY)]
"""The collector's API keys: one for the store root, one for a tenant."""

UNKNOWN_PATHS = (
    "/opentelemetry.proto.collector.trace.v1.TraceService/Exports",
    "/opentelemetry.proto.collector.trace.v1.TraceService/export",
    "/opentelemetry.proto.collector.trace.v2.TraceService/Export",
    "/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export",
    "/opentelemetry.proto.collector.logs.v1.LogsService/Export/",
    "/grpc.health.v1.Health/Check",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/Export",
    "/",
    "//",
    "x",
)


FAMILIES = (*BODY_KINDS, "other signal", "unknown method")
"""The kinds of call: each gets its share of examples, whatever hypothesis favours."""


_ASCII = st.text(alphabet=[chr(c) for c in range(0x20, 0x7F)], max_size=40)
_GOOD_AUTH: tuple[tuple[tuple[tuple[str, str | bytes], ...], str], ...] = (
    ((("authorization", f"Bearer {ROOT_KEY}"),), ""),
    ((("x-api-key", TENANT_KEY),), TENANT),
    ((("authorization", f"bearer   {TENANT_KEY} "),), TENANT),
    ((("authorization", f"BEARER {ROOT_KEY}"), ("x-api-key", "wrong")), ""),
    ((("x-api-key", f" {ROOT_KEY} "),), ""),
    ((("authorization", f"Basic {TENANT_KEY}"), ("x-api-key", ROOT_KEY)), ""),
    ((("authorization", "Bearer "), ("x-api-key", TENANT_KEY)), TENANT),
)
_BAD_AUTH: tuple[tuple[tuple[str, str | bytes], ...], ...] = (
    (),
    (("authorization", "Bearer wrong"),),
    (("authorization", f"Basic {ROOT_KEY}"),),
    (("authorization", ROOT_KEY),),
    (("authorization", "Bearer"),),
    (("x-api-key", ""),),
    (("x-api-key", ROOT_KEY.upper()),),
    (("authorization", f"Bearer {TENANT_KEY}x"),),
    (("authorization", "Bearer wrong"), ("x-api-key", ROOT_KEY)),  # the authorization header is the one read
    (("authorization-bin", ROOT_KEY.encode()),),
    (("x-api-key-bin", ROOT_KEY.encode()),),
)
# Reserved headers a client may try to set; the client library keeps its own where they matter.
_ODD_HEADERS = st.sampled_from(
    [
        ("grpc-encoding", "x"),
        ("grpc-encoding", "gzip"),
        ("grpc-encoding", "identity, br"),
        ("grpc-accept-encoding", "zz"),
        ("content-type", "application/grpc+json"),
        ("content-type", "text/plain"),
        ("te", "x"),
        ("user-agent", "x" * 3000),
    ]
)


@st.composite
def metadata(draw: st.DrawFn) -> tuple[tuple[tuple[str, str | bytes], ...], str | None]:
    """Call metadata, and the tenant its API key authenticates ("" the store root, None refused)."""
    choice = draw(st.sampled_from(("good",) * 7 + ("bad",) * 2 + ("random",)))
    if choice == "good":
        pairs, tenant = draw(st.sampled_from(_GOOD_AUTH))
    elif choice == "bad":
        pairs, tenant = draw(st.sampled_from(_BAD_AUTH)), None
    else:
        pairs, tenant = (("authorization", f"Bearer {draw(_ASCII)}"),), None
    extra = draw(
        st.lists(st.one_of(_ODD_HEADERS, st.tuples(st.just("x-junk-bin"), st.binary(max_size=64))), max_size=2)
    )
    return (*pairs, *extra), tenant


@dataclass(frozen=True)
class Case:
    """One call of the barrage."""

    kind: str
    path: str
    body: bytes
    metadata: tuple[tuple[str, str | bytes], ...]
    tenant: str | None
    gzip: bool = False
    ending: str = "wait"
    """``wait`` for the answer, ``deadline`` (a deadline of ``delay``), or ``cancel`` after ``delay``."""
    delay: float = 0.0

    @property
    def expected(self) -> Expected:
        return expect(self.path, self.body, self.tenant)

    @property
    def allowed(self) -> frozenset[str]:
        """The statuses it may end with: the expected one, or the early end its ``ending`` asks for."""
        early = {"deadline": "DEADLINE_EXCEEDED", "cancel": "CANCELLED"}.get(self.ending)
        return frozenset({self.expected.code.name, early or self.expected.code.name})

    def describe(self) -> str:
        size = f"{len(self.body)} bytes, gzip={self.gzip}, {self.ending}"
        return f"{self.kind} ({size}) on {self.path} with {self.metadata!r}"


@st.composite
def cases(draw: st.DrawFn, family: str) -> Case:
    """One hostile call of ``family`` (see :data:`FAMILIES` and the module docstring)."""
    service = draw(st.sampled_from(SERVICES))
    kind, body = draw(bodies(service, family if family in BODY_KINDS else draw(st.sampled_from(BODY_KINDS))))
    if family == "other signal":  # a body of one signal sent to another's method
        path = draw(st.sampled_from([other.path for other in SERVICES if other is not service]))
        kind = f"{kind} to {BY_PATH[path].signal}"
    elif family == "unknown method":
        path = draw(st.sampled_from(UNKNOWN_PATHS))
        kind = f"{kind} to an unknown method"
    else:
        path = service.path
    pairs, tenant = draw(metadata())
    ending = draw(st.sampled_from(("wait",) * 8 + ("deadline", "cancel")))
    delay = draw(st.sampled_from((0.0, 0.0002, 0.001, 0.003))) if ending != "wait" else 0.0
    return Case(kind, path, body, pairs, tenant, draw(st.sampled_from((False, False, False, True))), ending, delay)


@dataclass
class Answer:
    """How a call ended."""

    status: str
    """A ``grpc.StatusCode`` name; ``RESET`` for an HTTP/2 stream reset, ``HANG`` for no end in time."""
    details: str = ""
    response: bytes | None = None
    trailers: dict[str, Any] = dataclass_field(default_factory=dict)


def send(channel: grpc.Channel, case: Case) -> Answer:
    """Make the call of ``case`` with the body as raw bytes; returns how it ended."""
    method = channel.unary_unary(case.path, request_serializer=None, response_deserializer=None)
    options: dict[str, Any] = {"metadata": case.metadata, "compression": grpc.Compression.Gzip if case.gzip else None}
    try:
        if case.ending == "cancel":
            future = method.future(case.body, timeout=TIMEOUT_S, **options)
            time.sleep(case.delay)
            future.cancel()
            try:
                return Answer("OK", response=future.result(timeout=TIMEOUT_S))
            except grpc.FutureCancelledError:
                return Answer("CANCELLED")
            except grpc.FutureTimeoutError:
                return Answer("HANG", "the cancelled call never ended")
        timeout = case.delay if case.ending == "deadline" else TIMEOUT_S
        return Answer("OK", response=method(case.body, timeout=timeout, **options))
    except grpc.RpcError as error:
        trailers = dict(error.trailing_metadata() or ())  # type: ignore[attr-defined]
        return Answer(error.code().name, error.details() or "", None, trailers)  # type: ignore[attr-defined]
