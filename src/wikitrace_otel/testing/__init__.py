"""Test utilities shipped with wikitrace-otel.

- :mod:`wikitrace_otel.testing.fake_openai`: a fake OpenAI HTTP server on 127.0.0.1 that the
  real ``openai`` SDK talks to (used by the project's tests and by ``wikitrace-otel demo``;
  usable in your own tests of instrumented code).
"""
