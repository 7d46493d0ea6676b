"""The Evaluate tab's figures: confusion matrices (scikit-learn's display) and a reliability diagram.

Axes run from zero and every cell and bin carries its count.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")  # no display on a server; must precede pyplot

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay

from sentiment_demo.evaluation_report import ModelEvaluation


def confusion_figure(evaluations: Sequence[ModelEvaluation]) -> Figure | None:
    """One confusion matrix per scored model, side by side (rows: true label, columns: predicted)."""
    scored = [e for e in evaluations if e.scores]
    if not scored:
        return None
    figure, axes = plt.subplots(
        1, len(scored), figsize=(4.2 * len(scored), 4.0), squeeze=False, layout="constrained"
    )
    for axis, evaluation in zip(axes[0], scored, strict=True):
        assert evaluation.scores is not None
        display = ConfusionMatrixDisplay(
            confusion_matrix=np.array(evaluation.scores.confusion),
            display_labels=list(evaluation.scores.labels),
        )
        display.plot(ax=axis, cmap="Blues", colorbar=False, values_format="d")
        axis.set_title(
            f"{evaluation.model}\naccuracy {evaluation.scores.accuracy:.1%}", fontsize=10
        )
        axis.set_xlabel("predicted label")
        axis.set_ylabel("true label")
        plt.setp(axis.get_xticklabels(), rotation=30, ha="right")
    plt.close(figure)
    return figure


def reliability_figure(evaluations: Sequence[ModelEvaluation]) -> Figure | None:
    """Accuracy against mean confidence per bin, a line per model, beside the perfect diagonal."""
    scored = [e for e in evaluations if e.scores]
    if not scored:
        return None
    figure, axis = plt.subplots(figsize=(6.0, 4.6), layout="constrained")
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    for evaluation in scored:
        assert evaluation.scores is not None
        bins = evaluation.scores.reliability
        axis.plot(
            [b.confidence for b in bins],
            [b.accuracy for b in bins],
            marker="o",
            label=f"{evaluation.model} (ECE {evaluation.scores.expected_calibration_error:.3f})",
        )
        for b in bins:
            axis.annotate(
                f"{b.count}",
                (b.confidence, b.accuracy),
                textcoords="offset points",
                xytext=(4, -10),
                fontsize=7,
                color="dimgrey",
            )
    axis.set_xlim(0, 1)
    axis.set_ylim(0, 1.02)
    axis.set_xlabel("confidence (mean score of the predicted label, per bin of width 0.1)")
    axis.set_ylabel("accuracy in the bin")
    axis.set_title(
        "Reliability: is a 0.8 score right 80% of the time? (numbers: texts per bin)", fontsize=10
    )
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize=8)
    plt.close(figure)
    return figure
