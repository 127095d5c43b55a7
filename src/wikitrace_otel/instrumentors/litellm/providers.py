"""Which provider a LiteLLM call goes to, named as the GenAI conventions name it.

LiteLLM names providers its own way (``vertex_ai``, ``bedrock``, ``xai``...): the provider is
``custom_llm_provider=`` when given, else the ``provider/`` prefix of the model when LiteLLM
knows that prefix, else the provider LiteLLM infers from a bare model name (``gpt-4o`` →
``openai``, ``claude-...`` → ``anthropic``). Then LiteLLM's name is mapped to the conventions'
well-known value; names with no well-known value are kept, lower-case (``openrouter``,
``together_ai``, ``ollama``).
"""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urlsplit

from wikitrace_otel.semconv.gen_ai import Provider

_CONVENTION_NAMES = {
    "openai": Provider.OPENAI.value,
    "text-completion-openai": Provider.OPENAI.value,
    "chatgpt": Provider.OPENAI.value,
    "azure": Provider.AZURE_AI_OPENAI.value,
    "azure_text": Provider.AZURE_AI_OPENAI.value,
    "azure_ai": Provider.AZURE_AI_INFERENCE.value,
    "anthropic": Provider.ANTHROPIC.value,
    "anthropic_text": Provider.ANTHROPIC.value,
    "bedrock": Provider.AWS_BEDROCK.value,
    "sagemaker": "aws.sagemaker",
    "vertex_ai": Provider.GCP_VERTEX_AI.value,
    "vertex_ai_beta": Provider.GCP_VERTEX_AI.value,
    "gemini": Provider.GCP_GEMINI.value,
    "mistral": Provider.MISTRAL_AI.value,
    "codestral": Provider.MISTRAL_AI.value,
    "text-completion-codestral": Provider.MISTRAL_AI.value,
    "cohere": Provider.COHERE.value,
    "cohere_chat": Provider.COHERE.value,
    "groq": Provider.GROQ.value,
    "deepseek": Provider.DEEPSEEK.value,
    "perplexity": Provider.PERPLEXITY.value,
    "xai": Provider.X_AI.value,
    "watsonx": Provider.IBM_WATSONX_AI.value,
    "watsonx_text": Provider.IBM_WATSONX_AI.value,
    "moonshot": Provider.MOONSHOT_AI.value,
    "ollama_chat": "ollama",
    "hosted_vllm": "vllm",
}
_CACHE_LIMIT = 256


class Route(NamedTuple):
    """Where one LiteLLM call goes."""

    provider: str
    model: str | None
    address: str | None
    port: int | None


def convention_name(litellm_provider: str) -> str:
    """The ``gen_ai.provider.name`` of a LiteLLM provider name."""
    name = litellm_provider.strip().lower()
    return _CONVENTION_NAMES.get(name, name)


class Router:
    """Resolves calls against one imported ``litellm`` module (its provider list is read once)."""

    def __init__(self, litellm: Any) -> None:
        self._litellm = litellm
        known = getattr(litellm, "provider_list", None) or ()
        self._known = frozenset(str(getattr(p, "value", p)).lower() for p in known)
        self._inferred: dict[str, str] = {}

    def route(self, kwargs: dict[str, Any]) -> Route:
        """Provider, model as sent to the provider, and server of a call's keyword arguments."""
        model = kwargs.get("model")
        model = model if isinstance(model, str) and model else None
        address, port = _server(kwargs.get("api_base") or kwargs.get("base_url"))
        explicit = kwargs.get("custom_llm_provider")
        if isinstance(explicit, str) and explicit:
            return Route(convention_name(explicit), _strip(model, explicit), address, port)
        if model is None:
            return Route(Provider.OPENAI.value, None, address, port)
        prefix, sep, rest = model.partition("/")
        if sep and prefix.lower() in self._known:
            return Route(convention_name(prefix), rest, address, port)
        return Route(convention_name(self._infer(model)), model, address, port)

    def _infer(self, model: str) -> str:
        found = self._inferred.get(model)
        if found is None:
            found = _inferred(self._litellm, model) or Provider.OPENAI.value
            if len(self._inferred) >= _CACHE_LIMIT:
                self._inferred.clear()
            self._inferred[model] = found
        return found


def _strip(model: str | None, provider: str) -> str | None:
    if model is not None and model.lower().startswith(provider.lower() + "/"):
        return model[len(provider) + 1 :]
    return model


def _inferred(litellm: Any, model: str) -> str | None:
    """The provider LiteLLM itself infers from a bare model name (``gpt-4o``, ``claude-...``)."""
    infer = getattr(litellm, "get_llm_provider", None)
    if infer is None:
        return None
    try:
        found = infer(model=model)
    except Exception:  # noqa: BLE001 - LiteLLM raises its own error for names it cannot place
        return None
    provider = found[1] if isinstance(found, tuple) and len(found) > 1 else None
    return provider if isinstance(provider, str) and provider else None


def _server(api_base: Any) -> tuple[str | None, int | None]:
    if not isinstance(api_base, str) or not api_base:
        return None, None
    parts = urlsplit(api_base)
    host = (parts.hostname or "").lower() or None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    return host, None if port == 443 else port
