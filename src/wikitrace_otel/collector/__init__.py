"""The bundled OTLP receiver (``wikitrace-otel collector``). Not implemented yet."""
