"""When a prediction is a close call: the one rule Analyse, Compare, Batch and the sentence view share.

The thresholds were measured on the embedded model's held-out test texts (bench/uncertainty.py; figures
in the README): below them accuracy falls towards chance. Only probabilities can be read this way: a
regression value and VADER's strengths are never called uncertain here. Stdlib only.
"""

from __future__ import annotations

from sentiment_demo.core.classifier import ModelInfo, Prediction, Scheme
from sentiment_demo.core.schemes import MULTI_LABEL_THRESHOLD

# Single-label: a top label less than this many probability points ahead of the runner-up.
CLOSE_MARGIN = 0.2
# Single-label: a top probability under this, whatever the margin (many labels, none strong).
LOW_TOP = 0.5
# Multi-label: a label this close to the 0.5 cut-off could fall either side of it.
MULTI_LABEL_BAND = 0.1


def scores_are_probabilities(info: ModelInfo) -> bool:
    """True when a model's scores are probabilities: not a regression value, not VADER's strengths."""
    return info.scheme != "regression" and info.backend != "vader"


def uncertainty(prediction: Prediction, scheme: Scheme) -> str | None:
    """Why `prediction` is a close call, in a few words for a table cell or a notice; None when clear.

    Args:
        prediction: the model's scores, highest first.
        scheme: how they are read; regression values are never called uncertain.
    """
    if scheme == "regression" or not prediction.scores:
        return None
    if scheme == "multi_label":
        near = [
            s for s in prediction.scores if abs(s.score - MULTI_LABEL_THRESHOLD) < MULTI_LABEL_BAND
        ]
        if not near:
            return None
        named = ", ".join(f"{s.label} {s.score:.0%}" for s in near)
        return f"close to the {MULTI_LABEL_THRESHOLD:.0%} cut-off: {named}"
    top = prediction.scores[0]
    if len(prediction.scores) > 1:
        second = prediction.scores[1]
        if top.score - second.score < CLOSE_MARGIN:
            return (
                f"close call: {top.label} {top.score:.0%} against {second.label} "
                f"{second.score:.0%} (under {CLOSE_MARGIN:.0%} apart)"
            )
    if top.score < LOW_TOP:
        return f"low confidence: {top.label} only {top.score:.0%} (under {LOW_TOP:.0%})"
    return None
