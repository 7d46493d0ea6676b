"""The fine-tuning command never destroys a folder, reads its data right, keeps duplicates out of the
test figures, merges look-alike labels, refuses bad arguments before training, and publishes no local
path; on data the tests write and the tiny random base of tests/test_recipe.py."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
from huggingface_hub import ModelCard

from recipe import evaluate, finetune
from tests.test_recipe import WORDS, labelled_csv

pytestmark = pytest.mark.slow
# A label with a table separator and a line break, to be written safely into the card's tables.
ODD_LABEL = "so-so | meh\nok"


@pytest.fixture
def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the command gets as far as loading the base model."""

    def loaded(*_: object) -> None:
        raise AssertionError("the command loaded the base model before refusing")

    monkeypatch.setattr(finetune, "load_base", loaded)


def finetune_main(base: Path, data: Path, output: Path, *extra: str) -> int:
    return finetune.main(
        [
            "--data", str(data),
            "--text-column", "text",
            "--label-column", "label",
            "--base", str(base),
            "--output", str(output),
            "--max-epochs", "1",
            "--batch-size", "8",
            *extra,
        ]
    )  # fmt: skip


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    """The command's one error line; stderr may also hold the datasets reader's progress bars."""
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, err
    assert not any(line.startswith(" ") for line in err.splitlines()), err
    return lines[0]


# --- The output folder ------------------------------------------------------------------------


@pytest.mark.parametrize("overwrite", [[], ["--overwrite"]])
@pytest.mark.usefixtures("no_training")
def test_an_output_holding_the_data_is_never_replaced(
    tmp_path: Path,
    tiny_model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    overwrite: list[str],
) -> None:
    folder = tmp_path / "mydata"
    folder.mkdir()
    data = labelled_csv(folder / "train.csv")
    (folder / "notes.txt").write_text("my notes\n")
    before = sorted(folder.iterdir())

    assert finetune_main(tiny_model_dir, data, folder, *overwrite) == 2

    err = one_line_error(capsys)
    assert f"--output {folder}: holds {data} (--data)" in err
    assert sorted(folder.iterdir()) == before
    assert (folder / "notes.txt").read_text() == "my notes\n"


@pytest.mark.usefixtures("no_training")
def test_an_existing_folder_the_recipe_did_not_write_needs_overwrite(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "photos"
    output.mkdir()
    (output / "holiday.jpg").write_bytes(b"\xff\xd8")
    data = labelled_csv(tmp_path / "reviews.csv")

    assert finetune_main(tiny_model_dir, data, output) == 2

    err = one_line_error(capsys)
    assert "was not written by this recipe" in err
    assert "--overwrite" in err
    assert (output / "holiday.jpg").read_bytes() == b"\xff\xd8"


@pytest.mark.parametrize("output", [".", "..", "sub/.."])
@pytest.mark.usefixtures("no_training")
def test_the_folder_the_command_runs_from_is_refused_as_output(
    tmp_path: Path,
    tiny_model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    output: str,
) -> None:
    here = tmp_path / "project"
    (here / "sub").mkdir(parents=True)
    monkeypatch.chdir(here)
    data = labelled_csv(tmp_path / "reviews.csv")

    assert finetune_main(tiny_model_dir, data, Path(output), "--overwrite") == 2

    assert "is the folder the command runs from" in one_line_error(capsys)
    assert here.is_dir()


def test_the_work_folder_is_one_per_output() -> None:
    first = finetune.default_work_dir(Path("a/model"))
    second = finetune.default_work_dir(Path("b/model"))
    assert first != second
    assert first == finetune.default_work_dir(Path("a/../a/model").resolve())
    assert first.name.startswith("model-")


# --- Arguments, checked before any training ---------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--max-length", "0", "--max-length 0: must be a whole number of at least 1"),
        ("--batch-size", "0", "--batch-size 0: must be a whole number of at least 1"),
        ("--batch-size", "-4", "--batch-size -4: must be a whole number of at least 1"),
        ("--patience", "0", "--patience 0: must be a whole number of at least 1"),
        ("--learning-rate", "0", "--learning-rate 0.0: must be a number above 0"),
        ("--learning-rate", "nan", "--learning-rate nan: must be a number above 0"),
        ("--max-epochs", "-1", "--max-epochs -1.0: must be a number above 0"),
        ("--seed", "-1", "--seed -1: must be a whole number from 0 to 4294967295"),
        ("--split-seed", "4294967296", "--split-seed 4294967296: must be a whole number from 0"),
    ],
)
@pytest.mark.usefixtures("no_training")
def test_a_bad_argument_gets_one_line_naming_it_and_its_range(
    tmp_path: Path,
    tiny_model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
    message: str,
) -> None:
    data = labelled_csv(tmp_path / "reviews.csv")
    output = tmp_path / "out"
    assert finetune_main(tiny_model_dir, data, output, option, value) == 2
    assert message in one_line_error(capsys)
    assert not output.exists()


# --- Data read right, and messages that name the file -----------------------------------------


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the file is empty"),
        (b"\n\n", "the file is empty"),
        (b"text,label\n", "only a header line, no rows under it"),
        (
            b"text,label\n" + b"good film,positive\n" * 12 + b"bad film,n\xe9gatif\n" * 12,
            "row 14: label 'n\ufffdgatif' in column 'label' is not valid UTF-8",
        ),
    ],
    ids=["empty", "blank", "header-only", "latin-1-label"],
)
@pytest.mark.usefixtures("no_training")
def test_an_unusable_file_gets_one_line_naming_it(
    tmp_path: Path,
    tiny_model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    message: str,
) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(content)
    assert finetune_main(tiny_model_dir, data, tmp_path / "out") == 2
    err = one_line_error(capsys)
    assert f"error: {data}" in err
    assert message in err


@pytest.mark.usefixtures("no_training")
def test_a_message_about_hundreds_of_labels_stays_short(
    tmp_path: Path, tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data.csv"
    data.write_text(
        "text,label\n" + "".join(f"text {i},label{i:03}\n" for i in range(300)), encoding="utf-8"
    )
    assert finetune_main(tiny_model_dir, data, tmp_path / "out") == 2
    err = one_line_error(capsys)
    assert "too few examples to split: 'label000' (1, in " in err
    assert "and 290 more" in err
    assert len(err) < 1500


def test_look_alike_labels_keep_the_spelling_given_in_labels(tmp_path: Path) -> None:
    from recipe.labelled_data import look_alike_labels, read_file

    nfd = unicodedata.normalize("NFD", "café")
    data = tmp_path / "data.csv"
    data.write_text(
        "text,label\n"
        + "a,café\nb,café\nc,café\n"
        + f"d,{nfd}\n"
        + "e,positive\nf,Positive\ng,Positive\nh,positive\u200b\n",
        encoding="utf-8",
    )
    rows = read_file(data, "text", "label")
    assert look_alike_labels(rows, None) == {
        nfd: "café",
        "positive": "Positive",
        "positive\u200b": "Positive",
    }
    assert look_alike_labels(rows, ["café", "positive"]) == {
        nfd: "café",
        "Positive": "positive",
        "positive\u200b": "positive",
    }
    # Both spellings asked for: the user's choice stands.
    assert look_alike_labels(rows, ["café", "positive", "Positive"]) == {nfd: "café"}


# --- One real run on messy data: duplicates, look-alike labels, an odd label, absolute paths --


def messy_csv(path: Path) -> tuple[Path, int]:
    """Unique rows of four classes, a third of them repeated twice more; some labels spelt oddly."""
    lines = ["text,label"]
    rows: list[tuple[str, str]] = []
    words = {**WORDS, ODD_LABEL: ["meh", "okay", "fine", "average"]}
    for label, vocabulary in words.items():
        for i in range(12):
            rows.append((f"this film {vocabulary[i % 4]} {vocabulary[(i // 4) % 4]} n{i}", label))
    duplicates = 0
    for number, (text, label) in enumerate(rows):
        spelt = label
        if label == "positive" and number % 3 == 1:
            spelt = "Positive" if number % 2 else "positive\u200b"
        quoted = '"' + spelt.replace('"', '""') + '"'
        copies = 3 if number % 3 == 0 else 1
        duplicates += copies - 1
        lines += [f"{text},{quoted}"] * copies
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, duplicates


@pytest.fixture(scope="module")
def messy_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> dict[str, object]:
    tmp_path = tmp_path_factory.mktemp("messy")
    data, duplicates = messy_csv(tmp_path / "messy.csv")
    extra = labelled_csv(tmp_path / "extra_set.csv", rows_per_label=4, seed=1)
    output = tmp_path / "out"
    output.mkdir()
    (output / "old.txt").write_text("replaced with --overwrite\n")
    code = finetune_main(
        tiny_model_dir,
        data,
        output,
        "--eval-data", str(extra),
        "--work-dir", str(tmp_path / "work"),
        "--overwrite",
    )  # fmt: skip
    assert code == 0
    return {"tmp": tmp_path, "output": output, "duplicates": duplicates}


def test_overwrite_replaces_a_folder_the_recipe_did_not_write(
    messy_run: dict[str, object],
) -> None:
    output = messy_run["output"]
    assert isinstance(output, Path)
    assert not (output / "old.txt").exists()
    assert finetune.is_recipe_output(output)


def test_exact_duplicates_are_removed_before_splitting_and_reported(
    messy_run: dict[str, object],
) -> None:
    output, duplicates = messy_run["output"], messy_run["duplicates"]
    assert isinstance(output, Path)
    training = json.loads((output / "training.json").read_text())
    assert duplicates == 32
    assert training["duplicates_removed"] == duplicates
    assert sum(training["split_sizes"].values()) == 4 * 12  # the unique rows only
    figures = json.loads((output / "evaluation.json").read_text())
    assert figures["sets"]["messy test"]["texts"] == training["split_sizes"]["test"]
    card = ModelCard.load(output / "README.md").text
    assert f"{duplicates} exact duplicate rows (same text and label) were removed" in card


def test_look_alike_labels_are_merged_and_named(messy_run: dict[str, object]) -> None:
    output = messy_run["output"]
    assert isinstance(output, Path)
    training = json.loads((output / "training.json").read_text())
    assert training["labels"] == ["negative", "neutral", "positive", ODD_LABEL]
    assert training["merged_labels"] == {"Positive": "positive", "positive\u200b": "positive"}
    assert training["train_labels"]["positive"] > training["train_labels"]["negative"] - 2
    card = ModelCard.load(output / "README.md").text
    # The invisible character is written out, so the reader sees which spelling was merged.
    assert r"`Positive` into `positive`, `positive\u200b` into `positive`" in card


def test_an_odd_label_keeps_the_card_tables_whole(messy_run: dict[str, object]) -> None:
    output = messy_run["output"]
    assert isinstance(output, Path)
    card = ModelCard.load(output / "README.md").text
    assert ODD_LABEL not in card
    assert r"so-so \| meh\\nok" in card
    tables: list[list[str]] = [[]]
    for line in card.splitlines():
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    tables = [table for table in tables if table]
    assert len(tables) >= 4
    for table in tables:
        widths = {len(re.split(r"(?<!\\)\|", line)) for line in table}
        assert len(widths) == 1, table


def test_the_card_and_training_json_publish_no_local_path(messy_run: dict[str, object]) -> None:
    tmp, output = messy_run["tmp"], messy_run["output"]
    assert isinstance(tmp, Path)
    assert isinstance(output, Path)
    published = (output / "README.md").read_text() + (output / "training.json").read_text()
    assert str(tmp) not in published
    assert str(Path.home()) not in published
    assert not re.search(r"(?<![\w.])/(tmp|home|work|Users)/", published)
    training = json.loads((output / "training.json").read_text())
    assert training["data"] == ["messy.csv"]
    assert training["eval_data"] == ["extra_set.csv"]
    assert "--data messy.csv" in training["command"]


def test_evaluate_rebuilds_the_same_figures_from_the_relative_paths(
    messy_run: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, output = messy_run["tmp"], messy_run["output"]
    assert isinstance(tmp, Path)
    assert isinstance(output, Path)
    work = ["--work-dir", str(tmp / "ev")]
    assert evaluate.main(["--model", str(output), *work]) == 2
    assert "training.json names 'messy.csv', not found under" in capsys.readouterr().err
    assert evaluate.main(["--model", str(output), *work, "--data-root", str(tmp)]) == 0
    assert "every figure matches" in capsys.readouterr().out


def test_resume_continues_only_its_own_run(
    messy_run: dict[str, object], tiny_model_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tmp, output = messy_run["tmp"], messy_run["output"]
    assert isinstance(tmp, Path)
    assert isinstance(output, Path)
    assert list((tmp / "work" / "checkpoints").glob("checkpoint-*"))
    data = tmp / "messy.csv"
    resume = ["--work-dir", str(tmp / "work"), "--resume"]

    # Another output pointed at the same work folder: its checkpoints are not this run's.
    other = tmp / "other"
    assert finetune_main(tiny_model_dir, data, other, *resume) == 2
    err = one_line_error(capsys)
    assert f"--resume: the checkpoints in {tmp / 'work' / 'checkpoints'} belong to the run" in err
    assert str(output) in err
    assert not other.exists()

    # The same output resumes (and replaces its own earlier model without --overwrite).
    assert finetune_main(tiny_model_dir, data, output, *resume) == 0
    training = json.loads((output / "training.json").read_text())
    assert training["resumed_from_checkpoint"] is True
