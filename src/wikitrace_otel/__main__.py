"""``python -m wikitrace_otel`` runs the ``wikitrace-otel`` command."""

from __future__ import annotations

from wikitrace_otel.cli import main

raise SystemExit(main())
