"""Reads a labelled file for the Evaluate tab (CSV, TSV or JSON lines) into columns of strings.

Size, encoding, row, column and header limits are checked with the Batch tab's rules (batch_input); every
problem is an InputError naming the file, the line and the fix. It knows nothing about models or Gradio.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sentiment_demo.config import MAX_COLUMNS, MAX_HEADER_KB
from sentiment_demo.errors import InputError
from sentiment_demo.inputs.batch_input import (
    DELIMITERS,
    csv_format,
    csv_header,
    default_column,
    read_upload,
)

SUFFIXES = (".csv", ".tsv", ".jsonl")
KINDS = "a .csv, .tsv or .jsonl file"
LABEL_COLUMNS = ("label", "labels", "sentiment", "gold", "target", "class", "rating", "stars")


@dataclass(frozen=True)
class LabelledTable:
    """A file's records as strings, with the line each came from."""

    name: str
    columns: list[str]
    records: list[dict[str, str]]
    lines: list[int]

    def values(self, column: str) -> Counter[str]:
        """How many rows hold each value of a column (stripped)."""
        return Counter(record.get(column, "").strip() for record in self.records)


def read_labelled(
    path: Path,
    max_bytes: int,
    max_rows: int,
    *,
    max_columns: int = MAX_COLUMNS,
    max_header_kb: int = MAX_HEADER_KB,
) -> LabelledTable:
    """Read a .csv, .tsv or .jsonl upload; at most `max_rows` data rows.

    Raises:
        InputError: the file cannot be read, breaks a limit, or has fewer than two columns (an
            evaluation needs a text and a label).
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path.name}: only .csv, .tsv and .jsonl files are accepted here.")
    text = read_upload(path, max_bytes, KINDS)
    if suffix == ".jsonl":
        table = _json_lines(text, path.name, max_columns)
    else:
        # A .tsv file is tried with tabs first: a header and rows that all hold one comma would
        # otherwise split just as well on commas.
        preferred = "\t" + DELIMITERS.replace("\t", "") if suffix == ".tsv" else DELIMITERS
        table = _delimited(text, path.name, preferred, max_columns, max_header_kb)
    if not table.records:
        raise InputError(f"{path.name} has no data rows.")
    if len(table.columns) < 2:
        raise InputError(
            f"{path.name} has one column ({table.columns[0]!r}); an evaluation needs a text column "
            "and a label column (e.g. text,label). If the file has both, check its separator: "
            "comma, semicolon, tab or bar."
        )
    if len(table.records) > max_rows:
        raise InputError(
            f"{path.name} has {len(table.records):,} rows; the limit is {max_rows:,} per "
            "evaluation (--max-eval-rows). Evaluate a sample, or split the file."
        )
    return table


def _delimited(
    text: str, name: str, preferred: str, max_columns: int, max_header_kb: int
) -> LabelledTable:
    form = csv_format(text, preferred)
    columns, has_header = csv_header(
        text, name, form, max_columns=max_columns, max_header_kb=max_header_kb
    )
    if not has_header:
        raise InputError(f"{name} needs a header line naming its columns (e.g. text,label).")
    reader = form.reader(io.StringIO(text))
    next(reader)
    records, lines = [], []
    try:
        for record in reader:
            if not record:
                continue
            if len(record) != len(columns):
                raise InputError(
                    f"{name}, line {reader.line_num}: {len(record)} fields where the header has "
                    f"{len(columns)}. Quote texts that contain the separator."
                )
            records.append(dict(zip(columns, record, strict=True)))
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise InputError(f"{name} is not valid CSV on line {reader.line_num}: {exc}.") from None
    return LabelledTable(name, columns, records, lines)


def _json_lines(text: str, name: str, max_columns: int) -> LabelledTable:
    records, lines = [], []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}, line {number}: not valid JSON ({exc.msg}).") from None
        except RecursionError:
            raise InputError(
                f"{name}, line {number}: the JSON is nested too deeply to read. Each line must be "
                'one flat object like {"text": ..., "label": ...}.'
            ) from None
        if not isinstance(value, dict):
            raise InputError(
                f'{name}, line {number}: expected an object like {{"text": ..., "label": ...}}.'
            )
        record = {str(k): "" if v is None else str(v) for k, v in value.items()}
        columns.update(dict.fromkeys(record))
        if len(columns) > max_columns:
            raise InputError(
                f"{name}, line {number}: more than {max_columns:,} different keys; the limit is "
                f"{max_columns:,} columns (--max-columns). Keep the keys you need."
            )
        records.append(record)
        lines.append(number)
    return LabelledTable(name, list(columns), records, lines)


def default_label_column(columns: list[str], text_column: str) -> str:
    """A conventional label column name, else the first column that is not the text."""
    lowered = {column.lower(): column for column in columns}
    for name in LABEL_COLUMNS:
        if name in lowered and lowered[name] != text_column:
            return lowered[name]
    return next((c for c in columns if c != text_column), columns[0])


def default_text_column(columns: list[str]) -> str:
    """The Batch tab's choice: a conventional text column name, else the first column."""
    return default_column(columns)
