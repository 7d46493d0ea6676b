"""The fine-tuning command end to end on data built here and a tiny random base model, its calibration,
its card, and a clear message for each kind of bad input."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from huggingface_hub import ModelCard

from recipe import evaluate, finetune
from recipe.calibration import apply_temperature, fit_temperature
from recipe.labelled_data import read_file
from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import Settings

pytestmark = pytest.mark.slow
WORDS = {
    "positive": ["good", "great", "love", "fun"],
    "negative": ["bad", "awful", "hate", "boring"],
    "neutral": ["the", "plot", "is", "a"],
}


def labelled_csv(path: Path, rows_per_label: int = 16, seed: int = 0) -> Path:
    rng = random.Random(seed)
    lines = ["text,label"]
    for label, words in WORDS.items():
        for _ in range(rows_per_label):
            lines.append(f"this film {' '.join(rng.choices(words, k=3))},{label}")
    rng.shuffle(lines[1:])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(tmp_path: Path, base: Path, *extra: str) -> int:
    return finetune.main(
        [
            "--data", str(labelled_csv(tmp_path / "reviews.csv")),
            "--text-column", "text",
            "--label-column", "label",
            "--base", str(base),
            "--output", str(tmp_path / "out"),
            "--work-dir", str(tmp_path / "work"),
            "--max-epochs", "1",
            "--batch-size", "8",
            *extra,
        ]
    )  # fmt: skip


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> Path:
    tmp_path = tmp_path_factory.mktemp("recipe")
    extra = labelled_csv(tmp_path / "extra_set.csv", rows_per_label=4, seed=1)
    assert run(tmp_path, tiny_model_dir, "--eval-data", str(extra)) == 0
    return tmp_path / "out"


def test_the_output_loads_in_the_app_with_the_data_labels(trained: Path) -> None:
    classifier, info = load_classifier(Settings(model=str(trained), warmup=False, num_threads=1))
    assert info.labels == ("negative", "neutral", "positive")  # sorted names from the data
    assert len(classifier.classify_batch(["a good film"])) == 1
    assert not list(trained.parent.glob(".out.*"))  # no half-written sibling left


def test_the_card_holds_the_measured_figures(trained: Path) -> None:
    figures = json.loads((trained / "evaluation.json").read_text())
    training = json.loads((trained / "training.json").read_text())
    card = ModelCard.load(trained / "README.md")
    assert card.data.base_model == training["base_model_id"]
    results = {(r.dataset_name, r.metric_type): r.metric_value for r in card.data.eval_results}
    assert set(figures["sets"]) == {"reviews test", "extra_set"}
    for name, entry in figures["sets"].items():
        assert results[(name, "accuracy")] == entry["float32"]["all_labels"]["accuracy"]
        assert results[(name, "f1")] == entry["float32"]["all_labels"]["macro_f1"]
        assert f"{100 * entry['float32']['all_labels']['accuracy']:.2f}%" in card.text
    assert training["command"] in card.text
    assert f"A temperature of {training['temperature']:.3f}" in card.text
    # labelled_csv repeats 8 of its 48 rows; the repeats are removed before splitting.
    assert training["duplicates_removed"] == 8
    assert sum(training["split_sizes"].values()) == 40


def test_make_evaluate_reproduces_every_figure(
    trained: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (trained / "README.md").read_text()
    # training.json names the data relative to where the recipe ran (here: bare file names).
    assert (
        evaluate.main(
            [
                "--model", str(trained),
                "--work-dir", str(trained.parent / "ev"),
                "--data-root", str(trained.parent),
            ]
        )
        == 0
    )  # fmt: skip
    assert "every figure matches" in capsys.readouterr().out
    assert (trained / "README.md").read_text() == before


def test_the_before_after_table_compares_on_the_same_rows(
    trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from recipe import baseline

    # The model against a copy of itself: every "before" figure must equal its "after" figure.
    previous = tmp_path / "previous"
    shutil.copytree(trained, previous)
    new = tmp_path / "new"
    shutil.copytree(trained, new)
    monkeypatch.chdir(trained.parent)  # training.json names the data relative to here
    assert baseline.main(["--model", str(new), "--previous", str(previous), "--name", "old"]) == 0
    stored = json.loads((new / "baseline.json").read_text())
    figures = json.loads((new / "evaluation.json").read_text())
    assert set(stored["sets"]) == set(figures["sets"])
    for name, entry in figures["sets"].items():
        assert stored["sets"][name]["accuracy"] == entry["float32"]["all_labels"]["accuracy"]
    card = (new / "README.md").read_text()
    assert "## Before and after" in card
    assert "`old`" in card
    behaviour = json.loads((new / "behaviour.json").read_text())
    after = next(iter(behaviour["models"].values()))["capabilities"]
    assert stored["capabilities"] == {cap: r["failure_rate"] for cap, r in after.items()}


def test_a_card_is_not_rewritten_without_its_sources_file(
    trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Without sources.json the card would lose every source's provenance and licence.
    model = tmp_path / "model"
    shutil.copytree(trained, model)
    training = json.loads((model / "training.json").read_text())
    (model / "training.json").write_text(json.dumps({**training, "sources_info": "gone.json"}))
    before = (model / "README.md").read_text()
    assert evaluate.main(["--model", str(model), "--card-only", "--data-root", str(tmp_path)]) == 2
    assert "run `make data`" in capsys.readouterr().err
    assert (model / "README.md").read_text() == before


def test_the_temperature_scales_the_logits_exactly(tiny_model_dir: Path) -> None:
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir).eval()
    inputs = {"input_ids": torch.tensor([[2, 11, 12, 3]])}
    with torch.no_grad():
        before = model(**inputs).logits
        apply_temperature(model, 3, 2.5)
        after = model(**inputs).logits
    torch.testing.assert_close(after, before / 2.5)


def test_fit_temperature_recovers_the_temperature_of_the_labels() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, size=(4000, 3))
    shifted = logits / 2.0
    probabilities = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    labels = np.array([rng.choice(3, p=p) for p in probabilities])
    assert fit_temperature(logits, labels) == pytest.approx(2.0, rel=0.1)


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        (
            "review,label\nfine,positive\n",
            [],
            r"no column 'text' \(--text-column\); the columns are 'review', 'label'",
        ),
        ("text,label\n" + "good film,positive\n" * 30, [], r"only one label \('positive'\)"),
        (
            "text,label\n"
            + "".join(f"good film {i},positive\n" for i in range(20))
            + "".join(f"bad film {i},negative\n" for i in range(3)),
            [],
            r"too few examples to split: 'negative' \(3, in .*data.csv\); each label needs at least 10",
        ),
        ("text,label\ngood,positive\nbad,\n", [], r"row 3: no label in column 'label'"),
        (
            "text,label\ngood,pos\n",
            ["--labels", "negative,positive"],
            r"'pos' are in the data but not in --labels",
        ),
    ],
)
def test_bad_data_gets_a_message_and_leaves_no_output(
    tmp_path: Path,
    tiny_model_dir: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    options: list[str],
    message: str,
) -> None:
    data = tmp_path / "data.csv"
    data.write_text(content, encoding="utf-8")
    code = finetune.main(
        ["--data", str(data), "--text-column", "text", "--label-column", "label",
         "--base", str(tiny_model_dir), "--output", str(tmp_path / "out"), *options]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert str(data) in err  # the message names the file
    assert not (tmp_path / "out").exists()


def test_an_unknown_base_model_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(tmp_path, tmp_path / "no-such-model")
    assert code == 2
    assert "--base" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_empty_and_undecodable_texts_are_dropped_and_counted(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_bytes(b"text,label\ngood,positive\n,negative\ncaf\xe9 awful,negative\n  ,positive\n")
    rows = read_file(data, "text", "label")
    assert rows.texts == ["good"]
    assert rows.dropped == {"empty text": 2, "text not valid UTF-8": 1}


def test_an_interrupted_run_leaves_nothing_in_the_output(
    tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ctrl-C arrives while the model is being measured, after the weights were written.
    def interrupted(*_: object, **__: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluate, "evaluate_folder", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path, tiny_model_dir)
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.*"))


def test_the_saved_temperature_is_the_one_the_validation_rows_call_for(trained: Path) -> None:
    # Refit from scratch, in the dataset's own row order: the Trainer's evaluation loader visits rows
    # in length-grouped order, so pairing its logits with the dataset's labels would fit nonsense.
    from recipe.labelled_data import assign_splits, remove_duplicates

    training = json.loads((trained / "training.json").read_text())
    rows = read_file(trained.parent / training["data"][0], "text", "label")
    remove_duplicates(rows)
    assign_splits(rows, training["split_seed"])
    validation = [i for i, split in enumerate(rows.splits) if split == "validation"]
    classifier, _ = load_classifier(
        Settings(model=str(trained), dtype="float32", warmup=False, num_threads=1)
    )
    predictions = classifier.classify_batch([rows.texts[i] for i in validation])
    labels = training["labels"]
    # The saved logits are divided by T: multiplied back, they are the trained model's.
    logits = np.array(
        [[p.raw_score_of(name) * training["temperature"] for name in labels] for p in predictions]
    )
    gold = np.array([labels.index(rows.labels[i]) for i in validation])
    assert fit_temperature(logits, gold) == pytest.approx(training["temperature"], rel=0.02)


def test_adding_a_source_moves_no_row_of_another_between_splits(tmp_path: Path) -> None:
    from recipe.labelled_data import assign_splits, combine

    reviews = labelled_csv(tmp_path / "reviews.csv")
    extra = labelled_csv(tmp_path / "extra.csv", rows_per_label=12, seed=3)
    alone = read_file(reviews, "text", "label")
    assign_splits(alone, 7)
    together = combine([read_file(reviews, "text", "label"), read_file(extra, "text", "label")])
    assign_splits(together, 7)
    assert together.splits[: len(alone.splits)] == alone.splits
    assert set(together.splits[len(alone.splits) :]) == {"train", "validation", "test"}
