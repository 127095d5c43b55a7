"""Implementation of :mod:`wikitrace_otel.decorators` (the public module and its manual).

- :mod:`.tracer`: which tracer to use, decided per call by one global read;
- :mod:`.settings`: the content-capture setting, resolved once and cached;
- :mod:`.arguments`: call arguments bound to parameter names, values made JSON-safe;
- :mod:`.spec`: what each decorator puts on its span (name, kind, attributes);
- :mod:`.call`: one traced call, from span start to its single end;
- :mod:`.wrappers`: the sync, async, generator and async-generator wrappers;
- :mod:`.scope`: the ``span()`` context manager.
"""
