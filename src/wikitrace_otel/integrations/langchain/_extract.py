"""LangChain objects (serialized runnables, messages, ``LLMResult``) to GenAI attributes and content.

Everything here reads LangChain objects by duck typing (``getattr`` with defaults), so a field
that a langchain-core release lacks only leaves the matching attribute out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wikitrace_otel._genai.content import parse_arguments, text_part, tool_call_part, tool_response_part
from wikitrace_otel.semconv import gen_ai as g

# LangChain's ``ls_provider`` metadata (set by chat models for LangSmith) to GenAI provider names.
_LS_PROVIDERS = {
    "openai": g.Provider.OPENAI.value,
    "azure": g.Provider.AZURE_AI_OPENAI.value,
    "anthropic": g.Provider.ANTHROPIC.value,
    "amazon_bedrock": g.Provider.AWS_BEDROCK.value,
    "bedrock": g.Provider.AWS_BEDROCK.value,
    "bedrock_converse": g.Provider.AWS_BEDROCK.value,
    "google_vertexai": g.Provider.GCP_VERTEX_AI.value,
    "google_genai": g.Provider.GCP_GEN_AI.value,
    "mistral": g.Provider.MISTRAL_AI.value,
    "mistralai": g.Provider.MISTRAL_AI.value,
    "cohere": g.Provider.COHERE.value,
    "groq": g.Provider.GROQ.value,
    "deepseek": g.Provider.DEEPSEEK.value,
    "xai": g.Provider.X_AI.value,
    "perplexity": g.Provider.PERPLEXITY.value,
    "ollama": "ollama",
    "fireworks": "fireworks_ai",
    "together": "together_ai",
}
# Chat model class names to providers, for models that set no ``ls_provider``.
_CLASS_PROVIDERS = {
    "ChatOpenAI": g.Provider.OPENAI.value,
    "OpenAI": g.Provider.OPENAI.value,
    "AzureChatOpenAI": g.Provider.AZURE_AI_OPENAI.value,
    "ChatAnthropic": g.Provider.ANTHROPIC.value,
    "ChatBedrock": g.Provider.AWS_BEDROCK.value,
    "ChatBedrockConverse": g.Provider.AWS_BEDROCK.value,
    "ChatVertexAI": g.Provider.GCP_VERTEX_AI.value,
    "ChatGoogleGenerativeAI": g.Provider.GCP_GEN_AI.value,
    "ChatMistralAI": g.Provider.MISTRAL_AI.value,
    "ChatCohere": g.Provider.COHERE.value,
    "ChatGroq": g.Provider.GROQ.value,
    "ChatDeepSeek": g.Provider.DEEPSEEK.value,
    "ChatXAI": g.Provider.X_AI.value,
    "ChatOllama": "ollama",
}
_UNKNOWN_PROVIDER = "langchain"
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "tool"}


def run_name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any], default: str) -> str:
    """The name LangChain shows for a run: ``name=``, else the serialized name or class."""
    name = kwargs.get("name")
    if isinstance(name, str) and name:
        return name
    if serialized:
        name = serialized.get("name")
        if isinstance(name, str) and name:
            return name
        path = serialized.get("id")
        if isinstance(path, list) and path:
            return str(path[-1])
    return default


def class_name(serialized: Mapping[str, Any] | None) -> str | None:
    """The runnable's class name from its serialized form (``id`` is the import path)."""
    path = serialized.get("id") if serialized else None
    return str(path[-1]) if isinstance(path, list) and path else None


def model_request(
    serialized: Mapping[str, Any] | None, metadata: Mapping[str, Any] | None, kwargs: Mapping[str, Any], operation: str
) -> dict[str, Any]:
    """Start attributes of a model run: operation, provider, request model and parameters."""
    metadata = metadata or {}
    params = kwargs.get("invocation_params") or {}
    provider = _provider(metadata.get("ls_provider"), class_name(serialized))
    attributes: dict[str, Any] = {g.GEN_AI_OPERATION_NAME: operation, g.GEN_AI_PROVIDER_NAME: provider}
    model = params.get("model") or params.get("model_name") or params.get("model_id") or metadata.get("ls_model_name")
    if isinstance(model, str) and model:
        attributes[g.GEN_AI_REQUEST_MODEL] = model
    _number(attributes, g.GEN_AI_REQUEST_TEMPERATURE, params.get("temperature", metadata.get("ls_temperature")))
    _number(attributes, g.GEN_AI_REQUEST_TOP_P, params.get("top_p"))
    _number(attributes, g.GEN_AI_REQUEST_FREQUENCY_PENALTY, params.get("frequency_penalty"))
    _number(attributes, g.GEN_AI_REQUEST_PRESENCE_PENALTY, params.get("presence_penalty"))
    max_tokens = params.get("max_tokens", params.get("max_completion_tokens", metadata.get("ls_max_tokens")))
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool):
        attributes[g.GEN_AI_REQUEST_MAX_TOKENS] = max_tokens
    stop = params.get("stop", metadata.get("ls_stop"))
    if isinstance(stop, str):
        stop = [stop]
    if isinstance(stop, list) and stop and all(isinstance(s, str) for s in stop):
        attributes[g.GEN_AI_REQUEST_STOP_SEQUENCES] = stop
    if params.get("stream") is True:
        attributes[g.GEN_AI_REQUEST_STREAM] = True
    return attributes


def _provider(ls_provider: Any, cls: str | None) -> str:
    if isinstance(ls_provider, str) and ls_provider:
        return _LS_PROVIDERS.get(ls_provider.lower(), ls_provider.lower())
    if cls is not None and cls in _CLASS_PROVIDERS:
        return _CLASS_PROVIDERS[cls]
    return _UNKNOWN_PROVIDER


def _number(attributes: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        attributes[key] = value


def tool_definitions(kwargs: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """``gen_ai.tool.definitions`` from the bound tools (OpenAI function format)."""
    tools = (kwargs.get("invocation_params") or {}).get("tools")
    if not isinstance(tools, list) or not tools:
        return None
    definitions = []
    for tool in tools:
        if not isinstance(tool, Mapping):
            continue
        function = tool.get("function") if isinstance(tool.get("function"), Mapping) else tool
        entry = {"type": "function", "name": function.get("name")}
        for key in ("description", "parameters"):
            if function.get(key) is not None:
                entry[key] = function[key]
        definitions.append(entry)
    return definitions or None


def input_messages(messages: Sequence[Any]) -> list[dict[str, Any]]:
    """LangChain messages to ``gen_ai.input.messages``."""
    return [message_content(message) for message in messages]


def prompt_messages(prompts: Sequence[str]) -> list[dict[str, Any]]:
    """Plain-text prompts of a completion model to ``gen_ai.input.messages``."""
    return [{"role": "user", "parts": [text_part(prompt)]} for prompt in prompts]


def message_content(message: Any) -> dict[str, Any]:
    """One LangChain message as ``{"role", "parts"}``."""
    kind = getattr(message, "type", None)
    role = _ROLES.get(kind, getattr(message, "role", None) or str(kind))
    parts: list[dict[str, Any]] = []
    content = getattr(message, "content", None)
    if role == "tool":
        parts.append(tool_response_part(getattr(message, "tool_call_id", None), content))
    elif isinstance(content, str):
        if content:
            parts.append(text_part(content))
    elif isinstance(content, list):
        parts.extend(_block_part(block) for block in content)
    for call in getattr(message, "tool_calls", None) or ():
        parts.append(tool_call_part(call.get("id"), call.get("name"), parse_arguments(call.get("args"))))
    return {"role": role, "parts": parts}


def _block_part(block: Any) -> dict[str, Any]:
    if isinstance(block, str):
        return text_part(block)
    if isinstance(block, Mapping):
        if block.get("type") == "text":
            return text_part(str(block.get("text", "")))
        if block.get("type") in ("thinking", "reasoning"):
            return {"type": "reasoning", "content": block.get("thinking") or block.get("reasoning") or ""}
        return dict(block)
    return {"type": "unknown", "content": str(block)}


def model_response(result: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """End attributes and output messages of an ``LLMResult``.

    Usage comes from each generation's ``usage_metadata`` (LangChain's normalized counts,
    whose ``input_tokens`` already include cached input) and, when no generation carries it,
    from ``llm_output["token_usage"]`` (the provider's own counts, OpenAI-shaped).
    """
    attributes: dict[str, Any] = {}
    outputs: list[dict[str, Any]] = []
    finish: list[str] = []
    usage = _Usage()
    for generation in _generations(result):
        message = getattr(generation, "message", None)
        info = getattr(generation, "generation_info", None) or {}
        meta = getattr(message, "response_metadata", None) or {}
        reason = meta.get("finish_reason") or meta.get("stop_reason") or info.get("finish_reason")
        if reason:
            finish.append(str(reason))
        usage.add_normalized(getattr(message, "usage_metadata", None))
        _response_identity(attributes, meta)
        if message is not None:
            outputs.append(message_content(message))
        else:
            outputs.append({"role": "assistant", "parts": [text_part(str(getattr(generation, "text", "")))]})
    llm_output = getattr(result, "llm_output", None) or {}
    if not usage.seen:
        usage.add_openai(llm_output.get("token_usage") or llm_output.get("usage"))
    _response_identity(attributes, llm_output)
    if finish:
        attributes[g.GEN_AI_RESPONSE_FINISH_REASONS] = finish
    attributes.update(usage.attributes())
    return attributes, outputs


def _generations(result: Any) -> list[Any]:
    return [generation for batch in getattr(result, "generations", None) or () for generation in batch]


def _response_identity(attributes: dict[str, Any], meta: Mapping[str, Any]) -> None:
    model = meta.get("model_name") or meta.get("model")
    if isinstance(model, str) and model:
        attributes.setdefault(g.GEN_AI_RESPONSE_MODEL, model)
    response_id = meta.get("id")
    if isinstance(response_id, str) and response_id:
        attributes.setdefault(g.GEN_AI_RESPONSE_ID, response_id)


class _Usage:
    """Token counts summed over the generations of one model run."""

    def __init__(self) -> None:
        self.seen = False
        self.counts = {key: 0 for key in _USAGE_KEYS}
        self.present: set[str] = set()

    def _add(self, key: str, value: Any) -> None:
        if isinstance(value, int) and not isinstance(value, bool):
            self.counts[key] += value
            self.present.add(key)
            self.seen = True

    def add_normalized(self, usage: Any) -> None:
        if not isinstance(usage, Mapping):
            return
        self._add(g.GEN_AI_USAGE_INPUT_TOKENS, usage.get("input_tokens"))
        self._add(g.GEN_AI_USAGE_OUTPUT_TOKENS, usage.get("output_tokens"))
        details = usage.get("input_token_details") or {}
        self._add(g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, details.get("cache_read"))
        self._add(g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS, details.get("cache_creation"))
        self._add(g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, (usage.get("output_token_details") or {}).get("reasoning"))

    def add_openai(self, usage: Any) -> None:
        if not isinstance(usage, Mapping):
            return
        self._add(g.GEN_AI_USAGE_INPUT_TOKENS, usage.get("prompt_tokens", usage.get("input_tokens")))
        self._add(g.GEN_AI_USAGE_OUTPUT_TOKENS, usage.get("completion_tokens", usage.get("output_tokens")))
        prompt = usage.get("prompt_tokens_details") or usage.get("input_tokens_details") or {}
        self._add(g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, prompt.get("cached_tokens"))
        completion = usage.get("completion_tokens_details") or usage.get("output_tokens_details") or {}
        self._add(g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, completion.get("reasoning_tokens"))

    def attributes(self) -> dict[str, int]:
        return {key: self.counts[key] for key in _USAGE_KEYS if key in self.present}


_USAGE_KEYS = (
    g.GEN_AI_USAGE_INPUT_TOKENS,
    g.GEN_AI_USAGE_OUTPUT_TOKENS,
    g.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
    g.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS,
    g.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS,
)


def documents_content(documents: Sequence[Any]) -> list[dict[str, Any]]:
    """Retrieved documents as ``[{"id"?, "content", "metadata"?}]``."""
    out = []
    for document in documents:
        entry: dict[str, Any] = {"content": getattr(document, "page_content", str(document))}
        doc_id = getattr(document, "id", None)
        if doc_id is not None:
            entry["id"] = str(doc_id)
        metadata = getattr(document, "metadata", None)
        if metadata:
            entry["metadata"] = metadata
        out.append(entry)
    return out
