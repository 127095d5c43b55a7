"""Which provider, host and port a Mistral SDK call goes to.

``gen_ai.provider.name`` is ``mistral_ai`` unless ``provider_hosts`` (``host`` or
``host:port``) names the host otherwise, e.g. a gateway in front of the API.
``server.address`` / ``server.port`` come from the call's ``server_url=`` when given, else from
the client's server URL; the port only when it is not 443.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlsplit

from wikitrace_otel.semconv.gen_ai import Provider

_CACHE_LIMIT = 256


class Endpoint(NamedTuple):
    """Where a call is sent."""

    provider: str
    address: str | None
    port: int | None


def from_url(url: str, overrides: dict[str, str], default: str) -> Endpoint:
    """The endpoint of a server URL: ``default`` unless ``overrides`` names its host."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower() or None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    named = (overrides.get(f"{host}:{port}") or overrides.get(host)) if host else None
    return Endpoint(named or default, host, None if port == 443 else port)


def server_url(instance: Any, kwargs: dict[str, Any]) -> str:
    """The URL a Mistral resource (``chat``, ``embeddings``) sends this call to."""
    explicit = kwargs.get("server_url")
    if isinstance(explicit, str) and explicit:
        return explicit
    config = getattr(instance, "sdk_configuration", None)
    details = getattr(config, "get_server_details", None)
    url = details()[0] if callable(details) else None
    return url if isinstance(url, str) else ""


class EndpointCache:
    """Resolves each distinct server URL once (a handful per process)."""

    def __init__(self, overrides: dict[str, str], default: str = Provider.MISTRAL_AI.value) -> None:
        self._overrides = overrides
        self._default = default
        self._by_url: dict[str, Endpoint] = {}

    def for_url(self, url: str) -> Endpoint:
        """The endpoint of ``url``."""
        endpoint = self._by_url.get(url)
        if endpoint is None:
            endpoint = from_url(url, self._overrides, self._default)
            if len(self._by_url) >= _CACHE_LIMIT:
                self._by_url.clear()
            self._by_url[url] = endpoint
        return endpoint
