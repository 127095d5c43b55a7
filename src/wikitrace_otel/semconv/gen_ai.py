"""OpenTelemetry GenAI attribute and event names, one constant each.

Pinned to the conventions named in :mod:`wikitrace_otel.semconv`. Do not import the
``_incubating`` gen_ai constants of ``opentelemetry-semantic-conventions``: they predate
several of these names.
"""

from __future__ import annotations

from enum import Enum
from typing import Final

# --- identity -------------------------------------------------------------------------

GEN_AI_OPERATION_NAME: Final = "gen_ai.operation.name"
"""The operation performed (see :class:`Operation`)."""
GEN_AI_PROVIDER_NAME: Final = "gen_ai.provider.name"
"""The provider as identified by the client (see :class:`Provider`)."""
GEN_AI_SYSTEM: Final = "gen_ai.system"
"""Deprecated old name of ``gen_ai.provider.name``; emitted only in legacy mode."""
GEN_AI_REQUEST_MODEL: Final = "gen_ai.request.model"
"""The model the request asked for."""
SERVER_ADDRESS: Final = "server.address"
"""Host name of the GenAI server."""
SERVER_PORT: Final = "server.port"
"""Port of the GenAI server (omitted for 443)."""
ERROR_TYPE: Final = "error.type"
"""Provider error code, HTTP status, or the exception's qualified class name."""

# --- request --------------------------------------------------------------------------

GEN_AI_REQUEST_TEMPERATURE: Final = "gen_ai.request.temperature"
"""Sampling temperature."""
GEN_AI_REQUEST_TOP_P: Final = "gen_ai.request.top_p"
"""Nucleus sampling probability mass."""
GEN_AI_REQUEST_TOP_K: Final = "gen_ai.request.top_k"
"""Top-k sampling (int)."""
GEN_AI_REQUEST_MAX_TOKENS: Final = "gen_ai.request.max_tokens"
"""Maximum number of tokens the model may generate."""
GEN_AI_REQUEST_STOP_SEQUENCES: Final = "gen_ai.request.stop_sequences"
"""Stop sequences (string[])."""
GEN_AI_REQUEST_SEED: Final = "gen_ai.request.seed"
"""Seed for reproducible sampling."""
GEN_AI_REQUEST_FREQUENCY_PENALTY: Final = "gen_ai.request.frequency_penalty"
"""Frequency penalty."""
GEN_AI_REQUEST_PRESENCE_PENALTY: Final = "gen_ai.request.presence_penalty"
"""Presence penalty."""
GEN_AI_REQUEST_CHOICE_COUNT: Final = "gen_ai.request.choice.count"
"""Number of candidate completions requested; set only when it is not 1."""
GEN_AI_REQUEST_STREAM: Final = "gen_ai.request.stream"
"""True when the response is streamed; absent otherwise."""
GEN_AI_REQUEST_REASONING_LEVEL: Final = "gen_ai.request.reasoning.level"
"""Requested reasoning effort (OpenAI ``reasoning.effort``)."""
GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID: Final = "gen_ai.request.previous_response.id"
"""Id of the stored response the request continues."""
GEN_AI_REQUEST_ENCODING_FORMATS: Final = "gen_ai.request.encoding_formats"
"""Embedding encoding formats requested (string[])."""
GEN_AI_EMBEDDINGS_DIMENSION_COUNT: Final = "gen_ai.embeddings.dimension.count"
"""Number of dimensions of the requested embeddings."""
GEN_AI_OUTPUT_TYPE: Final = "gen_ai.output.type"
"""Requested output type (see :class:`OutputType`)."""
GEN_AI_CONVERSATION_ID: Final = "gen_ai.conversation.id"
"""Application-supplied conversation id; never synthesized."""

# --- response -------------------------------------------------------------------------

GEN_AI_RESPONSE_ID: Final = "gen_ai.response.id"
"""Provider's id of the completion."""
GEN_AI_RESPONSE_MODEL: Final = "gen_ai.response.model"
"""The model that actually answered."""
GEN_AI_RESPONSE_FINISH_REASONS: Final = "gen_ai.response.finish_reasons"
"""One finish reason per choice, in order (string[]); ``error`` where none came."""
GEN_AI_RESPONSE_STATUS: Final = "gen_ai.response.status"
"""Status of a fetched stored response (``completed``, ``in_progress``, ...)."""
GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: Final = "gen_ai.response.time_to_first_chunk"
"""Seconds from the request to the first streamed chunk."""

# --- usage ----------------------------------------------------------------------------

GEN_AI_USAGE_INPUT_TOKENS: Final = "gen_ai.usage.input_tokens"
"""Input tokens, cached input included."""
GEN_AI_USAGE_OUTPUT_TOKENS: Final = "gen_ai.usage.output_tokens"
"""Output tokens, reasoning included."""
GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read.input_tokens"
"""Input tokens served from the provider's prompt cache."""
GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.usage.cache_write.input_tokens"
"""Input tokens written to the provider's prompt cache."""
GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation.input_tokens"
"""Older name of ``cache_write``; emitted only in legacy mode."""
GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.usage.reasoning.output_tokens"
"""Output tokens spent on reasoning, when reported."""

# --- content (opt-in) -----------------------------------------------------------------

GEN_AI_INPUT_MESSAGES: Final = "gen_ai.input.messages"
"""Chat history sent to the model (JSON on spans)."""
GEN_AI_OUTPUT_MESSAGES: Final = "gen_ai.output.messages"
"""Messages the model returned, one per choice (JSON on spans)."""
GEN_AI_SYSTEM_INSTRUCTIONS: Final = "gen_ai.system_instructions"
"""System prompt passed separately from the chat history (JSON on spans)."""
GEN_AI_TOOL_DEFINITIONS: Final = "gen_ai.tool.definitions"
"""Tools offered to the model (JSON on spans)."""

# --- agents and tools -----------------------------------------------------------------

GEN_AI_AGENT_NAME: Final = "gen_ai.agent.name"
"""Human-readable agent name."""
GEN_AI_AGENT_DESCRIPTION: Final = "gen_ai.agent.description"
"""Free-form agent description."""
GEN_AI_AGENT_VERSION: Final = "gen_ai.agent.version"
"""Agent version."""
GEN_AI_TOOL_NAME: Final = "gen_ai.tool.name"
"""Tool name."""
GEN_AI_TOOL_CALL_ID: Final = "gen_ai.tool.call.id"
"""Tool call id."""
GEN_AI_TOOL_DESCRIPTION: Final = "gen_ai.tool.description"
"""Tool description."""
GEN_AI_TOOL_TYPE: Final = "gen_ai.tool.type"
"""``function``, ``extension`` or ``datastore``."""
GEN_AI_TOOL_CALL_ARGUMENTS: Final = "gen_ai.tool.call.arguments"
"""Arguments a tool was called with (opt-in content)."""
GEN_AI_TOOL_CALL_RESULT: Final = "gen_ai.tool.call.result"
"""What a tool returned (opt-in content)."""
GEN_AI_DATA_SOURCE_ID: Final = "gen_ai.data_source.id"
"""Data source a retrieval reads."""
GEN_AI_WORKFLOW_NAME: Final = "gen_ai.workflow.name"
"""Workflow name."""
GEN_AI_RETRIEVAL_QUERY_TEXT: Final = "gen_ai.retrieval.query.text"
"""Query text of a retrieval (opt-in content)."""
GEN_AI_RETRIEVAL_DOCUMENTS: Final = "gen_ai.retrieval.documents"
"""Documents a retrieval returned, JSON ``[{"id"?, "content", "metadata"?}]`` (opt-in content)."""

# --- metric attributes ----------------------------------------------------------------

GEN_AI_TOKEN_TYPE: Final = "gen_ai.token.type"
"""``input`` / ``output`` on the legacy ``gen_ai.client.token.usage`` histogram."""
GEN_AI_TOKEN_MODALITY: Final = "gen_ai.token.modality"
"""``text`` / ``image`` / ``audio`` / ``unknown`` on the usage counters."""

# --- OpenAI refinements (only when the provider is ``openai``) -------------------------

OPENAI_API_TYPE: Final = "openai.api.type"
"""``chat_completions`` or ``responses``."""
OPENAI_REQUEST_SERVICE_TIER: Final = "openai.request.service_tier"
"""Service tier requested."""
OPENAI_RESPONSE_SERVICE_TIER: Final = "openai.response.service_tier"
"""Service tier that served the request."""
OPENAI_RESPONSE_SYSTEM_FINGERPRINT: Final = "openai.response.system_fingerprint"
"""Backend configuration fingerprint."""

# --- Cohere refinements (only when the provider is ``cohere``) -------------------------

COHERE_USAGE_RAW_INPUT_TOKENS: Final = "cohere.usage.raw.input_tokens"
"""Input tokens the model processed (``usage.tokens``); the usage attributes hold the billed units."""
COHERE_USAGE_RAW_OUTPUT_TOKENS: Final = "cohere.usage.raw.output_tokens"
"""Output tokens the model produced (``usage.tokens``); the usage attributes hold the billed units."""
COHERE_USAGE_SEARCH_UNITS: Final = "cohere.usage.search_units"
"""Billed search units of a rerank call (``meta.billed_units.search_units``)."""

# --- events ---------------------------------------------------------------------------

EVENT_INFERENCE_OPERATION_DETAILS: Final = "gen_ai.client.inference.operation.details"
"""Log record carrying a call's attributes and its content in structured form."""


class Operation(str, Enum):
    """Well-known values of ``gen_ai.operation.name``."""

    CHAT = "chat"
    TEXT_COMPLETION = "text_completion"
    GENERATE_CONTENT = "generate_content"
    EMBEDDINGS = "embeddings"
    RETRIEVAL = "retrieval"
    EXECUTE_TOOL = "execute_tool"
    INVOKE_AGENT = "invoke_agent"
    INVOKE_WORKFLOW = "invoke_workflow"
    FETCH_RESPONSE = "fetch_response"
    RERANK = "rerank"  # Cohere ``rerank``: not in the conventions' well-known list


class Provider(str, Enum):
    """Well-known values of ``gen_ai.provider.name`` (any other string is allowed)."""

    OPENAI = "openai"
    ANTHROPIC = "anthropic"
    AWS_BEDROCK = "aws.bedrock"
    AZURE_AI_OPENAI = "azure.ai.openai"
    AZURE_AI_INFERENCE = "azure.ai.inference"
    GCP_GEMINI = "gcp.gemini"
    GCP_VERTEX_AI = "gcp.vertex_ai"
    GCP_GEN_AI = "gcp.gen_ai"
    MISTRAL_AI = "mistral_ai"
    COHERE = "cohere"
    GROQ = "groq"
    DEEPSEEK = "deepseek"
    PERPLEXITY = "perplexity"
    X_AI = "x_ai"
    IBM_WATSONX_AI = "ibm.watsonx.ai"
    MOONSHOT_AI = "moonshot_ai"


class OutputType(str, Enum):
    """Well-known values of ``gen_ai.output.type``."""

    TEXT = "text"
    JSON = "json"
    IMAGE = "image"
    SPEECH = "speech"


class OpenAIApiType(str, Enum):
    """Values of ``openai.api.type``."""

    CHAT_COMPLETIONS = "chat_completions"
    RESPONSES = "responses"
