"""GenAI metric names, units and bucket boundaries."""

from __future__ import annotations

from typing import Final

INFERENCE_DURATION: Final = "gen_ai.client.inference.duration"
"""Histogram (s): duration of inference calls (chat, text_completion, generate_content)."""
OPERATION_DURATION: Final = "gen_ai.client.operation.duration"
"""Histogram (s): duration of non-inference calls (embeddings, ...); legacy name for inference too."""
TIME_TO_FIRST_CHUNK: Final = "gen_ai.client.inference.time_to_first_chunk"
"""Histogram (s): time to the first streamed chunk."""
TIME_PER_OUTPUT_CHUNK: Final = "gen_ai.client.inference.time_per_output_chunk"
"""Histogram (s): one value per streamed chunk after the first."""
USAGE_INPUT_TOKENS: Final = "gen_ai.client.inference.usage.input_tokens"
"""Counter ({token}): input tokens, with ``gen_ai.token.modality``."""
USAGE_OUTPUT_TOKENS: Final = "gen_ai.client.inference.usage.output_tokens"
"""Counter ({token}): output tokens, with ``gen_ai.token.modality``."""
USAGE_CACHE_READ_INPUT_TOKENS: Final = "gen_ai.client.inference.usage.cache_read.input_tokens"
"""Counter ({token}): input tokens read from the prompt cache."""
USAGE_CACHE_WRITE_INPUT_TOKENS: Final = "gen_ai.client.inference.usage.cache_write.input_tokens"
"""Counter ({token}): input tokens written to the prompt cache."""
USAGE_REASONING_OUTPUT_TOKENS: Final = "gen_ai.client.inference.usage.reasoning.output_tokens"
"""Counter ({token}): output tokens spent on reasoning."""
OPERATION_INPUT_TOKENS: Final = "gen_ai.client.inference.operation.input_tokens"
"""Histogram ({token}): input tokens per call."""
OPERATION_OUTPUT_TOKENS: Final = "gen_ai.client.inference.operation.output_tokens"
"""Histogram ({token}): output tokens per call."""
OPERATION_COST: Final = "gen_ai.client.operation.cost"
"""Histogram ({USD}): cost per call."""
DROPPED_MEASUREMENTS: Final = "wikitrace.metrics.dropped"
"""Observable counter ({measurement}): histogram values dropped under overload."""
LEGACY_TOKEN_USAGE: Final = "gen_ai.client.token.usage"
"""Histogram ({token}) with ``gen_ai.token.type``; legacy mode only."""

UNIT_SECONDS: Final = "s"
UNIT_TOKENS: Final = "{token}"
UNIT_USD: Final = "{USD}"

DURATION_BUCKETS: Final = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92)
"""Bucket boundaries (s) of every duration histogram."""
TOKEN_BUCKETS: Final = (
    1,
    4,
    16,
    64,
    256,
    1024,
    4096,
    16384,
    65536,
    262144,
    1048576,
    4194304,
    16777216,
    67108864,
)
"""Bucket boundaries of every token histogram."""
COST_BUCKETS: Final = (0.00001, 0.0001, 0.001, 0.01, 0.1, 1.0, 10.0, 100.0)
"""Bucket boundaries (USD) of the cost histogram."""
