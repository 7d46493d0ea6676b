"""A user's own tests: a .csv, .tsv or .jsonl file of texts, what each should get, and a capability.

Columns: `text`; `expected`, one of positive, negative, neutral, "not negative", "not positive"
(a minimum-functionality test), "same as ID" (invariance: the same label as row ID's text),
"more positive than ID" or "more negative than ID" (directional); `capability` (optional, default
"your tests"); `id` (optional, default the row's line number). Read with the Evaluate tab's reader, so
its size and row limits apply. Every problem is an InputError naming the line.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from sentiment_demo.behaviour.suite import EXPECTATIONS, Suite, TestCase
from sentiment_demo.errors import InputError
from sentiment_demo.evaluation.label_mapping import SYNONYMS
from sentiment_demo.inputs.labelled_input import read_labelled

DEFAULT_CAPABILITY = "your tests"
EXPECTED_COLUMNS = ("expected", "expect", "label", "sentiment")
RELATION = re.compile(r"^(same as|more positive than|more negative than)\s+(.+)$", re.IGNORECASE)
HELP = (
    "positive, negative, neutral, 'not negative', 'not positive', 'same as ID', "
    "'more positive than ID' or 'more negative than ID'"
)


def read_user_tests(path: Path, max_bytes: int, max_rows: int) -> list[TestCase]:
    """The tests in a user's file, in file order.

    Raises:
        InputError: the file cannot be read, lacks a text or expected column, has an expected value
            it cannot read, or refers to an id that no row has.
    """
    table = read_labelled(path, max_bytes, max_rows)
    lowered = {column.strip().lower(): column for column in table.columns}
    text_column = lowered.get("text")
    expected_column = next((lowered[c] for c in EXPECTED_COLUMNS if c in lowered), None)
    if text_column is None or expected_column is None:
        raise InputError(
            f"{table.name} needs a 'text' column and an 'expected' column (and may have "
            f"'capability' and 'id'); its columns are {', '.join(map(repr, table.columns))}."
        )
    capability_column = lowered.get("capability")
    id_column = lowered.get("id")
    ids: dict[str, str] = {}
    rows = []
    for record, line in zip(table.records, table.lines, strict=True):
        row_id = (record.get(id_column, "") if id_column else "").strip() or str(line)
        if row_id in ids:
            raise InputError(f"{table.name}, line {line}: id {row_id!r} is used twice.")
        text = record[text_column].strip()
        if not text:
            raise InputError(f"{table.name}, line {line}: the text is empty.")
        ids[row_id] = text
        capability = (record.get(capability_column, "") if capability_column else "").strip()
        rows.append((line, row_id, text, record[expected_column].strip(), capability))
    cases = []
    for line, row_id, text, expected, capability in rows:
        case = _case(table.name, line, row_id, text, expected, ids)
        cases.append(replace(case, capability=capability or DEFAULT_CAPABILITY))
    return cases


def _case(
    name: str, line: int, row_id: str, text: str, expected: str, ids: dict[str, str]
) -> TestCase:
    key = expected.lower()
    key = SYNONYMS.get(key, key)
    case_id = f"user-{row_id}"
    if key in EXPECTATIONS:
        return TestCase(case_id, "", "mft", f"line {line}", (text,), expect=key)
    relation = RELATION.match(expected.strip())
    if relation is None:
        raise InputError(f"{name}, line {line}: expected {expected!r} is not one of {HELP}.")
    kind, other = relation.group(1).lower(), relation.group(2).strip()
    if other not in ids:
        raise InputError(f"{name}, line {line}: {expected!r} names id {other!r}, which no row has.")
    if other == row_id:
        raise InputError(f"{name}, line {line}: a row cannot be compared with itself.")
    texts = (ids[other], text)
    if kind == "same as":
        return TestCase(case_id, "", "inv", f"line {line}, same as {other}", texts)
    direction = 1 if kind == "more positive than" else -1
    return TestCase(case_id, "", "dir", f"line {line}, {kind} {other}", texts, direction=direction)


def with_user_tests(suite: Suite | None, cases: list[TestCase], seed: int, half: str) -> Suite:
    """The built-in suite (or none) followed by a user's cases."""
    if suite is None:
        return Suite(tuple(cases), (), seed, half)
    return Suite(suite.cases + tuple(cases), suite.capabilities, suite.seed, suite.half)
