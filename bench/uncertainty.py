"""Where the embedded model's answers stop being trustworthy: accuracy against the top-two margin.

Rebuilds the model's held-out test split exactly as `recipe.evaluate` does (the corpora the packages
ship, training.json's cleaning and seed; the hashes are checked against evaluation.json), classifies
it through the app's loader and engine, and prints accuracy per margin bin (top probability minus
the runner-up's) and per top-probability bin, then what the thresholds in
sentiment_demo/core/uncertainty.py flag. About a minute on 2 shared cores.

    .venv/bin/python -m bench.uncertainty [--model models/minilm-sentiment] [--threads 1]
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from recipe.corpora import write_corpora
from recipe.evaluate import Inputs, evaluation_sets
from sentiment_demo.backends.torch_device import cpu_supports_bf16
from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import DEFAULT_MODEL, Settings
from sentiment_demo.core.classifier import Prediction
from sentiment_demo.core.engine import BatchEngine
from sentiment_demo.core.uncertainty import CLOSE_MARGIN, LOW_TOP, uncertainty

MARGIN_BINS = (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.01)
TOP_BINS = (0.0, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def margin(prediction: Prediction) -> float:
    """Top probability minus the runner-up's."""
    scores = prediction.scores
    return scores[0].score - (scores[1].score if len(scores) > 1 else 0.0)


def table(
    title: str, values: Sequence[float], right: Sequence[bool], edges: Sequence[float]
) -> None:
    """Accuracy per bin of `values`, as a Markdown table."""
    print(f"\n| {title} | texts | share | accuracy |\n|---|---:|---:|---:|")
    for low, high in itertools.pairwise(edges):
        inside = [r for v, r in zip(values, right, strict=True) if low <= v < high]
        if inside:
            print(
                f"| {low:.2f}-{min(high, 1.0):.2f} | {len(inside):,} | "
                f"{len(inside) / len(values):.1%} | {sum(inside) / len(inside):.1%} |"
            )


def main(argv: list[str] | None = None) -> None:
    """Measure and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args(argv)
    model_dir = Path(args.model)
    training = json.loads((model_dir / "training.json").read_text())
    recorded = json.loads((model_dir / "evaluation.json").read_text())["sets"]
    with tempfile.TemporaryDirectory() as work:
        data = Path(work)
        write_corpora(data, None)
        inputs = Inputs([str(data / Path(p).name) for p in training["data"]], [], None)
        sets = evaluation_sets(training, data / "datasets", inputs)
    settings = Settings(
        model=str(model_dir),
        dtype=args.dtype,
        device="cpu",
        num_threads=args.threads,
        max_batch_size=64,
        warmup=False,
        max_text_chars=1_000_000,
    )
    classifier, info = load_classifier(settings)
    engine = BatchEngine(classifier, settings.max_text_chars)
    print(
        f"{model_dir.name}, {info.dtype}, {args.threads} thread(s), "
        f"cpu_supports_bf16={cpu_supports_bf16()}"
    )
    margins: list[float] = []
    tops: list[float] = []
    right: list[bool] = []
    flagged: list[bool] = []
    for labelled in sets:
        digest = hashlib.sha256("\n".join(labelled.texts).encode()).hexdigest()[:16]
        same = recorded.get(labelled.name, {}).get("texts_sha256") == digest
        outcomes = [o for o in engine.classify(labelled.texts) if isinstance(o, Prediction)]
        correct = [o.label == gold for o, gold in zip(outcomes, labelled.labels, strict=True)]
        print(
            f"{labelled.name}: {len(outcomes):,} texts (same as evaluation.json: {same}), "
            f"accuracy {sum(correct) / len(correct):.1%}"
        )
        margins += [margin(o) for o in outcomes]
        tops += [o.score for o in outcomes]
        right += correct
        flagged += [uncertainty(o, info.scheme) is not None for o in outcomes]
    print(f"\nAll test texts: {len(right):,}, accuracy {sum(right) / len(right):.1%}")
    table("margin (top − second)", margins, right, MARGIN_BINS)
    table("top probability", tops, right, TOP_BINS)
    shown = [r for r, f in zip(right, flagged, strict=True) if f]
    clear = [r for r, f in zip(right, flagged, strict=True) if not f]
    print(
        f"\nFlagged uncertain (margin < {CLOSE_MARGIN:.2f} or top < {LOW_TOP:.2f}): "
        f"{len(shown):,} texts ({len(shown) / len(right):.1%}), accuracy "
        f"{sum(shown) / max(1, len(shown)):.1%}; the rest: {sum(clear) / max(1, len(clear)):.1%}"
    )


if __name__ == "__main__":
    main()
