"""Labelled files for the Evaluate tab: CSV, TSV and JSON lines, and a clear message for each fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment_demo.errors import InputError
from sentiment_demo.inputs.labelled_input import default_label_column, read_labelled


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def test_csv_tsv_and_json_lines_read_the_same(tmp_path: Path) -> None:
    csv_file = write(tmp_path, "a.csv", 'review,stars\n"Great, really",5\nawful,1\n')
    tsv_file = write(tmp_path, "a.tsv", "review\tstars\nGreat, really\t5\nawful\t1\n")
    jsonl_file = write(
        tmp_path,
        "a.jsonl",
        '{"review": "Great, really", "stars": 5}\n\n{"review": "awful", "stars": 1}\n',
    )
    for path in (csv_file, tsv_file, jsonl_file):
        table = read_labelled(path, 10_000, 100)
        assert table.columns == ["review", "stars"]
        assert [r["review"] for r in table.records] == ["Great, really", "awful"]
        assert table.values("stars") == {"5": 1, "1": 1}
    assert read_labelled(jsonl_file, 10_000, 100).lines == [1, 3]
    assert default_label_column(["review", "stars"], "review") == "stars"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.xlsx", "x", r"only \.csv, \.tsv and \.jsonl"),
        ("a.jsonl", '{"text": "ok"}\n{"text": broken}\n', r"line 2: not valid JSON"),
        ("a.jsonl", '["text", "label"]\n', r"line 1: expected an object"),
        (
            "a.csv",
            "text,label\nfine,pos\ntoo,many,fields\n",
            r"line 3: 3 fields where the header has 2",
        ),
        ("a.csv", b"text,label\ncaf\xe9,pos\n", r"not UTF-8 text: byte 0xe9 on line 2"),
        ("a.csv", "text,label\n", r"no data rows"),
        ("a.csv", "text,label\n" + "x,pos\n" * 11, r"11 rows; the limit is 10 .*--max-eval-rows"),
    ],
)
def test_each_fault_names_itself(
    tmp_path: Path, name: str, content: str | bytes, message: str
) -> None:
    with pytest.raises(InputError, match=message):
        read_labelled(write(tmp_path, name, content), 10_000, 10)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", "text,label\n" + "a long enough text,pos\n" * 200)
    with pytest.raises(InputError, match=r"the limit is 1 KiB"):
        read_labelled(path, 1024, 10_000)
