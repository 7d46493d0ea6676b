"""Label schemes: how a model's outputs are to be read, and the one-line reading of a prediction.

A model's config decides its scheme, as the transformers pipeline does: softmax over two or more labels
(single-label), independent sigmoids (multi-label, or one output scored as a probability), or the raw
value of one output (regression). The UI, the Batch table, the CSV and the explanations all read
predictions through this module, so a multi-label model is never shown as having "the" label and a
regression value is never shown as a probability. Stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sentiment_demo.core.classifier import Prediction, Scheme

# Multi-label models are trained with a sigmoid per label; 0.5 is the decision point they are trained for.
MULTI_LABEL_THRESHOLD = 0.5
GENERIC_LABEL = re.compile(r"LABEL_\d+")

SCHEME_DESCRIPTIONS: dict[str, str] = {
    "single_label": "single-label: softmax scores that sum to 1; the top label is the prediction",
    "multi_label": (
        f"multi-label: each label's score is an independent probability; every label over "
        f"{MULTI_LABEL_THRESHOLD} applies"
    ),
    "regression": "regression: one output value (not a probability), shown as it is",
}


def scheme_for(num_labels: int, problem_type: str | None) -> Scheme:
    """The scheme of a model config, by the text-classification pipeline's rule.

    One output is a probability (sigmoid) unless the config says regression; several outputs are
    softmax unless the config says multi-label.
    """
    if problem_type == "regression":
        return "regression"
    if problem_type == "multi_label_classification" or num_labels == 1:
        return "multi_label"
    return "single_label"


def has_generic_names(labels: Sequence[str]) -> bool:
    """True when every label is a placeholder like LABEL_0: the config has no id2label names."""
    return bool(labels) and all(GENERIC_LABEL.fullmatch(label) for label in labels)


@dataclass(frozen=True)
class Reading:
    """A prediction read through its scheme.

    Attributes:
        labels: the labels that apply: the top one (single-label), those over the threshold
            (multi-label, possibly none), or the output's name (regression).
        score: the top probability, or the regression value.
        text: one short line for a table cell or a headline, e.g. "joy, optimism" or "stars = 3.71".
    """

    labels: tuple[str, ...]
    score: float
    text: str


def read(prediction: Prediction, scheme: Scheme) -> Reading:
    """Read one prediction through `scheme`."""
    top = prediction.scores[0]
    if scheme == "regression":
        return Reading((top.label,), top.score, f"{top.label} = {top.score:.3f}")
    if scheme == "multi_label":
        passing = tuple(s.label for s in prediction.scores if s.score > MULTI_LABEL_THRESHOLD)
        text = ", ".join(passing) if passing else f"none over {MULTI_LABEL_THRESHOLD}"
        return Reading(passing, top.score, text)
    return Reading((top.label,), top.score, top.label)
