"""Parts of ``bench/pipeline.py``: one module per measured pipeline, and the report.

- :mod:`pipeline.store`: spans/s through ``wikitrace_otel.install()`` into the local store.
- :mod:`pipeline.ingest`: collector ingest over OTLP/HTTP and OTLP/gRPC.
- :mod:`pipeline.querying`: query latency against the number of stored spans.
- :mod:`pipeline.report`: machine facts, scaling verdicts, goals and tables.

Each measured step runs in a fresh process, so a peak RSS is that step's own.
"""
