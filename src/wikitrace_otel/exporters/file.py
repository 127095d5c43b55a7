"""The local span store's writer: OTLP JSON Lines files in one directory.

See :mod:`wikitrace_otel.exporters` for the manual.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import logging
import os
import threading
import weakref
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Final

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from wikitrace_otel import environment_variables as env
from wikitrace_otel._genai.errors import report_internal_error
from wikitrace_otel.exporters._otlp_json import TracesDataEncoder

_logger = logging.getLogger(__name__)

DEFAULT_DIRECTORY: Final = ".wikitrace"
"""The store directory, relative to the working directory, when neither an argument nor
``$WIKITRACE_DIR`` names one."""
DEFAULT_MAX_FILE_BYTES: Final = 64 * 1024 * 1024
"""A file that would grow past this size is closed and a new one started."""
DEFAULT_MAX_LINE_BYTES: Final = 1_000_000
"""Longest line (one ``os.write``) before a batch is split. The Collector's ``otlpjsonfile``
receiver reads lines of up to 1 MiB by default (its ``max_log_size``)."""

_OPEN_FLAGS: Final = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
_NAME_ATTEMPTS: Final = 100
# One sequence per process, shared by every exporter in it, so two exporters writing to the same
# directory never pick the same name; the pid in the name separates processes.
_sequence = itertools.count(1)


def resolve_directory(directory: str | os.PathLike[str] | None = None) -> Path:
    """The store directory: ``directory``, else ``$WIKITRACE_DIR``, else ``./.wikitrace``, made absolute."""
    chosen = directory if directory is not None else (os.environ.get(env.WIKITRACE_DIR) or DEFAULT_DIRECTORY)
    return Path(os.path.abspath(os.path.expanduser(os.fspath(chosen))))


def _prepare_directory(path: Path) -> None:
    """Create ``path`` (and its parents) if missing and check that spans can be written there.

    Raises:
        NotADirectoryError: ``path`` or one of its parents is a file.
        PermissionError: the directory cannot be created or written to.
        OSError: any other reason the directory cannot be created.
    """
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError as error:
        raise NotADirectoryError(errno.ENOTDIR, f"span store {path} exists and is not a directory") from error
    except OSError as error:
        raise type(error)(error.errno, f"cannot create span store directory {path}: {error.strerror}") from error
    if not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"span store {path} is not a directory")
    if not os.access(path, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, f"span store directory {path} is not writable")


def _new_file_name(pid: int) -> str:
    """``spans-<UTC time>-<pid>-<sequence>.jsonl``: sorts by creation time, unique per process."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"spans-{stamp}-{pid}-{next(_sequence):06d}.jsonl"


def _after_fork(reference: weakref.ref[FileSpanExporter]) -> None:
    exporter = reference()
    if exporter is not None:
        exporter._after_fork()


class FileSpanExporter(SpanExporter):
    """Writes spans to OTLP JSON Lines files in a local directory (the span store).

    Args:
        directory: where the files go. Default: ``$WIKITRACE_DIR``, else ``./.wikitrace``.
            Created with its parents if missing.
        max_file_bytes: start a new file instead of letting the current one grow past this.
        max_line_bytes: split a batch into several lines rather than write a longer one.

    Raises:
        ValueError: a size is not a positive integer.
        NotADirectoryError: the directory path is taken by a file.
        PermissionError: the directory cannot be created or is not writable.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_line_bytes: int = DEFAULT_MAX_LINE_BYTES,
    ) -> None:
        for name, value in (("max_file_bytes", max_file_bytes), ("max_line_bytes", max_line_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a positive number of bytes, got {value!r}")
        self._directory = resolve_directory(directory)
        _prepare_directory(self._directory)
        self._max_file_bytes = max_file_bytes
        self._max_line_bytes = max_line_bytes
        self._encoder = TracesDataEncoder()
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._path: Path | None = None
        self._size = 0
        self._pid = os.getpid()
        self._shut_down = False
        self._warned: set[str] = set()
        self._exported_spans = 0
        self._failed_spans = 0
        self._failed_exports = 0
        if hasattr(os, "register_at_fork"):  # a weak reference: the hook must not keep us alive
            os.register_at_fork(after_in_child=functools.partial(_after_fork, weakref.ref(self)))

    @property
    def directory(self) -> Path:
        """The store directory (absolute)."""
        return self._directory

    @property
    def current_file(self) -> Path | None:
        """The file being appended to, or None before the first export and after an error."""
        return self._path

    @property
    def exported_spans(self) -> int:
        """Spans written so far."""
        return self._exported_spans

    @property
    def failed_spans(self) -> int:
        """Spans that could not be encoded or written."""
        return self._failed_spans

    @property
    def failed_exports(self) -> int:
        """``export`` calls that returned FAILURE (shutdown aside)."""
        return self._failed_exports

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Append the batch as whole lines; never raises.

        Returns:
            SUCCESS when every span was written; FAILURE otherwise (the error is logged once
            per kind, the spans are counted in ``failed_spans``).
        """
        if self._shut_down:
            self._warn_once("shutdown", "export after shutdown: spans dropped")
            return SpanExportResult.FAILURE
        if not spans:
            return SpanExportResult.SUCCESS
        written = 0
        try:
            lines, _unencodable = self._encoder.encode(spans, self._max_line_bytes)
            with self._lock:
                # Checked again under the lock: a shutdown racing this export must not reopen a file.
                written = 0 if self._shut_down else self._write_lines(lines)
        except Exception as error:  # noqa: BLE001 - a bug of ours; OSErrors are handled in _write_lines
            report_internal_error(error)
        return self._count(written, len(spans) - written)  # the unencodable spans are in the difference

    def _count(self, written: int, failed: int) -> SpanExportResult:
        with self._lock:
            self._exported_spans += written
            self._failed_spans += failed
            if failed:
                self._failed_exports += 1
        return SpanExportResult.FAILURE if failed else SpanExportResult.SUCCESS

    def _write_lines(self, lines: list[tuple[bytes, int]]) -> int:
        written = 0
        for line, count in lines:
            try:
                self._append(line)
            except OSError as error:
                self._close()  # the next export opens a fresh file (the directory may be back)
                self._warn_once(f"write:{error.errno}", f"cannot write to span store {self._directory}: {error}")
                break
            written += count
        return written

    def _append(self, line: bytes) -> None:
        fd = self._file_for(len(line))
        done = os.write(fd, line)
        self._size += done
        if done != len(line):
            # Only an error (disk full, file size limit) cuts a regular-file write short. End the
            # fragment so the next line starts clean; readers skip the broken one.
            os.write(fd, b"\n")
            self._size += 1
            raise OSError(errno.EIO, f"short write to {self._path}: {done} of {len(line)} bytes")

    def _file_for(self, length: int) -> int:
        if self._pid != os.getpid():  # forked without the at-fork hook: the file is the parent's
            self._after_fork()
        if self._fd is not None and (
            (self._size and self._size + length > self._max_file_bytes) or os.fstat(self._fd).st_nlink == 0
        ):
            # Full, or deleted under us (someone cleared the store): appending to an unlinked
            # file would lose every span silently.
            self._close()
        if self._fd is None:
            self._fd = self._open_new()
        return self._fd

    def _open_new(self) -> int:
        recreated = False
        for _ in range(_NAME_ATTEMPTS):
            path = self._directory / _new_file_name(self._pid)
            try:
                fd = os.open(path, _OPEN_FLAGS, 0o644)
            except FileExistsError:
                continue
            except FileNotFoundError:
                if recreated:
                    raise
                _prepare_directory(self._directory)  # removed while we ran: make it again, once
                recreated = True
                continue
            self._path, self._size = path, 0
            return fd
        raise FileExistsError(errno.EEXIST, f"no free file name in {self._directory}")

    def _close(self) -> None:
        fd, self._fd, self._path = self._fd, None, None
        if fd is not None:
            with contextlib.suppress(OSError):  # nothing to save: the lines were written or reported
                os.close(fd)

    def _after_fork(self) -> None:
        # The child gets its own file (its pid is in the name) and a fresh lock: another thread
        # of the parent may have held the old one at fork time.
        self._lock = threading.Lock()
        self._close()
        self._pid = os.getpid()

    def _warn_once(self, kind: str, message: str) -> None:
        # Once per kind of failure and exporter: a full disk must not flood the log once per batch.
        if kind not in self._warned:
            self._warned.add(kind)
            _logger.warning("wikitrace span store: %s", message)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing to flush: every export reached the operating system before returning."""
        return True

    def shutdown(self) -> None:
        """Close the current file. Idempotent; later exports return FAILURE."""
        with self._lock:
            self._shut_down = True
            self._close()
