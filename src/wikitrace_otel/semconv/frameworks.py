"""Attributes of spans that framework integrations (LangChain, LangGraph, the OpenAI Agents SDK) add."""

from __future__ import annotations

from typing import Final

LANGCHAIN_RUN_TYPE: Final = "langchain.run.type"
"""Kind of LangChain run a span stands for: ``chain``, ``tool``, ``retriever``, ``llm``."""
LANGGRAPH_NODE: Final = "langgraph.node"
"""Name of the LangGraph node a span runs."""
LANGGRAPH_STEP: Final = "langgraph.step"
"""Superstep of the LangGraph run the node ran in (int)."""
OPENAI_AGENTS_SPAN_TYPE: Final = "openai_agents.span.type"
"""Type of the OpenAI Agents SDK span a span stands for (``handoff``, ``guardrail``...)."""
OPENAI_AGENTS_HANDOFF_FROM: Final = "openai_agents.handoff.from_agent"
"""Agent that handed the conversation off."""
OPENAI_AGENTS_HANDOFF_TO: Final = "openai_agents.handoff.to_agent"
"""Agent the conversation was handed to."""
OPENAI_AGENTS_GUARDRAIL_TRIGGERED: Final = "openai_agents.guardrail.triggered"
"""True when the guardrail's tripwire fired (bool)."""
