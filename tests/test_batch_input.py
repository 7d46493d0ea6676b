"""Batch-tab input: pasted lines, .txt and .csv uploads, limits and malformed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment_demo.errors import InputError
from sentiment_demo.inputs.batch_input import (
    csv_columns,
    default_column,
    texts_from_csv,
    texts_from_file,
    texts_from_lines,
)


def test_lines_skip_blanks_and_remember_line_numbers() -> None:
    batch = texts_from_lines("good film\n\n  bad film  \n", max_rows=10)
    assert batch.texts == ["good film", "bad film"]
    assert batch.rows == [1, 3]
    assert batch.skipped_blank_lines == 1


def test_lines_over_the_row_limit_are_refused_not_cut() -> None:
    with pytest.raises(InputError, match="has 4 texts; the limit is 3"):
        texts_from_lines("a\nb\nc\nd", max_rows=3)


def test_lines_with_no_text_are_refused() -> None:
    with pytest.raises(InputError, match="no text"):
        texts_from_lines(" \n\n", max_rows=3)


def test_csv_reads_the_chosen_column_with_quoted_commas() -> None:
    text = 'id,review,stars\n1,"Great, truly great",5\n2,,1\n3,Awful,1\n'
    batch = texts_from_csv(text, "review", max_rows=10)
    # A blank cell stays in, so that the table reports it instead of silently dropping the row.
    assert batch.texts == ["Great, truly great", "", "Awful"]
    assert batch.rows == [1, 2, 3]


def test_csv_picks_a_text_like_column_by_default() -> None:
    assert default_column(["id", "Review", "stars"]) == "Review"
    assert default_column(["id", "stars"]) == "id"
    assert texts_from_csv("id,text\n1,hello\n", None, max_rows=5).texts == ["hello"]


def test_csv_unknown_column_lists_the_real_ones() -> None:
    with pytest.raises(InputError, match="no column 'body'; its columns are 'id', 'text'"):
        texts_from_csv("id,text\n1,hello\n", "body", max_rows=5)


def test_csv_ragged_row_names_the_line() -> None:
    with pytest.raises(InputError, match="line 3: 3 fields where the header has 2"):
        texts_from_csv("id,text\n1,fine\n2,not,quoted\n", "text", max_rows=5)


def test_csv_over_the_row_limit_counts_every_row() -> None:
    rows = "".join(f"{i},text {i}\n" for i in range(12))
    with pytest.raises(InputError, match="has 12 texts; the limit is 10"):
        texts_from_csv("id,text\n" + rows, "text", max_rows=10)


def test_file_that_is_not_utf8_is_refused_with_the_line(tmp_path: Path) -> None:
    upload = tmp_path / "latin1.txt"
    upload.write_bytes("fine\ncafé au lait\n".encode("latin-1"))
    with pytest.raises(InputError, match=r"not UTF-8 text: byte 0xe9 on line 2"):
        texts_from_file(upload, None, max_rows=10, max_bytes=1000)


def test_file_over_the_size_limit_names_the_limit(tmp_path: Path) -> None:
    upload = tmp_path / "big.txt"
    upload.write_text("word " * 600)
    with pytest.raises(InputError, match="the limit is 2 KiB"):
        texts_from_file(upload, None, max_rows=10, max_bytes=2048)


def test_binary_and_unknown_files_are_refused(tmp_path: Path) -> None:
    binary = tmp_path / "image.txt"
    binary.write_bytes(b"abc\x00\x01def")
    with pytest.raises(InputError, match="binary"):
        texts_from_file(binary, None, max_rows=10, max_bytes=1000)
    other = tmp_path / "sheet.xlsx"
    other.write_bytes(b"PK")
    with pytest.raises(InputError, match=r"only .txt and .csv"):
        texts_from_file(other, None, max_rows=10, max_bytes=1000)


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    upload = tmp_path / "excel.csv"
    upload.write_bytes("\ufefftext\nsuperb\n".encode())
    assert texts_from_file(upload, None, max_rows=10, max_bytes=1000).texts == ["superb"]


def test_only_line_breaks_split_pasted_text() -> None:
    batch = texts_from_lines("one\u2028still one\ntwo\x0cstill two\r\nthree\x85still three\n", 10)
    assert batch.texts == ["one\u2028still one", "two\x0cstill two", "three\x85still three"]
    assert batch.rows == [1, 2, 3]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_semicolon_tab_and_bar_separated_files_are_read(delimiter: str) -> None:
    text = f"id{delimiter}review\n1{delimiter}good, really good\n2{delimiter}bad\n"
    assert csv_columns(text) == ["id", "review"]
    assert texts_from_csv(text, "review", 10).texts == ["good, really good", "bad"]


def test_a_duplicate_column_name_is_refused() -> None:
    with pytest.raises(InputError, match="more than one column named 'text'"):
        csv_columns("text,id,text\na,1,b\n", "dup.csv")


def test_a_csv_without_a_header_loses_no_line_and_says_so() -> None:
    text = 'An absolutely wonderful film from start to finish.\n"Dull and far too long, sadly."\n'
    assert csv_columns(text) == ["column 1"]
    batch = texts_from_csv(text, None, 10, "reviews.csv")
    assert batch.texts == [
        "An absolutely wonderful film from start to finish.",
        "Dull and far too long, sadly.",
    ]
    assert batch.rows == [1, 2]
    assert "no header line: the first line was read as a text" in batch.source


def test_a_survey_with_questions_for_headers_keeps_them_as_headers() -> None:
    text = (
        "Timestamp,How would you describe your experience with our service today?\n"
        "2026-11-01,Great and friendly staff.\n"
    )
    columns = csv_columns(text)
    assert columns == [
        "Timestamp",
        "How would you describe your experience with our service today?",
    ]
    assert texts_from_csv(text, columns[1], 10).texts == ["Great and friendly staff."]
