"""Which provider, host and port a ``google-genai`` client talks to.

``gen_ai.provider.name``, first match wins:

1. ``provider_hosts`` (``host`` or ``host:port``), for gateways and proxies;
2. the client's mode: ``vertexai=True`` → ``gcp.vertex_ai``, else ``gcp.gemini`` (the Gemini
   Developer API).

``server.address`` / ``server.port`` come from the client's ``http_options.base_url`` (the
port only when it is not 443).
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlsplit

from wikitrace_otel.semconv.gen_ai import Provider

_CACHE_LIMIT = 256


class Endpoint(NamedTuple):
    """Where a client sends its requests."""

    provider: str
    address: str | None
    port: int | None


def base_url(api_client: Any) -> str:
    """The base URL the SDK's API client sends to (empty when unknown)."""
    options = getattr(api_client, "_http_options", None)
    url = getattr(options, "base_url", None)
    return url if isinstance(url, str) else ""


def resolve(api_client: Any, overrides: dict[str, str]) -> Endpoint:
    """The endpoint of a ``google.genai`` API client object (``client._api_client``)."""
    parts = urlsplit(base_url(api_client))
    host = (parts.hostname or "").lower() or None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    named = (overrides.get(f"{host}:{port}") or overrides.get(host)) if host else None
    if named is None:
        vertex = getattr(api_client, "vertexai", False)
        named = Provider.GCP_VERTEX_AI.value if vertex else Provider.GCP_GEMINI.value
    return Endpoint(named, host, None if port == 443 else port)


class EndpointCache:
    """Resolves an API client's endpoint once per client, mode and base URL.

    The hot path is a dict lookup and three comparisons; a reused ``id`` fails them, never
    misleads.
    """

    def __init__(self, overrides: dict[str, str]) -> None:
        self._overrides = overrides
        self._by_client: dict[int, tuple[Any, str, Endpoint]] = {}

    def for_client(self, api_client: Any) -> Endpoint:
        """The endpoint of ``api_client`` (None gives ``gcp.gemini`` with no address)."""
        mode = getattr(api_client, "vertexai", None)
        url = base_url(api_client)
        known = self._by_client.get(id(api_client))
        if known is not None and known[0] == mode and known[1] == url:
            return known[2]
        endpoint = resolve(api_client, self._overrides)
        if len(self._by_client) >= _CACHE_LIMIT:
            self._by_client.clear()
        self._by_client[id(api_client)] = (mode, url, endpoint)
        return endpoint
