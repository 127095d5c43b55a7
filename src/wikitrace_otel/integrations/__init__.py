"""Integrations with LLM frameworks: they trace the framework's own steps (chains, graph nodes,
agents, tools, retrievers) and leave each model call to the provider instrumentor that traces
it, emitting an inference span of their own only for calls no provider instrumentor saw
(see :func:`wikitrace_otel.model_call`).

- :mod:`wikitrace_otel.integrations.langchain`: LangChain and LangGraph.
- :mod:`wikitrace_otel.integrations.openai_agents`: the OpenAI Agents SDK.
"""
