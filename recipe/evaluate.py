"""Measure a recipe-built model the way the app serves it, and write its card.

It rebuilds the test split from what training.json recorded (files, columns, seed), classifies every test
source and every evaluation-only set through the app's loader and engine in float32 and bfloat16, and
scores them with `sentiment_demo.scoring` (the Evaluate tab's code). `make evaluate` reruns it and says
whether the figures match the card's evaluation.json.

A set whose labels are a subset of the model's (movie reviews: negative / positive only) is scored twice:
over all the model's labels, and "among its labels", deciding by which of its labels scores highest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import softmax

from recipe import card
from recipe.labelled_data import (
    LabelledRows,
    assign_splits,
    read_file,
    read_files,
    remove_duplicates,
    rename_labels,
)
from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.behaviour import generate_suite, run_suite
from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Prediction
from sentiment_demo.core.engine import BatchEngine
from sentiment_demo.evaluation.scoring import reliability, score

PRECISIONS = ("float32", "bfloat16")
CHANGES_FILE = "changes.md"


@dataclass(frozen=True)
class EvaluationSet:
    """Labelled texts to measure on; `kind` is "test" (held out from training) or "extra"."""

    name: str
    kind: str
    texts: list[str]
    labels: list[str]


@dataclass(frozen=True)
class Inputs:
    """Where the files training.json names are on this machine, in its order.

    training.json records paths relative to the folder the recipe ran from (or bare file names), so
    that no local path is published; the recipe passes the real ones, `main` finds them under
    --data-root.
    """

    data: list[str]
    eval_data: list[str]
    sources_info: str | None


def recorded_inputs(training: dict[str, Any], root: Path) -> Inputs:
    """The files training.json names, looked up under `root` (an absolute path is kept).

    Raises:
        FileNotFoundError: a named file is not there, with the fix.
    """

    def locate(recorded: str) -> str:
        path = root / recorded
        if not path.is_file():
            raise FileNotFoundError(
                f"training.json names {recorded!r}, not found under {root}: run from the folder "
                "the model was trained from, or give --data-root"
            )
        return str(path)

    info = training.get("sources_info")
    return Inputs(
        data=[locate(p) for p in training["data"]],
        eval_data=[locate(p) for p in training["eval_data"]],
        sources_info=str(root / info) if info else None,
    )


def evaluation_sets(
    training: dict[str, Any], cache_dir: Path, inputs: Inputs
) -> list[EvaluationSet]:
    """Each source's test rows (cleaned and split as in training), then each evaluation-only file."""
    rows = read_files(
        inputs.data,
        training["text_column"],
        training["label_column"],
        training["source_column"],
        training["split_column"],
        cache_dir,
    )
    # The recipe's cleaning, as training.json records it (older models recorded none).
    merged = training.get("merged_labels") or {}
    rename_labels(rows, merged)
    if training.get("duplicates_removed") is not None:
        remove_duplicates(rows)
    assign_splits(rows, training["split_seed"])
    sets = [
        EvaluationSet(f"{source} test", "test", *_test_rows(rows, source))
        for source in dict.fromkeys(rows.sources)
    ]
    for path in inputs.eval_data:
        extra = read_file(
            Path(path), training["text_column"], training["label_column"], cache_dir=cache_dir
        )
        rename_labels(extra, merged)
        sets.append(EvaluationSet(Path(path).stem, "extra", extra.texts, extra.labels))
    return sets


def _test_rows(rows: LabelledRows, source: str) -> tuple[list[str], list[str]]:
    chosen = [
        i
        for i, (s, split) in enumerate(zip(rows.sources, rows.splits, strict=True))
        if s == source and split == "test"
    ]
    return [rows.texts[i] for i in chosen], [rows.labels[i] for i in chosen]


def predict(model_dir: Path, dtype: str, sets: list[EvaluationSet]) -> dict[str, list[Prediction]]:
    """Every set classified by the app's own loader and engine on CPU, in the given precision."""
    settings = Settings(
        model=str(model_dir),
        dtype=dtype,
        device="cpu",
        max_batch_size=64,
        warmup=False,
        max_text_chars=1_000_000,
    )
    classifier, _ = load_classifier(settings)
    engine = BatchEngine(classifier, settings.max_text_chars)
    results: dict[str, list[Prediction]] = {}
    for labelled in sets:
        outcomes = engine.classify(labelled.texts)
        failed = [o for o in outcomes if not isinstance(o, Prediction)]
        if failed:
            raise RuntimeError(f"{labelled.name}: {len(failed)} texts failed, first: {failed[0]}")
        results[labelled.name] = [o for o in outcomes if isinstance(o, Prediction)]
    return results


def measure(
    labelled: EvaluationSet,
    predictions: list[Prediction],
    labels: list[str],
    temperature: float,
) -> dict[str, Any]:
    """Figures over all labels, among the set's own labels when fewer, and calibration before/after."""
    predicted = [p.label for p in predictions]
    confidence = [p.score for p in predictions]
    figures: dict[str, Any] = {
        "all_labels": score(labelled.labels, predicted, confidence, labels).as_dict()
    }
    own = [label for label in labels if label in set(labelled.labels)]
    if len(own) < len(labels):
        restricted = [max(own, key=lambda name: p.score_of(name)) for p in predictions]
        restricted_conf = [_renormalised(p, own) for p in predictions]
        figures["among_own_labels"] = {
            "labels": own,
            **score(labelled.labels, restricted, restricted_conf, own).as_dict(),
        }
        figures["predicted_other_labels"] = round(
            sum(label not in own for label in predicted) / len(predicted), 4
        )
    # The saved logits are the trained ones divided by T: multiplying back gives the uncalibrated model.
    logits = np.array([[p.raw_score_of(name) for name in labels] for p in predictions])
    uncalibrated = softmax(logits * temperature, axis=1)
    correct = np.array(
        [
            labels[i] == gold
            for i, gold in zip(uncalibrated.argmax(axis=1), labelled.labels, strict=True)
        ]
    )
    _, ece_before = reliability(uncalibrated.max(axis=1), correct)
    figures["expected_calibration_error_before_temperature"] = round(ece_before, 4)
    return figures


def _renormalised(prediction: Prediction, own: list[str]) -> float:
    scores = [prediction.score_of(name) for name in own]
    return max(scores) / sum(scores)


def evaluate_folder(
    model_dir: Path,
    work_dir: Path,
    card_name: str | None = None,
    inputs: Inputs | None = None,
) -> dict[str, Any]:
    """Measure the folder in both precisions, save evaluation.json and write README.md (the card).

    `inputs` are the files training.json names; by default looked up under the current folder.
    """
    training = json.loads((model_dir / "training.json").read_text())
    inputs = inputs or recorded_inputs(training, Path.cwd())
    sets = evaluation_sets(training, work_dir / "datasets", inputs)
    by_precision = {dtype: predict(model_dir, dtype, sets) for dtype in PRECISIONS}
    figures: dict[str, Any] = {"sets": {}}
    for labelled in sets:
        entry: dict[str, Any] = {
            "kind": labelled.kind,
            "texts": len(labelled.texts),
            "texts_sha256": hashlib.sha256("\n".join(labelled.texts).encode()).hexdigest()[:16],
        }
        for dtype in PRECISIONS:
            entry[dtype] = measure(
                labelled,
                by_precision[dtype][labelled.name],
                training["labels"],
                training["temperature"],
            )
        first, second = (by_precision[d][labelled.name] for d in PRECISIONS)
        entry["label_agreement"] = round(
            sum(a.label == b.label for a, b in zip(first, second, strict=True)) / len(first), 4
        )
        figures["sets"][labelled.name] = entry
    (model_dir / "evaluation.json").write_text(json.dumps(figures, indent=2) + "\n")
    measure_behaviour(model_dir, card_name or model_dir.name)
    write_card_from_figures(model_dir, card_name, inputs.sources_info)
    return figures


def measure_behaviour(model_dir: Path, name: str, write: bool = True) -> dict[str, Any]:
    """The behavioural suite on the model (float32, the app's loader and engine): behaviour.json.

    The failing cases and the run time are left out, so an unchanged model rewrites the same file;
    `write=False` only returns it (for another model than the card's).
    """
    settings = Settings(model=str(model_dir), dtype="float32", device="cpu", warmup=False)
    classifier, info = load_classifier(settings)
    engine = BatchEngine(classifier, settings.max_text_chars)
    report = run_suite(generate_suite(), [(name, info)], lambda texts: [engine.classify(texts)])
    behaviour = figures_only(report.as_json())
    if write:
        (model_dir / "behaviour.json").write_text(json.dumps(behaviour, indent=2) + "\n")
    return behaviour


def figures_only(report: dict[str, Any]) -> dict[str, Any]:
    """A behaviour report without its failing cases and run time: what a card shows."""
    report = {key: value for key, value in report.items() if key != "seconds"}
    for model in report["models"].values():
        for figures in model["capabilities"].values():
            figures.pop("failures", None)
    return report


def write_card_from_figures(
    model_dir: Path, card_name: str | None = None, sources_info: str | None = None
) -> None:
    """Write README.md from the model folder's JSON files and the sources' provenance, if found.

    training.json and evaluation.json are needed; behaviour.json (the capability table),
    baseline.json (`recipe.baseline`: the before/after table), onnx_parity.json (`make onnx`: the
    int8 gate's figures) and changes.md (what changed from the previous model and why, written by
    hand: the runs it compares are not the recipe's to remeasure) add their sections when present.
    `sources_info` is where training.json's sources file is here (default: as recorded).

    Raises:
        FileNotFoundError: training.json names a sources file that is not there.
    """

    def optional(name: str) -> dict[str, Any] | None:
        path = model_dir / name
        return json.loads(path.read_text()) if path.is_file() else None

    training = json.loads((model_dir / "training.json").read_text())
    figures = json.loads((model_dir / "evaluation.json").read_text())
    sources = None
    info = sources_info or training.get("sources_info")
    if info and not Path(info).is_file():
        # Without it the card would lose every source's provenance and licence.
        raise FileNotFoundError(
            f"training.json names the sources file {info!r}, not found here: run `make data` "
            "(or give --data-root) before rewriting the card"
        )
    if info:
        sources = json.loads(Path(info).read_text())
    card.write_card(
        model_dir,
        training,
        figures,
        sources,
        card_name or model_dir.name,
        behaviour=optional("behaviour.json"),
        baseline=optional("baseline.json"),
        onnx_parity=optional("onnx_parity.json"),
        changes=(model_dir / CHANGES_FILE).read_text()
        if (model_dir / CHANGES_FILE).is_file()
        else "",
    )


def main(argv: list[str] | None = None) -> int:
    """`python -m recipe.evaluate --model models/NAME`: remeasure and compare with the card's figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--work-dir", type=Path, default=Path(".cache/evaluate"))
    parser.add_argument(
        "--data-root",
        type=Path,
        default=Path(),
        help="the folder training.json's data paths are relative to (default: the current one)",
    )
    parser.add_argument(
        "--card-only",
        action="store_true",
        help="rewrite the card from the stored evaluation.json without measuring",
    )
    args = parser.parse_args(argv)
    training = json.loads((args.model / "training.json").read_text())
    info = training.get("sources_info")
    if args.card_only:
        try:
            write_card_from_figures(
                args.model, sources_info=str(args.data_root / info) if info else None
            )
        except FileNotFoundError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        return 0
    try:
        inputs = recorded_inputs(training, args.data_root)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stored_path = args.model / "evaluation.json"
    stored = json.loads(stored_path.read_text()) if stored_path.is_file() else None
    # The card is rewritten from the new figures: unchanged figures leave it byte for byte the same.
    figures = evaluate_folder(args.model, args.work_dir, inputs=inputs)
    print(card.summary_table(figures))
    if stored is None:
        print(f"no earlier {stored_path}: wrote one")
        return 0
    if stored == figures:
        print(f"every figure matches {stored_path} and the card")
        return 0
    print(f"figures differ from the committed {stored_path}: see `git diff {args.model}`")
    return 1


if __name__ == "__main__":
    sys.exit(main())
