"""Bedrock model ids: which vendor made the model, and which request/response body family an
``invoke_model`` call uses.

A ``modelId`` comes in several forms, all accepted by Bedrock:

- a base model id: ``anthropic.claude-3-5-sonnet-20240620-v1:0``, ``amazon.nova-pro-v1:0``;
- a cross-region inference profile: ``us.anthropic...``, ``eu.``, ``apac.``, ``global.``...;
- an ARN whose last path segment is one of those
  (``arn:aws:bedrock:us-east-1::foundation-model/anthropic...``,
  ``arn:aws:bedrock:...:inference-profile/us.anthropic...``);
- an ARN naming no model (a provisioned throughput, an application inference profile, an
  imported model): the vendor is unknown, and ``invoke_model`` bodies are recognised by shape.

``gen_ai.request.model`` is always the id as given; only the family lookup uses the parsed form.
"""

from __future__ import annotations

from typing import Any, Final

_REGION_PREFIXES: Final = frozenset({"us", "eu", "apac", "au", "jp", "ca", "us-gov", "global"})

# Body families of invoke_model.
ANTHROPIC: Final = "anthropic"
NOVA: Final = "nova"
TITAN_TEXT: Final = "titan_text"
TITAN_EMBED: Final = "titan_embed"
LLAMA: Final = "llama"
MISTRAL: Final = "mistral"
COHERE_CHAT: Final = "cohere_chat"
COHERE_EMBED: Final = "cohere_embed"
OPENAI_STYLE: Final = "openai_style"
"""OpenAI-style chat bodies (``messages`` in, ``choices`` out): gpt-oss, DeepSeek, others."""

EMBEDDING_FAMILIES: Final = frozenset({TITAN_EMBED, COHERE_EMBED})


def base_model_id(model_id: str) -> str:
    """The model id without an ARN wrapper or a cross-region prefix, lower-cased."""
    name = model_id.strip().lower()
    if name.startswith("arn:"):
        name = name.rsplit("/", 1)[-1]
    prefix, sep, rest = name.partition(".")
    if sep and prefix in _REGION_PREFIXES and "." in rest:
        return rest
    return name


def vendor(model_id: str) -> str | None:
    """The vendor part of a model id (``anthropic``, ``amazon``, ``meta``...), or None."""
    head, sep, _ = base_model_id(model_id).partition(".")
    return head if sep and head else None


def family(model_id: str | None, body: Any) -> str | None:
    """The ``invoke_model`` body family: from the model id, else from the request body's shape."""
    if model_id:
        by_id = _family_by_id(base_model_id(model_id))
        if by_id is not None:
            return by_id
    return _family_by_body(body) if isinstance(body, dict) else None


def _family_by_id(name: str) -> str | None:
    head, _, rest = name.partition(".")
    if head == "anthropic":
        return ANTHROPIC
    if head == "amazon":
        if rest.startswith("nova"):
            return NOVA
        if rest.startswith("titan-embed"):
            return TITAN_EMBED
        if rest.startswith("titan-text") or rest.startswith("titan-tg"):
            return TITAN_TEXT
        return None
    if head == "meta":
        return LLAMA
    if head == "mistral":
        return MISTRAL
    if head == "cohere":
        return COHERE_EMBED if rest.startswith("embed") else COHERE_CHAT
    if head in ("openai", "deepseek", "qwen"):
        return OPENAI_STYLE
    return None


def _family_by_body(body: dict[str, Any]) -> str | None:
    if "anthropic_version" in body:
        return ANTHROPIC
    if "inputText" in body:
        return TITAN_TEXT if "textGenerationConfig" in body else TITAN_EMBED
    if "texts" in body or ("images" in body and "input_type" in body):
        return COHERE_EMBED
    if "max_gen_len" in body:
        return LLAMA
    if "messages" in body:
        return NOVA if "inferenceConfig" in body or "schemaVersion" in body else OPENAI_STYLE
    if "message" in body or "chat_history" in body:
        return COHERE_CHAT
    if "prompt" in body:
        return MISTRAL
    return None
