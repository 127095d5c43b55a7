"""Which provider, host and port an OpenAI SDK client talks to.

The OpenAI SDK reaches many OpenAI-compatible hosts; ``gen_ai.provider.name`` comes from the
client's class (Azure) and its base URL. Unknown hosts are named by their lower-case host
name; loopback hosts by the conventional port of the local server (Ollama 11434, LM Studio
1234) or ``vllm``. ``provider_hosts`` / ``WIKITRACE_GENAI_PROVIDER_HOSTS`` add or override
entries (``host`` or ``host:port``): vLLM has no fixed host, so a vLLM server anywhere but on
loopback needs one, e.g. ``{"gpu-box.internal:8000": "vllm"}``.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlsplit

from wikitrace_otel.semconv.gen_ai import Provider

_EXACT_HOSTS = {
    "api.openai.com": Provider.OPENAI.value,
    "api.groq.com": Provider.GROQ.value,
    "api.deepseek.com": Provider.DEEPSEEK.value,
    "api.x.ai": Provider.X_AI.value,
    "api.perplexity.ai": Provider.PERPLEXITY.value,
    "api.mistral.ai": Provider.MISTRAL_AI.value,
    "api.moonshot.ai": Provider.MOONSHOT_AI.value,
    "api.moonshot.cn": Provider.MOONSHOT_AI.value,
    "openrouter.ai": "openrouter",
    "api.together.xyz": "together_ai",
    "api.together.ai": "together_ai",
    "api.fireworks.ai": "fireworks_ai",
    "api.cerebras.ai": "cerebras",
    "ollama.com": "ollama",  # Ollama's hosted models (local servers are matched by port below)
    "generativelanguage.googleapis.com": Provider.GCP_GEMINI.value,
    "api.anthropic.com": Provider.ANTHROPIC.value,
    "api.cohere.ai": Provider.COHERE.value,
    "api.cohere.com": Provider.COHERE.value,
}
_HOST_SUFFIXES = (
    (".openai.azure.com", Provider.AZURE_AI_OPENAI.value),
    (".cognitiveservices.azure.com", Provider.AZURE_AI_OPENAI.value),
    (".services.ai.azure.com", Provider.AZURE_AI_INFERENCE.value),
    (".models.ai.azure.com", Provider.AZURE_AI_INFERENCE.value),
    (".inference.ai.azure.com", Provider.AZURE_AI_INFERENCE.value),
    ("aiplatform.googleapis.com", Provider.GCP_VERTEX_AI.value),
)
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal"})
_LOCAL_PORTS = {11434: "ollama", 1234: "lm_studio"}
_CACHE_LIMIT = 256


class Endpoint(NamedTuple):
    """Where a client sends its requests."""

    provider: str
    address: str | None
    port: int | None


def provider_from_url(url: str, overrides: dict[str, str], azure_client: bool = False) -> Endpoint:
    """Provider name, ``server.address`` and ``server.port`` (None for 443) of a base URL."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    if not host:
        return Endpoint(Provider.OPENAI.value, None, None)
    shown_port = None if port == 443 else port
    if azure_client:  # the Azure client classes speak only to Azure
        builtin = _builtin_name(host, port)
        azure = builtin if builtin.startswith("azure.") else Provider.AZURE_AI_OPENAI.value
        return Endpoint(azure, host, shown_port)
    named = overrides.get(f"{host}:{port}") or overrides.get(host)
    return Endpoint(named or _builtin_name(host, port), host, shown_port)


def _builtin_name(host: str, port: int | None) -> str:
    exact = _EXACT_HOSTS.get(host)
    if exact:
        return exact
    for suffix, name in _HOST_SUFFIXES:
        if host.endswith(suffix):
            return name
    if host in _LOOPBACK or host.startswith("127."):
        return _LOCAL_PORTS.get(port or 0, "vllm")
    return host


_AZURE_CLASSES = frozenset({"AzureOpenAI", "AsyncAzureOpenAI"})


def _is_azure_client(cls: type) -> bool:
    return any(base.__name__ in _AZURE_CLASSES for base in cls.__mro__)


class EndpointCache:
    """Resolves a client's endpoint once per client and base URL.

    The hot path is one dict lookup and an identity check of the client's ``base_url`` object
    (the SDK keeps the same object until ``base_url`` is reassigned); formatting the URL is
    left to the first call. The SDK's own ``base_url`` property returns its ``_base_url``
    attribute, in some releases after an import statement on every read, so clients whose
    class does not override the property are checked through ``_base_url`` directly.
    """

    def __init__(self, overrides: dict[str, str]) -> None:
        self._overrides = overrides
        self._by_url: dict[tuple[str, type], Endpoint] = {}
        # id(client) -> (client's base_url object, client class, endpoint, read _base_url). An id
        # can be reused once a client is gone: the identity checks make a stale entry miss,
        # never mislead.
        self._by_client: dict[int, tuple[Any, type, Endpoint, bool]] = {}

    def for_client(self, client: Any) -> Endpoint:
        """The endpoint of an ``OpenAI``-family client object (subclasses included)."""
        cls = type(client)
        known = self._by_client.get(id(client))
        if known is not None and known[1] is cls:
            current = getattr(client, "_base_url", None) if known[3] else getattr(client, "base_url", "")
            if known[0] is current:
                return known[2]
        base_url = getattr(client, "base_url", "")
        endpoint = self._resolve(str(base_url), cls)
        private = _plain_base_url(client, base_url)
        if len(self._by_client) >= _CACHE_LIMIT:
            self._by_client.clear()
        self._by_client[id(client)] = (
            getattr(client, "_base_url", None) if private else base_url,
            cls,
            endpoint,
            private,
        )
        return endpoint

    def _resolve(self, url: str, cls: type) -> Endpoint:
        key = (url, cls)
        endpoint = self._by_url.get(key)
        if endpoint is None:
            endpoint = provider_from_url(url, self._overrides, azure_client=_is_azure_client(cls))
            if len(self._by_url) >= _CACHE_LIMIT:
                self._by_url.clear()
            self._by_url[key] = endpoint
        return endpoint


def _plain_base_url(client: Any, base_url: Any) -> bool:
    """Whether ``client.base_url`` is the SDK's property over ``client._base_url``."""
    prop = getattr(type(client), "base_url", None)
    fget = getattr(prop, "fget", None)
    module = getattr(fget, "__module__", None) or ""
    return (
        isinstance(prop, property)
        and (module == "openai" or module.startswith("openai."))
        and getattr(client, "_base_url", None) is base_url
    )
