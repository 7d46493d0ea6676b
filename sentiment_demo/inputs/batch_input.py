"""Turns what a user gives the Batch tab (pasted lines, a .txt or .csv upload) into a list of texts.

It enforces the row, size, column and header limits and rejects undecodable or malformed files with a
message that says what is wrong and where. Every step is linear in the file's size; the tabs still run
these readers in a child process with a time limit (parse_worker). It knows nothing about models or
Gradio.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sentiment_demo.config import MAX_COLUMNS, MAX_HEADER_KB
from sentiment_demo.errors import InputError

if TYPE_CHECKING:
    from _csv import Reader  # the reader's type exists only in the type stubs

# Words in a column name that say it holds the texts, most telling first ("review_text" beats "review").
PREFERRED_COLUMNS = (
    "text",
    "review",
    "comment",
    "tweet",
    "body",
    "content",
    "message",
    "sentence",
)
# Data rows read to judge each column (the choice and the warning): bounded, so linear in nothing.
SAMPLE_ROWS = 200
PREVIEW_ROWS = 5
MIN_JUDGED = 4


@dataclass(frozen=True)
class BatchInput:
    """Texts to classify and where each came from.

    Attributes:
        texts: the texts, in input order (blank CSV cells included, so that they are reported).
        rows: for each text, its line number (pasted text, .txt) or data-row number (.csv).
        source: a short description for the status line.
        skipped_blank_lines: blank lines of pasted text or .txt files, which separate texts.
        other_columns: a .csv file's other columns, {name: one value per text}, kept for the
            results table and the download.
        column_warning: why the text column may be the wrong one (ids, numbers, categories), or "".
    """

    texts: list[str]
    rows: list[int]
    source: str
    skipped_blank_lines: int = 0
    other_columns: dict[str, list[str]] = field(default_factory=dict)
    column_warning: str = ""


LINE_BREAK = re.compile(r"\r\n|\r|\n")
DELIMITERS = ",;\t|"


def texts_from_lines(raw: str, max_rows: int, source: str = "pasted text") -> BatchInput:
    """One text per non-blank line."""
    texts, rows, blank = [], [], 0
    # Only \n, \r\n and \r end a line: str.splitlines() also splits on U+2028, NEL and form feeds,
    # which would cut one of the user's lines in two and shift every row number after it.
    lines = LINE_BREAK.split(raw.removesuffix("\n").removesuffix("\r")) if raw else []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            texts.append(line.strip())
            rows.append(number)
        else:
            blank += 1
    if not texts:
        raise InputError(f"The {source} has no text: put one text per line.")
    _check_rows(len(texts), max_rows, source)
    return BatchInput(texts, rows, source, blank)


def read_upload(path: Path, max_bytes: int, kinds: str = "a .txt or .csv file") -> str:
    """The text of an uploaded file, checked for size and UTF-8 encoding.

    `kinds` names the files the calling tab accepts, for the message about a binary file.
    """
    if not path.is_file():
        raise InputError(
            f"{path.name} is no longer on the server: uploads are kept for a limited time "
            "(--file-lifetime). Upload it again."
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise InputError(
            f"{path.name} is {size / 1024:,.0f} KiB; the limit is {max_bytes / 1024:,.0f} KiB. "
            "Split it into smaller files."
        )
    data = path.read_bytes()
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Spreadsheets save "Unicode text" as UTF-16 with a byte-order mark.
        try:
            return _text_only(data.decode("utf-16"), path.name, kinds)
        except UnicodeDecodeError:
            raise InputError(
                f"{path.name} starts like UTF-16 text but cannot be decoded as UTF-16. Save the "
                "file as UTF-8 and upload it again."
            ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path.name} is not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} cannot be "
            "decoded. Save the file as UTF-8 and upload it again."
        ) from None
    return _text_only(text, path.name, kinds)


def _text_only(text: str, name: str, kinds: str) -> str:
    if "\x00" in text:
        raise InputError(f"{name} looks like a binary file, not text. Upload {kinds}.")
    return text


@dataclass(frozen=True)
class CsvFormat:
    """How a delimited file is written: its separator. Quotes are always RFC 4180's double quotes."""

    delimiter: str = ","

    def reader(self, stream: io.StringIO) -> Reader:
        """A strict reader over the whole text: quoted line breaks stay inside their field."""
        # skipinitialspace: `a, "b, c"` (a space after the separator) is two fields, as spreadsheets
        # and Python's csv.Sniffer read it.
        return csv.reader(stream, delimiter=self.delimiter, skipinitialspace=True, strict=True)


SNIFF_RECORDS = 20


def csv_format(text: str, preferred: str = DELIMITERS) -> CsvFormat:
    """The file's separator (comma, semicolon, tab or bar), told from its first whole records.

    Each candidate reads the first SNIFF_RECORDS records with the csv module's C parser, so quoted
    line breaks never cut a record and the cost is linear in the text read. The winner is the one
    whose header splits into most fields while the records below agree with it: the most records
    with the header's field count, then the most fields, then the order of `preferred`. With no
    candidate that splits the header, the file has one column, read as a comma-separated file.
    """
    best: tuple[float, int, int] | None = None
    chosen = ","
    for rank, delimiter in enumerate(preferred):
        counts = _field_counts(text, delimiter)
        if not counts or counts[0] < 2:
            continue
        agreeing = sum(count == counts[0] for count in counts) / len(counts)
        score = (agreeing, counts[0], -rank)
        if best is None or score > best:
            best, chosen = score, delimiter
    return CsvFormat(chosen)


def _field_counts(text: str, delimiter: str) -> list[int]:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter, skipinitialspace=True)
    counts: list[int] = []
    try:
        for record in reader:
            if record:
                counts.append(len(record))
                if len(counts) >= SNIFF_RECORDS:
                    break
    except csv.Error:  # a field over the csv module's size limit: judge on what was read
        pass
    return counts


def looks_like_text(cell: str) -> bool:
    """True for a cell that reads as a sentence rather than a column name."""
    return len(cell) > 40 or len(cell.split()) >= 6


def csv_header(
    text: str,
    name: str = "the file",
    form: CsvFormat | None = None,
    *,
    max_columns: int = MAX_COLUMNS,
    max_header_kb: int = MAX_HEADER_KB,
) -> tuple[list[str], bool]:
    """The column names of a CSV text, and whether its first line is a header at all.

    A first line whose every cell reads as a sentence is taken as data: its columns are then named
    "column 1", "column 2", ..., and no line is lost. Column names must be unique, at most
    `max_columns` of them in a first line of at most `max_header_kb` KiB.
    """
    stream = io.StringIO(text)
    reader = (form or csv_format(text)).reader(stream)
    try:
        first: list[str] = next(reader, [])
    except csv.Error as exc:
        raise InputError(f"{name} is not valid CSV on line 1: {exc}.") from None
    if len(first) > max_columns:
        raise InputError(
            f"{name} has {len(first):,} columns; the limit is {max_columns:,} (--max-columns). "
            "Keep the columns you need and upload it again."
        )
    header_bytes = len(text[: stream.tell()].encode())
    if header_bytes > max_header_kb * 1024:
        raise InputError(
            f"{name}: its first line (the header) is {header_bytes / 1024:,.0f} KiB; the limit is "
            f"{max_header_kb:,} KiB (--max-header-kb). Keep the columns you need, with short names."
        )
    cells = [cell.strip() for cell in first]
    if not any(cells):
        raise InputError(f"{name} has no header row: the first line must name the columns.")
    # Headers are names ("id", "review", "Timestamp"), though a survey's may be whole questions: the
    # first line is taken as data only when every cell of it reads as a sentence.
    if all(looks_like_text(cell) for cell in cells if cell):
        return [f"column {i}" for i in range(1, len(cells) + 1)], False
    repeated = sorted(cell for cell, count in Counter(cells).items() if count > 1)
    if repeated:
        raise InputError(
            f"{name} has more than one column named {', '.join(map(repr, repeated))}: rename them "
            "so that the text column can be chosen without doubt."
        )
    return cells, True


def csv_columns(
    text: str,
    name: str = "the file",
    *,
    max_columns: int = MAX_COLUMNS,
    max_header_kb: int = MAX_HEADER_KB,
) -> list[str]:
    """The column names of a CSV text (see csv_header)."""
    return csv_header(text, name, max_columns=max_columns, max_header_kb=max_header_kb)[0]


def columns_of_file(
    path: Path,
    max_bytes: int,
    *,
    max_columns: int = MAX_COLUMNS,
    max_header_kb: int = MAX_HEADER_KB,
) -> list[str]:
    """The column names of an uploaded .csv file (for the column choice shown after an upload)."""
    return csv_columns(
        read_upload(path, max_bytes),
        path.name,
        max_columns=max_columns,
        max_header_kb=max_header_kb,
    )


def column_kind(values: list[str]) -> str | None:
    """What a column's values look like when they are not texts: "ids", "numbers" or "categories".

    None when they read like texts. Numbers: every value parses as a number. Ids: short values
    (under three words on average) that are all different. Categories: short values that repeat
    (at most half of them distinct). Blank cells are ignored.
    """
    filled = [value.strip() for value in values if value.strip()]
    if not filled:
        return None
    if all(_is_number(value) for value in filled):
        return "numbers"
    # A few short values could be short texts as well as ids: judge from MIN_JUDGED values on.
    if len(filled) < MIN_JUDGED or sum(len(v.split()) for v in filled) / len(filled) >= 3:
        return None
    distinct = len(set(filled))
    if distinct == len(filled):
        return "ids"
    if distinct <= len(filled) // 2:
        return "categories"
    return None


def _is_number(value: str) -> bool:
    try:
        float(value.replace(",", ""))
    except ValueError:
        return False
    return True


def column_warning(column: str, values: list[str]) -> str:
    """A warning when the chosen text column looks like ids, numbers or categories; else ""."""
    kind = column_kind(values)
    if kind is None:
        return ""
    filled = [value.strip() for value in values if value.strip()]
    examples = ", ".join(repr(value) for value in list(dict.fromkeys(filled))[:3])
    return (
        f"Column {column!r} looks like {kind} rather than texts ({len(set(filled)):,} distinct "
        f"short values in the first {len(values):,} rows, e.g. {examples}): is it the text column?"
    )


def default_column(columns: list[str], samples: dict[str, list[str]] | None = None) -> str:
    """The column that reads most like text.

    With sample values (`samples`, {column: its first values}), columns whose values read as texts
    come first, then columns whose name contains text, review, comment, tweet, body, content,
    message or sentence (in that order), then the longest values on average. Without samples, the
    first column whose name contains one of those words, else the first column.
    """
    samples = samples or {}

    def name_rank(column: str) -> int:
        lowered = column.lower()
        ranks = [rank for rank, word in enumerate(PREFERRED_COLUMNS) if word in lowered]
        return min(ranks, default=len(PREFERRED_COLUMNS))

    def average_length(column: str) -> float:
        values = [value for value in samples.get(column, []) if value.strip()]
        return sum(map(len, values)) / len(values) if values else 0.0

    def rank(column: str) -> tuple[bool, int, float]:
        text_like = column not in samples or column_kind(samples[column]) is None
        return (not text_like, name_rank(column), -average_length(column))

    return min(columns, key=lambda column: (rank(column), columns.index(column)))


@dataclass(frozen=True)
class ColumnOverview:
    """A .csv upload at a glance: its columns, the default text column, a preview and a warning."""

    columns: list[str]
    default: str
    samples: dict[str, list[str]]

    def preview(self, column: str, rows: int = PREVIEW_ROWS) -> list[str]:
        """The first values of a column."""
        return self.samples.get(column, [])[:rows]

    def warning(self, column: str) -> str:
        """Why `column` may not be the text column, or ""."""
        return column_warning(column, self.samples.get(column, []))


def csv_overview(
    text: str,
    name: str = "the file",
    *,
    max_columns: int = MAX_COLUMNS,
    max_header_kb: int = MAX_HEADER_KB,
    sample_rows: int = SAMPLE_ROWS,
) -> ColumnOverview:
    """The columns of a CSV text with the first `sample_rows` values of each, and the default column."""
    form = csv_format(text)
    columns, has_header = csv_header(
        text, name, form, max_columns=max_columns, max_header_kb=max_header_kb
    )
    samples: dict[str, list[str]] = {column: [] for column in columns}
    reader = form.reader(io.StringIO(text))
    if has_header:
        next(reader)
    try:
        for count, record in enumerate(reader):
            if count >= sample_rows:
                break
            for column, value in zip(columns, record, strict=False):
                samples[column].append(value.strip())
    except csv.Error:  # reported with its line when the texts are read; judge on what was read
        pass
    return ColumnOverview(columns, default_column(columns, samples), samples)


def overview_of_file(
    path: Path,
    max_bytes: int,
    *,
    max_columns: int = MAX_COLUMNS,
    max_header_kb: int = MAX_HEADER_KB,
) -> ColumnOverview:
    """csv_overview of an uploaded .csv file (for the column choice and preview after an upload)."""
    return csv_overview(
        read_upload(path, max_bytes),
        path.name,
        max_columns=max_columns,
        max_header_kb=max_header_kb,
    )


def texts_from_csv(
    text: str,
    column: str | None,
    max_rows: int,
    name: str = "the file",
    *,
    max_columns: int = MAX_COLUMNS,
    max_header_kb: int = MAX_HEADER_KB,
) -> BatchInput:
    """The values of one column; every data row becomes one text, blank cells included."""
    form = csv_format(text)
    columns, has_header = csv_header(
        text, name, form, max_columns=max_columns, max_header_kb=max_header_kb
    )
    if not column:
        column = csv_overview(
            text, name, max_columns=max_columns, max_header_kb=max_header_kb
        ).default
    if column not in columns:
        raise InputError(
            f"{name} has no column {column!r}; its columns are {', '.join(map(repr, columns))}."
        )
    index = columns.index(column)
    reader = form.reader(io.StringIO(text))
    if has_header:
        next(reader)
    texts: list[str] = []
    rows: list[int] = []
    others: dict[str, list[str]] = {c: [] for c in columns if c != column}
    try:
        for number, record in enumerate(reader, start=1):
            if not record:
                continue
            if len(texts) >= max_rows:
                _check_rows(sum(1 for r in reader if r) + len(texts) + 1, max_rows, name)
            if len(record) != len(columns):
                raise InputError(
                    f"{name}, line {reader.line_num}: {len(record)} fields where the "
                    f"{'header' if has_header else 'first line'} has {len(columns)}. Quote texts "
                    "that contain the separator."
                )
            texts.append(record[index].strip())
            rows.append(number)
            for position, other in enumerate(columns):
                if other != column:
                    others[other].append(record[position])
    except csv.Error as exc:
        raise InputError(f"{name} is not valid CSV on line {reader.line_num}: {exc}.") from None
    if not texts:
        raise InputError(f"{name} has a header but no data rows.")
    source = f"{name}, column {column!r}"
    if not has_header:
        source += " (no header line: the first line was read as a text)"
    warning = column_warning(column, texts[:SAMPLE_ROWS])
    return BatchInput(texts, rows, source, other_columns=others, column_warning=warning)


def texts_from_file(
    path: Path,
    column: str | None,
    max_rows: int,
    max_bytes: int,
    *,
    max_columns: int = MAX_COLUMNS,
    max_header_kb: int = MAX_HEADER_KB,
) -> BatchInput:
    """Texts from an uploaded .txt (one per line) or .csv (one column) file."""
    suffix = path.suffix.lower()
    if suffix not in {".txt", ".csv"}:
        raise InputError(f"{path.name}: only .txt and .csv files are accepted.")
    text = read_upload(path, max_bytes)
    if suffix == ".csv":
        return texts_from_csv(
            text, column, max_rows, path.name, max_columns=max_columns, max_header_kb=max_header_kb
        )
    return texts_from_lines(text, max_rows, path.name)


def _check_rows(count: int, max_rows: int, name: str) -> None:
    if count > max_rows:
        raise InputError(
            f"{name} has {count:,} texts; the limit is {max_rows:,} per request. "
            "Split it into smaller batches."
        )
