"""Which provider, host and port an Anthropic SDK client talks to.

``gen_ai.provider.name``, first match wins:

1. the client class: ``AnthropicBedrock`` / ``AsyncAnthropicBedrock`` → ``aws.bedrock``,
   ``AnthropicVertex`` / ``AsyncAnthropicVertex`` → ``gcp.vertex_ai`` (subclasses included);
2. ``provider_hosts`` (``host`` or ``host:port``), for gateways and proxies;
3. the name the SDK itself gives its client (newer SDKs, e.g. their Foundry client);
4. ``anthropic``.

``server.address`` / ``server.port`` come from the client's ``base_url``; the port only when it
is not 443.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlsplit

from wikitrace_otel.semconv.gen_ai import Provider

_CLASS_PROVIDERS = (("Bedrock", Provider.AWS_BEDROCK.value), ("Vertex", Provider.GCP_VERTEX_AI.value))
_CACHE_LIMIT = 256


class Endpoint(NamedTuple):
    """Where a client sends its requests."""

    provider: str
    address: str | None
    port: int | None


def class_provider(cls: type) -> str | None:
    """The provider a client class implies (Bedrock, Vertex), or None."""
    for base in cls.__mro__:
        for marker, name in _CLASS_PROVIDERS:
            if base.__name__.startswith(("Anthropic", "AsyncAnthropic")) and marker in base.__name__:
                return name
    return None


def resolve(client: Any, overrides: dict[str, str]) -> Endpoint:
    """The endpoint of an Anthropic-family client object."""
    parts = urlsplit(str(getattr(client, "base_url", "") or ""))
    host = (parts.hostname or "").lower() or None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    named = class_provider(type(client))
    if named is None and host:
        named = overrides.get(f"{host}:{port}") or overrides.get(host)
    if named is None:
        sdk_name = getattr(type(client), "_gen_ai_provider_name", None)
        named = sdk_name if isinstance(sdk_name, str) and sdk_name else Provider.ANTHROPIC.value
    return Endpoint(named, host, None if port == 443 else port)


class EndpointCache:
    """Resolves a client's endpoint once per client and ``base_url`` object.

    The SDK keeps the same ``base_url`` object until it is reassigned, so the hot path is a dict
    lookup and two identity checks; a reused ``id`` fails those checks, never misleads.
    """

    def __init__(self, overrides: dict[str, str]) -> None:
        self._overrides = overrides
        self._by_client: dict[int, tuple[Any, type, Endpoint]] = {}

    def for_client(self, client: Any) -> Endpoint:
        """The endpoint of ``client`` (None gives the default provider with no address)."""
        base_url = getattr(client, "base_url", None)
        cls = type(client)
        known = self._by_client.get(id(client))
        if known is not None and known[0] is base_url and known[1] is cls:
            return known[2]
        endpoint = resolve(client, self._overrides)
        if len(self._by_client) >= _CACHE_LIMIT:
            self._by_client.clear()
        self._by_client[id(client)] = (base_url, cls, endpoint)
        return endpoint
