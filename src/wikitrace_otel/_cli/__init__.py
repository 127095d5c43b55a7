"""Subcommands of the ``wikitrace-otel`` command, one module each.

Each module listed in :data:`COMMANDS` defines ``add_parser(commands)``, which adds its
subparser to the ``add_subparsers()`` object and returns it, and ``run(args) -> int``, which
runs the command and returns the exit status. Modules are imported only when the command line
is parsed, so a command's optional dependencies cost nothing to the others.
"""

from __future__ import annotations

# Order is the order of ``wikitrace-otel --help``.
COMMANDS: tuple[str, ...] = ("demo", "collector", "traces", "show", "stats", "tail", "export")
