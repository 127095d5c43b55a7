"""One package per provider SDK, each with an OpenTelemetry ``BaseInstrumentor``.

Importing this package imports no provider SDK; each instrumentor imports its SDK only
inside ``instrument()``.
"""
