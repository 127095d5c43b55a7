"""Side-by-side overhead of wikitrace-otel and other LLM instrumentations; run by ``bench/run.py``."""
