"""Metrics of a classifier on labelled texts, shared by the Evaluate tab, the API and model cards.

The one implementation behind the Evaluate tab, the `evaluate` API and the recipe's model cards, so
they agree to the last digit on the same data.

It takes gold labels, predicted labels and confidences (plain lists) and knows nothing about models.
Accuracy, F1 and the confusion matrix come from scikit-learn; calibration is the usual binned expected
calibration error over the top label's confidence. The 95% intervals: Wilson's score interval for
accuracy (scipy's binomtest), and a percentile bootstrap for macro-F1 (scipy's bootstrap, 2,000
resamples of the texts, seed 0, so the same file gives the same interval).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest, bootstrap
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

CALIBRATION_BINS = 10
CONFIDENCE_LEVEL = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0
INTERVAL_METHODS = (
    "95% intervals: Wilson score interval for accuracy; percentile bootstrap for macro-F1 "
    f"({BOOTSTRAP_RESAMPLES:,} resamples of the texts, seed {BOOTSTRAP_SEED})"
)
Interval = tuple[float, float]


@dataclass(frozen=True)
class ClassFigures:
    """Precision, recall, F1 and support of one label."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class ReliabilityBin:
    """Texts whose confidence fell in [low, high): how many, mean confidence, and accuracy."""

    low: float
    high: float
    count: int
    confidence: float
    accuracy: float


@dataclass(frozen=True)
class Scores:
    """Everything measured on one labelled set."""

    size: int
    accuracy: float
    macro_f1: float
    per_class: tuple[ClassFigures, ...]
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]  # rows: true label, columns: predicted label
    expected_calibration_error: float
    reliability: tuple[ReliabilityBin, ...]
    accuracy_interval: Interval | None = None  # 95%, Wilson
    macro_f1_interval: Interval | None = None  # 95%, percentile bootstrap; None under 2 texts

    def as_dict(self) -> dict[str, object]:
        """JSON-ready figures, rounded to 4 decimals."""
        return {
            "texts": self.size,
            "accuracy": round(self.accuracy, 4),
            "accuracy_95ci": _rounded(self.accuracy_interval),
            "macro_f1": round(self.macro_f1, 4),
            "macro_f1_95ci": _rounded(self.macro_f1_interval),
            "interval_methods": INTERVAL_METHODS,
            "expected_calibration_error": round(self.expected_calibration_error, 4),
            "per_class": {
                c.label: {
                    "precision": round(c.precision, 4),
                    "recall": round(c.recall, 4),
                    "f1": round(c.f1, 4),
                    "support": c.support,
                }
                for c in self.per_class
            },
            "confusion_matrix": {
                "labels": list(self.labels),
                "rows_true_columns_predicted": [list(row) for row in self.confusion],
            },
            "reliability": [
                {
                    "confidence_from": b.low,
                    "confidence_to": b.high,
                    "texts": b.count,
                    "mean_confidence": round(b.confidence, 4),
                    "accuracy": round(b.accuracy, 4),
                }
                for b in self.reliability
            ],
        }


def score(
    gold: Sequence[str],
    predicted: Sequence[str],
    confidence: Sequence[float],
    labels: Sequence[str],
) -> Scores:
    """Measure predictions against gold labels.

    Args:
        gold: the true label of each text.
        predicted: the model's label of each text.
        confidence: the model's score for its predicted label, in [0, 1].
        labels: every label, in display order (gold and predicted labels outside it still count as
            errors in accuracy, and appear in the confusion matrix after these).
    """
    if not gold:
        raise ValueError("no texts to score")
    names = list(labels) + sorted((set(gold) | set(predicted)) - set(labels))
    accuracy = float(accuracy_score(gold, predicted))
    # Macro-F1 over the labels the data actually has, so a label nobody used does not count as 0.
    present = [name for name in names if name in set(gold)]
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, predicted, labels=present, zero_division=0
    )
    per_class = tuple(
        ClassFigures(name, float(p), float(r), float(f), int(s))
        for name, p, r, f, s in zip(present, precision, recall, f1, support, strict=True)
    )
    matrix = confusion_matrix(gold, predicted, labels=names)
    correct = np.asarray(gold, dtype=object) == np.asarray(predicted, dtype=object)
    bins, ece = reliability(np.asarray(confidence, dtype=float), correct)
    return Scores(
        accuracy_interval=accuracy_interval(int(correct.sum()), len(gold)),
        macro_f1_interval=macro_f1_interval(gold, predicted, present),
        size=len(gold),
        accuracy=accuracy,
        macro_f1=float(np.mean(f1)) if len(f1) else 0.0,
        per_class=per_class,
        labels=tuple(names),
        confusion=tuple(tuple(int(v) for v in row) for row in matrix),
        expected_calibration_error=ece,
        reliability=bins,
    )


def reliability(
    confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS
) -> tuple[tuple[ReliabilityBin, ...], float]:
    """Equal-width confidence bins and the expected calibration error (bin-size weighted |acc - conf|)."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    # The last bin is closed so that a confidence of exactly 1.0 counts.
    index = np.clip(np.digitize(confidence, edges[1:-1], right=False), 0, bins - 1)
    table = []
    ece = 0.0
    for b in range(bins):
        members = index == b
        count = int(members.sum())
        if count == 0:
            continue
        mean_confidence = float(confidence[members].mean())
        accuracy = float(correct[members].mean())
        ece += count / len(confidence) * abs(accuracy - mean_confidence)
        table.append(
            ReliabilityBin(
                round(float(edges[b]), 2),
                round(float(edges[b + 1]), 2),
                count,
                mean_confidence,
                accuracy,
            )
        )
    return tuple(table), ece


def _rounded(interval: Interval | None) -> list[float] | None:
    return None if interval is None else [round(interval[0], 4), round(interval[1], 4)]


def accuracy_interval(correct: int, total: int) -> Interval:
    """The 95% Wilson score interval of an accuracy of `correct` out of `total`."""
    found = binomtest(correct, total).proportion_ci(CONFIDENCE_LEVEL, method="wilson")
    return float(found.low), float(found.high)


def macro_f1_interval(
    gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]
) -> Interval | None:
    """The 95% percentile-bootstrap interval of macro-F1 over `labels`; None under 2 texts.

    Texts are resampled with their predictions (paired); each resample's macro-F1 is computed as
    scikit-learn's f1_score(average="macro", zero_division=0) does, from counts, for speed.
    """
    if len(gold) < 2:
        return None
    index = {label: i for i, label in enumerate(labels)}
    # Labels outside `labels` (a prediction no gold row has) count as errors only: code -1.
    true = np.array([index.get(g, -1) for g in gold])
    guess = np.array([index.get(p, -1) for p in predicted])
    codes = np.arange(len(labels))

    def macro_f1(t: np.ndarray, g: np.ndarray, axis: int = -1) -> np.ndarray:
        t, g = np.moveaxis(t, axis, -1)[..., None], np.moveaxis(g, axis, -1)[..., None]
        hits = ((t == codes) & (g == codes)).sum(axis=-2)
        both = (t == codes).sum(axis=-2) + (g == codes).sum(axis=-2)
        f1 = np.divide(2 * hits, both, out=np.zeros(hits.shape, dtype=float), where=both > 0)
        return np.asarray(f1.mean(axis=-1))

    result = bootstrap(
        (true, guess),
        macro_f1,
        paired=True,
        vectorized=True,
        batch=100,  # resamples at once: bounds memory to about 100 x texts x labels bytes
        n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=CONFIDENCE_LEVEL,
        method="percentile",
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    low, high = float(result.confidence_interval.low), float(result.confidence_interval.high)
    if np.isnan(low) or np.isnan(high):  # every resample the same: no spread to measure
        value = float(macro_f1(true, guess))
        return value, value
    return low, high
