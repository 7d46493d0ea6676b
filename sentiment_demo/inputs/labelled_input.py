"""Reads a labelled file for the Evaluate tab (CSV, TSV or JSON lines) into columns of strings.

Size, encoding and row limits are checked with the Batch tab's rules (batch_input); every problem is an
InputError naming the file, the line and the fix. It knows nothing about models or Gradio.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sentiment_demo.errors import InputError
from sentiment_demo.inputs.batch_input import csv_dialect, csv_header, default_column, read_upload

SUFFIXES = (".csv", ".tsv", ".jsonl")
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


def read_labelled(path: Path, max_bytes: int, max_rows: int) -> LabelledTable:
    """Read a .csv, .tsv or .jsonl upload; at most `max_rows` data rows."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(f"{path.name}: only .csv, .tsv and .jsonl files are accepted here.")
    text = read_upload(path, max_bytes)
    table = _json_lines(text, path.name) if suffix == ".jsonl" else _delimited(text, path.name)
    if not table.records:
        raise InputError(f"{path.name} has no data rows.")
    if len(table.records) > max_rows:
        raise InputError(
            f"{path.name} has {len(table.records):,} rows; the limit is {max_rows:,} per "
            "evaluation (--max-eval-rows). Evaluate a sample, or split the file."
        )
    return table


def _delimited(text: str, name: str) -> LabelledTable:
    dialect = csv_dialect(text)
    columns, has_header = csv_header(text, name, dialect)
    if not has_header:
        raise InputError(f"{name} needs a header line naming its columns (e.g. text,label).")
    reader = csv.reader(io.StringIO(text), dialect, strict=True)
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


def _json_lines(text: str, name: str) -> LabelledTable:
    records, lines = [], []
    columns: dict[str, None] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{name}, line {number}: not valid JSON ({exc.msg}).") from None
        if not isinstance(value, dict):
            raise InputError(
                f'{name}, line {number}: expected an object like {{"text": ..., "label": ...}}.'
            )
        record = {str(k): "" if v is None else str(v) for k, v in value.items()}
        columns.update(dict.fromkeys(record))
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
