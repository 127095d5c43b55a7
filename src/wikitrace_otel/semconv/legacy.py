"""Older GenAI attribute names other instrumentations still emit; read, never written.

OpenLLMetry and older OpenTelemetry releases report usage under these names; the cost
processor reads them so those spans are priced too.
"""

from __future__ import annotations

from typing import Final

PROMPT_TOKENS: Final = "gen_ai.usage.prompt_tokens"
"""Old name of ``gen_ai.usage.input_tokens``."""
COMPLETION_TOKENS: Final = "gen_ai.usage.completion_tokens"
"""Old name of ``gen_ai.usage.output_tokens``."""
CACHE_READ_INPUT_TOKENS: Final = "gen_ai.usage.cache_read_input_tokens"
"""Flat spelling of ``gen_ai.usage.cache_read.input_tokens`` (OpenLLMetry)."""
CACHE_CREATION_INPUT_TOKENS: Final = "gen_ai.usage.cache_creation_input_tokens"
"""Flat spelling of ``gen_ai.usage.cache_write.input_tokens`` (OpenLLMetry)."""
