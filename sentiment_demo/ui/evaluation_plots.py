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
from matplotlib.layout_engine import ConstrainedLayoutEngine
from sklearn.metrics import ConfusionMatrixDisplay

from sentiment_demo.evaluation.report import ModelEvaluation


def _room_for_the_plot_label(figure: Figure) -> None:
    """Room above the titles for Gradio's plot label."""
    engine = figure.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine):
        engine.set(h_pad=0.3)


def confusion_figure(evaluations: Sequence[ModelEvaluation]) -> Figure | None:
    """One confusion matrix per scored model, side by side (rows: true label, columns: predicted)."""
    scored = [e for e in evaluations if e.scores]
    if not scored:
        return None
    figure, axes = plt.subplots(
        1, len(scored), figsize=(4.2 * len(scored), 4.6), squeeze=False, layout="constrained"
    )
    figure.suptitle("Confusion matrix (rows: true label, columns: predicted)", fontsize=12)
    _room_for_the_plot_label(figure)
    for axis, evaluation in zip(axes[0], scored, strict=True):
        assert evaluation.scores is not None
        display = ConfusionMatrixDisplay(
            confusion_matrix=np.array(evaluation.scores.confusion),
            display_labels=list(evaluation.scores.labels),
        )
        # Large type: on a phone the whole figure is drawn about 350 px wide.
        display.plot(
            ax=axis, cmap="Blues", colorbar=False, values_format="d", text_kw={"fontsize": 16}
        )
        axis.set_title(
            f"{evaluation.model}\naccuracy {evaluation.scores.accuracy:.1%}", fontsize=13
        )
        axis.set_xlabel("predicted label", fontsize=12)
        axis.set_ylabel("true label", fontsize=12)
        axis.tick_params(labelsize=11)
        plt.setp(axis.get_xticklabels(), rotation=30, ha="right")
    plt.close(figure)
    return figure


def reliability_figure(evaluations: Sequence[ModelEvaluation]) -> Figure | None:
    """Accuracy against mean confidence per bin, a line per model, beside the perfect diagonal.

    Models whose scores are not probabilities (VADER, regression) are left out, and the figure says so.
    """
    scored = [e for e in evaluations if e.scores and e.probabilities]
    left_out = [e.model for e in evaluations if e.scores and not e.probabilities]
    if not scored:
        return None
    figure, axis = plt.subplots(figsize=(6.0, 4.8), layout="constrained")
    _room_for_the_plot_label(figure)
    axis.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect calibration")
    for evaluation in scored:
        assert evaluation.scores is not None
        bins = evaluation.scores.reliability
        total = sum(b.count for b in bins)
        # One point per confidence bin, its area proportional to the texts in it: a bin of two texts
        # should not look as certain as a bin of two hundred.
        points = axis.scatter(
            [b.confidence for b in bins],
            [b.accuracy for b in bins],
            s=[20 + 400 * b.count / total for b in bins],
            alpha=0.75,
            label=f"{evaluation.model} (ECE {evaluation.scores.expected_calibration_error:.3f})",
        )
        axis.plot(
            [b.confidence for b in bins],
            [b.accuracy for b in bins],
            color=points.get_facecolor()[0],
            alpha=0.35,
        )
        for b in bins:
            axis.annotate(
                f"{b.count}",
                (b.confidence, b.accuracy),
                textcoords="offset points",
                xytext=(6, -12),
                fontsize=7,
                color="dimgrey",
            )
    axis.set_xlim(0, 1.02)
    axis.set_ylim(0, 1.05)
    axis.set_xlabel("confidence: mean score of the predicted label in each bin of width 0.1")
    axis.set_ylabel("accuracy in the bin (numbers: texts in the bin)")
    axis.grid(alpha=0.3)
    axis.legend(loc="upper left", fontsize=8)
    title = "Reliability diagram"
    if left_out:
        title += f"\nnot shown: {', '.join(left_out)} (scores that are not probabilities)"
    axis.set_title(title, fontsize=10)
    plt.close(figure)
    return figure
