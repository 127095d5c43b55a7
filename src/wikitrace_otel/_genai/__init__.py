"""Shared machinery of every GenAI instrumentor: settings, spans, metrics, content, streams."""
