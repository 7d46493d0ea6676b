"""One evaluation run on a user's labelled file, per model, and the tables and JSON made from it.

Per model: the mapped gold labels, its predictions and `scoring.score`'s figures, plus the tables and
JSON the Evaluate tab shows and offers for download.

Rows are never dropped silently: a row whose label maps to nothing for a model, or whose text the model
refused, is counted and named per model. It knows nothing about Gradio or torch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from sentiment_demo.core.classifier import Outcome, Prediction
from sentiment_demo.evaluation.scoring import Scores, score


@dataclass(frozen=True)
class ModelEvaluation:
    """How one model did on the file."""

    model: str
    labels: tuple[str, ...]
    scores: Scores | None  # None when no row could be scored
    gold: tuple[str, ...]  # per file row: the model label it maps to, or ""
    predicted: tuple[str, ...]  # per file row: the model's label, or "" when it refused the text
    confidence: tuple[float | None, ...]
    unmapped: dict[str, int]  # file value → rows left out because it maps to no label
    refused: int
    # False for scores that are not probabilities (VADER's strengths, a regression value): they
    # are left out of calibration (ECE and the reliability diagram).
    probabilities: bool = True

    @property
    def scored_rows(self) -> list[int]:
        """Indexes of the rows in the figures: mapped and answered."""
        return _scored_rows(self.gold, self.predicted)


def _scored_rows(gold: Sequence[str], predicted: Sequence[str]) -> list[int]:
    return [i for i, (g, p) in enumerate(zip(gold, predicted, strict=True)) if g and p]


def evaluate_model(
    model: str,
    labels: Sequence[str],
    values: Sequence[str],
    mapping: dict[str, str],
    outcomes: Sequence[Outcome],
    probabilities: bool = True,
) -> ModelEvaluation:
    """Map each row's file value to the model's label and score the rows that have both."""
    gold = tuple(mapping.get(value, "") for value in values)
    predicted = tuple(o.label if isinstance(o, Prediction) else "" for o in outcomes)
    confidence = tuple(o.score if isinstance(o, Prediction) else None for o in outcomes)
    unmapped = Counter(value for value, g in zip(values, gold, strict=True) if not g)
    refused = sum(1 for g, p in zip(gold, predicted, strict=True) if g and not p)
    rows = _scored_rows(gold, predicted)
    scores = (
        score(
            [gold[i] for i in rows],
            [predicted[i] for i in rows],
            [float(confidence[i] or 0.0) for i in rows],
            labels,
        )
        if rows
        else None
    )
    return ModelEvaluation(
        model,
        tuple(labels),
        scores,
        gold,
        predicted,
        confidence,
        dict(unmapped),
        refused,
        probabilities,
    )


NOT_PROBABILITIES = "not computed: its scores are not probabilities"
# Fewer scored rows than this get a warning: at 100 texts a 95% interval of accuracy is still
# about ±9 points wide.
FEW_ROWS = 100


def interval_text(interval: tuple[float, float] | None) -> str:
    """The interval as "0.812 to 0.901", or "" when there is none."""
    return "" if interval is None else f"{interval[0]:.3f} to {interval[1]:.3f}"


METRICS_COLUMNS = (
    "model",
    "texts scored",
    "accuracy",
    "accuracy 95% interval (Wilson)",
    "macro-F1",
    "macro-F1 95% interval (bootstrap)",
    "calibration error (ECE)",
    "rows with an unmapped label",
    "texts refused",
)
PER_CLASS_COLUMNS = ("model", "label", "precision", "recall", "F1", "support")
MISTAKES_COLUMNS = ("model", "line", "text", "true label", "predicted", "confidence")


def metrics_table(evaluations: Sequence[ModelEvaluation]) -> pd.DataFrame:
    """A row per model: texts scored, accuracy, macro-F1, calibration error, rows left out."""
    records = []
    for e in evaluations:
        s = e.scores
        records.append(
            {
                "model": e.model,
                "texts scored": s.size if s else 0,
                "accuracy": round(s.accuracy, 4) if s else None,
                "accuracy 95% interval (Wilson)": interval_text(s.accuracy_interval) if s else "",
                "macro-F1": round(s.macro_f1, 4) if s else None,
                "macro-F1 95% interval (bootstrap)": (
                    interval_text(s.macro_f1_interval) if s else ""
                ),
                "calibration error (ECE)": (
                    round(s.expected_calibration_error, 4) if s and e.probabilities else None
                ),
                "rows with an unmapped label": sum(e.unmapped.values()),
                "texts refused": e.refused,
            }
        )
    return pd.DataFrame.from_records(records, columns=list(METRICS_COLUMNS))


def per_class_table(evaluations: Sequence[ModelEvaluation]) -> pd.DataFrame:
    """A row per model and label: precision, recall, F1 and support."""
    records = [
        {
            "model": e.model,
            "label": c.label,
            "precision": round(c.precision, 4),
            "recall": round(c.recall, 4),
            "F1": round(c.f1, 4),
            "support": c.support,
        }
        for e in evaluations
        if e.scores
        for c in e.scores.per_class
    ]
    return pd.DataFrame.from_records(records, columns=list(PER_CLASS_COLUMNS))


def mistakes_table(
    evaluations: Sequence[ModelEvaluation], texts: Sequence[str], lines: Sequence[int]
) -> pd.DataFrame:
    """Every wrong prediction of every model, the most confident first."""
    records = [
        {
            "model": e.model,
            "line": lines[i],
            "text": texts[i],
            "true label": e.gold[i],
            "predicted": e.predicted[i],
            "confidence": round(float(e.confidence[i] or 0.0), 4),
        }
        for e in evaluations
        for i in e.scored_rows
        if e.gold[i] != e.predicted[i]
    ]
    table = pd.DataFrame.from_records(records, columns=list(MISTAKES_COLUMNS))
    return table.sort_values("confidence", ascending=False, kind="stable").reset_index(drop=True)


ALL_MODELS = "all models"


def filter_mistakes(mistakes: pd.DataFrame | None, model: str | None) -> pd.DataFrame:
    """The mistakes of one model (all of them for ALL_MODELS or None), in the same order."""
    if mistakes is None or len(mistakes) == 0:
        return pd.DataFrame(columns=list(MISTAKES_COLUMNS))
    if not model or model == ALL_MODELS:
        return mistakes.reset_index(drop=True)
    return mistakes[mistakes["model"] == model].reset_index(drop=True)


def predictions_table(
    evaluations: Sequence[ModelEvaluation],
    texts: Sequence[str],
    values: Sequence[str],
    lines: Sequence[int],
) -> pd.DataFrame:
    """Every row of the file with each model's gold label, prediction, confidence and correctness."""
    table = pd.DataFrame({"line": list(lines), "text": list(texts), "label in file": list(values)})
    for e in evaluations:
        table[f"true label ({e.model})"] = list(e.gold)
        table[f"predicted ({e.model})"] = list(e.predicted)
        table[f"confidence ({e.model})"] = [
            None if c is None else round(c, 4) for c in e.confidence
        ]
        table[f"correct ({e.model})"] = [
            (g == p) if g and p else None for g, p in zip(e.gold, e.predicted, strict=True)
        ]
    return table


def metrics_json(
    evaluations: Sequence[ModelEvaluation], source: str, mappings: dict[str, dict[str, str]]
) -> dict[str, object]:
    """The whole report's figures, as the download and the API give them."""
    return {
        "file": source,
        "models": {
            e.model: {
                "label_mapping": mappings.get(e.model, {}),
                "rows_with_unmapped_label": e.unmapped,
                "texts_refused": e.refused,
                **(_figures(e) if e.scores else {"texts": 0}),
            }
            for e in evaluations
        },
    }


def _figures(evaluation: ModelEvaluation) -> dict[str, object]:
    assert evaluation.scores is not None
    figures = evaluation.scores.as_dict()
    if not evaluation.probabilities:
        figures["expected_calibration_error"] = None
        figures["reliability"] = NOT_PROBABILITIES
    return figures
