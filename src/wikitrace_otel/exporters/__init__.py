"""Span exporters of wikitrace-otel: the local span store.

``FileSpanExporter`` is the distribution's default destination. It appends spans to OTLP JSON
Lines files, the format of the OpenTelemetry "OTLP File Exporter" specification, so the
Collector's ``otlpjsonfile`` receiver can replay them and :func:`wikitrace_otel.store.read_spans`
can read them back::

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from wikitrace_otel.exporters import FileSpanExporter

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(FileSpanExporter()))  # ./.wikitrace/

Where
    ``FileSpanExporter(directory)``, else ``$WIKITRACE_DIR``, else ``./.wikitrace`` (relative to
    the working directory at construction); ``resolve_directory()`` applies the same rule. The
    directory is created with its parents; a path taken by a file raises ``NotADirectoryError``,
    an unwritable one ``PermissionError``.

Files
    ``spans-<UTC time>-<pid>-<sequence>.jsonl``. Each process writes its own files, so several
    processes can share one store; sorted by name, files come in creation order. A file that
    would grow past ``max_file_bytes`` (64 MiB) is closed and the next batch starts a new one.
    A forked child starts its own file. Nothing is ever deleted: prune old files yourself.

Lines
    Each line is one ``TracesData`` object (``{"resourceSpans": [...]}``) in OTLP/JSON: ids in
    lowercase hex, 64-bit integers and timestamps as decimal strings, enums as integers, spans
    grouped by resource and instrumentation scope. One export batch is one line, unless it would
    be longer than ``max_line_bytes`` (1,000,000): then it is split into several lines, each a
    complete ``TracesData``. One span longer than that gets a line of its own; raise the
    Collector receiver's ``max_log_size`` (1 MiB by default) to replay such lines. Attribute
    values are written as the SDK holds them (its span limits already bound them); an integer
    beyond int64 becomes a ``stringValue``. Replaying with the Collector needs
    ``start_at: beginning`` on the ``otlpjsonfile`` receiver (its default reads only new lines).

Crash safety
    Every line goes to the file in one ``os.write`` on a descriptor opened with ``O_APPEND``,
    before ``export`` returns (there is no buffer to flush; no ``fsync`` either, so a power loss
    can still lose the last seconds). A process killed in the middle of a write leaves at most
    one partial last line, which readers skip. On Linux local file systems (ext4, xfs, btrfs,
    tmpfs) the kernel serialises ``write`` calls on one file, so lines appended by several
    processes to the same file never interleave, whatever their length; POSIX promises this only
    for pipes (``PIPE_BUF``, 4 KiB), and network file systems (NFS, SMB) and Windows not at all.
    The exporter does not depend on it: no two processes write the same file.

Failures
    ``export`` never raises. An I/O error (disk full, directory removed or made read-only) makes
    it return ``FAILURE``, is logged once per kind of error, and counts in ``failed_exports`` and
    ``failed_spans``; the next export tries a new file (re-creating a removed directory). A span
    that cannot be encoded at all is left out and logged once. ``exported_spans`` counts what was
    written. ``shutdown()`` is idempotent, ``force_flush()`` returns True.
"""

from __future__ import annotations

from wikitrace_otel.exporters.file import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_LINE_BYTES,
    FileSpanExporter,
    resolve_directory,
)

__all__ = ["DEFAULT_MAX_FILE_BYTES", "DEFAULT_MAX_LINE_BYTES", "FileSpanExporter", "resolve_directory"]
