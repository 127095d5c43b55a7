"""Index rows held column by column, and their bulk-load file.

The decoders fill one list per column (:data:`~wikitrace_otel.query._rows.COLUMNS` order) a group
of spans at a time, mostly with C-level ``map`` calls; :meth:`Columns.write_csv` turns each column
into CSV fields at once and joins the rows without a per-character loop, which is several times
faster than ``csv.writer`` on the same rows and reads back into DuckDB as the same values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path
from typing import Any, Final

from wikitrace_otel.query._rows import COLUMNS

_REPEATED: Final = "repeated"
# The columns' DuckDB types, with the two whose values repeat row after row marked.
_TYPES: Final = tuple(_REPEATED if name in ("SourceOffset", "Batch") else kind for name, kind in COLUMNS)
_LINES_PER_WRITE: Final = 8192
_INT64_MIN: Final = -(2**63)
_INT64_MAX: Final = 2**63 - 1
# Beyond int64 (valid OTLP, e.g. a fixed64 time of 2**64 - 1, or a hand-written token count): times
# are clamped into range, other counts are dropped, so one such span cannot stop the bulk load.
_CLAMPED: Final = frozenset({"Timestamp", "Duration"})


class Columns:
    """A growing set of index rows, one Python list per column. Not thread-safe."""

    def __init__(self) -> None:
        self.data: list[list[Any]] = [[] for _column in COLUMNS]
        self.source_bytes = 0
        """Bytes of source data the rows came from (what bounds a part besides its row count)."""

    def __len__(self) -> int:
        return len(self.data[0])

    def add_group(
        self, head: Sequence[list[Any]], genai: Sequence[list[Any]], source: tuple[str, int], batch: int
    ) -> None:
        """Append one group of spans.

        Args:
            head: the 14 columns Timestamp ... StatusMessage, one value per span each.
            genai: the 15 columns OperationName ... Content (``_genai_block.genai_block``).
            source: where the spans are stored (file, offset), the same for the whole group.
            batch: the refresh number.
        """
        count = len(head[0])
        data = self.data
        for column, values in zip(data, (*head, *genai), strict=False):  # the last 3 below
            column.extend(values)
        data[29].extend([source[0]] * count)
        data[30].extend([source[1]] * count)
        data[31].extend([batch] * count)

    def truncate(self, size: int) -> None:
        """Drop the rows from ``size`` on (a group that failed half way)."""
        for column in self.data:
            del column[size:]

    def clear(self) -> None:
        """Drop every row."""
        self.truncate(0)
        self.source_bytes = 0

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """The rows as tuples, in order."""
        return zip(*self.data, strict=True)

    def write_csv(self, path: Path) -> None:
        """Write the rows as the CSV that ``_parts`` bulk-loads (CRLF rows, an empty field is NULL).

        The same values as ``csv.writer`` would give DuckDB: None as an empty field, other
        non-strings through ``str()`` (floats print as ``repr``), a field with a comma, quote,
        CR or LF quoted with its quotes doubled, and a lone surrogate written as ``?``.
        """
        fields = [
            _csv_field_column(_int64_column(values, name) if kind == "BIGINT" else values, kind)
            for values, kind, (name, _) in zip(self.data, _TYPES, COLUMNS, strict=True)
        ]
        lines = map(",".join, zip(*fields, strict=True))
        # errors="replace": a lone surrogate (valid in JSON text, not in UTF-8) becomes "?".
        with open(path, "w", newline="", encoding="utf-8", errors="replace") as stream:
            while chunk := list(islice(lines, _LINES_PER_WRITE)):
                chunk.append("")
                stream.write("\r\n".join(chunk))


def _int64_column(values: list[Any], name: str) -> list[Any]:
    """``values`` with every integer inside int64: clamped for the time columns, None for the others."""
    numbers = [value for value in values if value is not None]
    if not numbers or (min(numbers) >= _INT64_MIN and max(numbers) <= _INT64_MAX):
        return values
    if name in _CLAMPED:
        return [None if value is None else min(max(value, _INT64_MIN), _INT64_MAX) for value in values]
    return [value if value is None or _INT64_MIN <= value <= _INT64_MAX else None for value in values]


def _csv_field_column(values: list[Any], kind: str) -> list[str]:
    if values.count(None) == len(values):
        return [""] * len(values)
    if kind == "VARCHAR":
        return _csv_text_column(values)
    if kind == _REPEATED:  # the same few values many times (a record's offset, the batch): convert each once
        texts = {value: str(value) for value in set(values)}
        texts[None] = ""
        return list(map(texts.__getitem__, values))
    texts = list(map(str, values))
    return list(map(_NUMBER_TEXT, texts, texts)) if "None" in texts else texts  # no number prints as "None"


def _csv_text_column(values: list[Any]) -> list[str]:
    try:
        joined = "".join(values)  # when every value is a str
    except TypeError:
        try:
            values = list(map(_TEXT_OF_NONE, values, values))  # None to "", any str as it is
            joined = "".join(values)
        except TypeError:  # an unhashable or non-str value (hostile JSON): as csv.writer prints it
            values = [_text_field(value) for value in values]
            joined = "".join(values)
    if '"' in joined or "," in joined or "\n" in joined or "\r" in joined:
        return [_quoted(value) for value in values]
    return values


_TEXT_OF_NONE: Final = {None: ""}.get
_NUMBER_TEXT: Final = {"None": ""}.get


def _text_field(value: Any) -> str:
    if value.__class__ is str:
        return value  # type: ignore[no-any-return]
    return "" if value is None else str(value)


def _quoted(text: str) -> str:
    if not text:
        return text  # stays an empty field: NULL, as before
    return '"' + text.replace('"', '""') + '"'
