"""Uploads are read in bounded time and read right: hostile CSVs, wide headers, quoted line breaks.

The readers are tested as plain functions, then through a launched app (Batch and Evaluate), where a
slow file must never stop the server from answering others (/healthz) while it is read.
"""

from __future__ import annotations

import csv
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import psutil
import pytest
from gradio_client import Client, handle_file

from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import Settings
from sentiment_demo.errors import InputError
from sentiment_demo.inputs.batch_input import columns_of_file, csv_columns, texts_from_file
from sentiment_demo.inputs.labelled_input import read_labelled
from sentiment_demo.inputs.parse_worker import in_worker
from sentiment_demo.service import build_service
from tests.conftest import batch_refusal, launched

# The file: a 40 KB first line that cost csv.Sniffer 8 s of CPU under the interpreter lock.
SNIFFER_BOMB = ', "x' * 10_000 + "\nA fine film.\n"
# The wide header: 60,000 columns, 516 KiB, that cost 88-99 s in the duplicate check.
WIDE_HEADER = ",".join(f"col{i:05d}" for i in range(60_000)) + "\n" + "," * 59_999 + "\n"
PARAGRAPHS = [
    'First paragraph: a "warm", funny film.\n\nSecond paragraph; the ending | drags a bit.',
    "One line only, with a comma.",
    "Three\nshort\nlines.",
    "Windows break\r\ninside a review\r\n\r\nand a blank line.",
]
REVIEWS = [f"Review {i}. {PARAGRAPHS[i % len(PARAGRAPHS)]}" for i in range(30)]
LABELS = ["positive" if i % 3 else "negative" for i in range(30)]


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def pandas_csv(tmp_path: Path, name: str, sep: str = ",") -> Path:
    """Multi-paragraph reviews as pandas writes them: quoted, with line breaks inside the quotes."""
    path = tmp_path / name
    pd.DataFrame({"review": REVIEWS, "label": LABELS}).to_csv(path, sep=sep, index=False)
    return path


def timed(call: object) -> tuple[object, float]:
    started = time.perf_counter()
    try:
        result = call()  # type: ignore[operator]
    except InputError as exc:
        result = exc
    return result, time.perf_counter() - started


def test_the_sniffer_bomb_is_read_in_milliseconds_not_seconds(tmp_path: Path) -> None:
    path = write(tmp_path, "bomb.csv", SNIFFER_BOMB)
    for read in (
        lambda: columns_of_file(path, 2**20),
        lambda: texts_from_file(path, None, 100, 2**20),
        lambda: read_labelled(path, 2**20, 100),
    ):
        result, seconds = timed(read)
        assert seconds < 1.0, f"{seconds:.1f} s"
        assert isinstance(result, InputError)
        assert "bomb.csv is not valid CSV on line 1" in str(result)


def test_a_60000_column_header_is_refused_at_once_naming_the_limit(tmp_path: Path) -> None:
    assert len(WIDE_HEADER.split("\n")[0].encode()) > 500 * 1024
    path = write(tmp_path, "wide.csv", WIDE_HEADER)
    for read in (
        lambda: texts_from_file(path, None, 100, 2**20),
        lambda: read_labelled(path, 2**20, 100),
    ):
        result, seconds = timed(read)
        assert seconds < 2.0, f"{seconds:.1f} s"
        assert "has 60,000 columns; the limit is 1,000 (--max-columns)" in str(result)
    # Past the column limit, the header's size has its own; and the duplicate check is linear.
    result, seconds = timed(lambda: csv_columns(WIDE_HEADER, "wide.csv", max_columns=100_000))
    assert "the limit is 64 KiB (--max-header-kb)" in str(result)
    duplicated = "text," * 60_000 + "\n"
    result, seconds = timed(
        lambda: csv_columns(duplicated, "d.csv", max_columns=100_000, max_header_kb=1024)
    )
    assert seconds < 2.0, f"{seconds:.1f} s"
    assert "more than one column named 'text'" in str(result)


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_quoted_line_breaks_are_read_right_by_batch_and_evaluate(tmp_path: Path, sep: str) -> None:
    path = pandas_csv(tmp_path, "reviews.csv", sep)
    assert len(path.read_text().splitlines()) > 40  # the first 20 physical lines cut records
    batch = texts_from_file(path, "review", 100, 2**20)
    assert batch.texts == [review.strip() for review in REVIEWS]
    assert batch.rows == list(range(1, 31))
    table = read_labelled(path, 2**20, 100)
    assert table.columns == ["review", "label"]
    assert [record["review"] for record in table.records] == REVIEWS
    assert [record["label"] for record in table.records] == LABELS


def test_python_csv_module_files_with_crlf_records_are_read_right(tmp_path: Path) -> None:
    path = tmp_path / "written.tsv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        rows = [("text", "label"), *zip(REVIEWS, LABELS, strict=True)]
        csv.writer(handle, delimiter="\t").writerows(rows)
    table = read_labelled(path, 2**20, 100)
    assert [record["text"] for record in table.records] == REVIEWS


def test_nested_json_lines_get_a_clear_message(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.jsonl", '{"text": "ok", "label": "pos"}\n' + "[" * 200_000 + "\n")
    with pytest.raises(InputError, match=r"deep.jsonl, line 2: the JSON is nested too deeply") as e:
        read_labelled(path, 2**20, 100)
    assert "recursion" not in str(e.value)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("one.csv", "text\ngood film\nbad film\n"),
        ("one.jsonl", '{"text": "good film"}\n{"text": "bad film"}\n'),
    ],
)
def test_a_one_column_labelled_file_is_refused(tmp_path: Path, name: str, content: str) -> None:
    with pytest.raises(InputError, match="needs a text column and a label column"):
        read_labelled(write(tmp_path, name, content), 2**20, 100)


def test_a_binary_file_gets_each_tabs_own_wording(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"binary file, not text. Upload a .txt or .csv file"):
        texts_from_file(write(tmp_path, "nul.csv", b"text\x00\n"), None, 10, 1000)
    with pytest.raises(InputError, match=r"binary file.*Upload a .csv, .tsv or .jsonl file"):
        read_labelled(write(tmp_path, "nul.csv", b"text,label\x00\n"), 1000, 10)


def test_json_lines_with_too_many_keys_are_refused(tmp_path: Path) -> None:
    line = "{" + ", ".join(f'"k{i}": 1' for i in range(20)) + "}\n"
    with pytest.raises(InputError, match=r"line 1: more than 10 different keys.*--max-columns"):
        read_labelled(write(tmp_path, "keys.jsonl", line), 2**20, 100, max_columns=10)


def test_the_worker_returns_the_readers_answer_or_its_refusal(tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", "id;review\n1;fine\n")
    assert in_worker(10, "good.csv", columns_of_file, good, 2**20) == ["id", "review"]
    with pytest.raises(InputError, match=r"only \.txt and \.csv"):
        in_worker(10, "a.xlsx", texts_from_file, tmp_path / "a.xlsx", None, 10, 2**20)


def test_a_reader_past_its_time_limit_is_killed(tmp_path: Path) -> None:
    started = time.perf_counter()
    with pytest.raises(InputError, match=r"slow.csv took longer than 1 s .*--parse-seconds"):
        in_worker(1, "slow.csv", time.sleep, 60)
    assert time.perf_counter() - started < 10
    # Killed and reaped, not left running.
    workers = [
        child
        for child in psutil.Process().children(recursive=True)
        if "parse_worker" in " ".join(child.cmdline())
    ]
    assert workers == []


@pytest.fixture(scope="module")
def url(tiny_model_dir: Path) -> Iterator[str]:
    settings = Settings(
        model=str(tiny_model_dir), device="cpu", dtype="float32", num_threads=1, warmup=False
    )
    classifier, info = load_classifier(settings)
    with launched(build_service(classifier, info, settings)) as address:
        yield address


@pytest.fixture(scope="module")
def client(url: str) -> Client:
    return Client(url, verbose=False)


def test_the_server_answers_others_while_a_hostile_csv_is_read(
    url: str, client: Client, tmp_path: Path
) -> None:
    path = write(tmp_path, "bomb.csv", SNIFFER_BOMB)
    answer: list[str] = []
    job = threading.Thread(
        target=lambda: answer.append(batch_refusal(client, "", handle_file(str(path)), None))
    )
    waits = []
    job.start()
    deadline = time.monotonic() + 120
    while job.is_alive() and time.monotonic() < deadline:
        started = time.perf_counter()
        assert httpx.get(f"{url}/healthz", timeout=60).status_code == 200
        waits.append(time.perf_counter() - started)
        time.sleep(0.05)
    job.join(timeout=1)
    assert waits
    assert max(waits) < 1.5, waits
    assert answer
    assert "bomb.csv is not valid CSV on line 1" in answer[0], answer


def test_the_app_reads_quoted_line_breaks_in_batch_and_evaluate(
    client: Client, tmp_path: Path
) -> None:
    path = pandas_csv(tmp_path, "reviews.csv")
    table, _, _, summary = client.predict(
        "", handle_file(str(path)), "review", api_name="/classify_batch"
    )
    assert not summary.startswith("⚠️"), summary
    column = table["headers"].index("text")
    assert [row[column] for row in table["data"]] == [review.strip() for review in REVIEWS]
    summary, *_, report = client.predict(
        handle_file(str(path)), "review", "label", api_name="/evaluate"
    )
    assert "30 rows" in summary, summary
    assert next(iter(report["models"].values()))["texts"] == 30


def test_the_app_refuses_a_wide_header_naming_the_setting(client: Client, tmp_path: Path) -> None:
    path = write(tmp_path, "wide.csv", WIDE_HEADER)
    started = time.perf_counter()
    refusal = batch_refusal(client, "", handle_file(str(path)), None)
    assert "has 60,000 columns; the limit is 1,000 (--max-columns)" in refusal
    assert time.perf_counter() - started < 30
