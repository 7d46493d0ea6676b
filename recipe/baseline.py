"""The previous model measured on the new model's sets: the card's before/after table.

`python -m recipe.baseline --model models/minilm-sentiment --previous DIR --name NAME` classifies the
new model's evaluation sets (its test splits, rebuilt from training.json, and its evaluation-only files)
with the model in DIR, float32, through the app's loader and engine, runs the behavioural suite on it,
writes the figures to MODEL/baseline.json and rewrites the card. `make baseline` takes DIR from git
(the model folder as an earlier commit had it), so the comparison can be rerun from a clean checkout.

A set the previous model never saw a label of is still scored the same way as for the new model, so
the two columns are comparable; the previous model's own test splits are not (they held other rows).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from recipe import card, evaluate

BASELINE_FILE = "baseline.json"


def measure_previous(model_dir: Path, previous: Path, name: str, work_dir: Path) -> dict[str, Any]:
    """The previous model's headline figures on each of the new model's sets, and its capabilities."""
    training = json.loads((model_dir / "training.json").read_text())
    previous_training = json.loads((previous / "training.json").read_text())
    inputs = evaluate.recorded_inputs(training, Path.cwd())
    sets = evaluate.evaluation_sets(training, work_dir / "datasets", inputs)
    predictions = evaluate.predict(previous, "float32", sets)
    figures: dict[str, Any] = {}
    for labelled in sets:
        measured = evaluate.measure(
            labelled,
            predictions[labelled.name],
            previous_training["labels"],
            previous_training["temperature"],
        )
        headline = card.headline({"float32": measured})  # the figures the card's tables compare
        figures[labelled.name] = {
            "texts": len(labelled.texts),
            "accuracy": headline["accuracy"],
            "macro_f1": headline["macro_f1"],
            "expected_calibration_error": measured["all_labels"]["expected_calibration_error"],
        }
    behaviour = evaluate.measure_behaviour(previous, name, write=False)
    capabilities = next(iter(behaviour["models"].values()))["capabilities"]
    return {
        "model": name,
        "sets": figures,
        "capabilities": {cap: r["failure_rate"] for cap, r in capabilities.items()},
        "train_seconds": previous_training.get("train_seconds"),
    }


def main(argv: list[str] | None = None) -> int:
    """Command line; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="the new model's folder")
    parser.add_argument("--previous", type=Path, required=True, help="the previous model's folder")
    parser.add_argument("--name", required=True, help="how the card names the previous model")
    parser.add_argument("--work-dir", type=Path, default=Path(".cache/evaluate"))
    args = parser.parse_args(argv)
    try:
        baseline = measure_previous(args.model, args.previous, args.name, args.work_dir)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    (args.model / BASELINE_FILE).write_text(json.dumps(baseline, indent=2) + "\n")
    evaluate.write_card_from_figures(args.model)
    print(json.dumps(baseline, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
