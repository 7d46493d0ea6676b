"""The Batch tab's report, as plain functions: the results table, the comparison table, the counts, the summary.

No Gradio here: the tab (batch_tab.py) wires these to its components, and tests call them directly.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pandas as pd

from sentiment_demo.core.classifier import Outcome, Prediction, Rejection, Scheme
from sentiment_demo.core.schemes import MULTI_LABEL_THRESHOLD, read
from sentiment_demo.core.served_model import ServedModel
from sentiment_demo.core.uncertainty import scores_are_probabilities, uncertainty
from sentiment_demo.inputs.batch_input import BatchInput
from sentiment_demo.ui.answer import vader_compound
from sentiment_demo.ui.common import describe

CHART_TITLES = {
    "single_label": "Label distribution",
    "multi_label": f"Texts with each label over {MULTI_LABEL_THRESHOLD} (a text can count for several)",
    "regression": "Distribution of the predicted values",
}


AGREEMENT_TITLE = "how often the models agree (texts with the same label)"


RESULT_COLUMNS = ("row", "label", "score", "uncertain", "text", "note")


def results_table(
    batch: BatchInput,
    outcomes: Sequence[Outcome],
    labels: Sequence[str],
    scheme: Scheme = "single_label",
    probabilities: bool = True,
    strengths: bool = False,
) -> pd.DataFrame:
    """Row, label, score, uncertain, text, every label's score, the file's other columns, a note.

    The label columns come first, so that a phone shows them before the text. The label column
    holds the top label (single-label), every label over the threshold (multi-label), or the
    output's name with its value in the score column (regression). "uncertain" says why a call is
    close (core.uncertainty); it stays empty for scores that are not probabilities
    (`probabilities=False`: VADER, regression). With `strengths` (VADER) the score is its compound
    score (-1 to +1) and the per-label columns stay empty: its strengths are not probabilities.
    """
    records = []
    for index, (row, text, outcome) in enumerate(
        zip(batch.rows, batch.texts, outcomes, strict=True)
    ):
        record: dict[str, Any] = {"row": row}
        if isinstance(outcome, Prediction):
            scores = outcome.as_dict()
            reading = read(outcome, scheme)
            shown = reading.labels[0] if scheme == "regression" else reading.text
            score = vader_compound(outcome) if strengths else reading.score
            record |= {"label": shown, "score": round(score, 4)}
            record["uncertain"] = (uncertainty(outcome, scheme) if probabilities else None) or ""
            record["text"] = text
            record |= {
                f"score_{label}": None if strengths else round(scores[label], 4) for label in labels
            }
        else:
            record |= {"label": "", "score": None, "uncertain": "", "text": text}
            record |= {f"score_{label}": None for label in labels}
        record |= _other_values(batch, index)
        record["note"] = describe(outcome)
        records.append(record)
    columns = [
        "row",
        "label",
        "score",
        "uncertain",
        "text",
        *[f"score_{label}" for label in labels],
        *_other_names(batch),
        "note",
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def _other_names(batch: BatchInput) -> list[str]:
    """The file's other columns, renamed "<name> (file)" where a name is one of the results'."""
    return [
        f"{name} (file)" if name in RESULT_COLUMNS or name.startswith("score") else name
        for name in batch.other_columns
    ]


def _other_values(batch: BatchInput, index: int) -> dict[str, str]:
    return {
        shown: values[index]
        for shown, values in zip(_other_names(batch), batch.other_columns.values(), strict=True)
    }


def comparison_table(
    batch: BatchInput, models: Sequence[ServedModel], outcomes: Sequence[Sequence[Outcome]]
) -> pd.DataFrame:
    """A row per text: a label, score and uncertain column per model, then whether they agree.

    Then the text, every label's score per model (`score_<label> (<model>)`), the file's other
    columns and the notes.
    """
    records = []
    for index, (row, text) in enumerate(zip(batch.rows, batch.texts, strict=True)):
        record: dict[str, Any] = {"row": row}
        scores: dict[str, Any] = {}
        answers: list[str] = []
        notes: list[str] = []
        for model, model_outcomes in zip(models, outcomes, strict=True):
            outcome = model_outcomes[index]
            scheme = model.info.scheme
            if isinstance(outcome, Prediction):
                reading = read(outcome, scheme)
                record[f"label ({model.name})"] = reading.text
                strengths = model.info.backend == "vader"
                score = vader_compound(outcome) if strengths else reading.score
                record[f"score ({model.name})"] = round(score, 4)
                why = uncertainty(outcome, scheme) if scores_are_probabilities(model.info) else None
                record[f"uncertain ({model.name})"] = why or ""
                answers.append(reading.text.lower())
                every = outcome.as_dict()
                scores |= {
                    f"score_{label} ({model.name})": None if strengths else round(every[label], 4)
                    for label in model.labels
                }
            else:
                record[f"label ({model.name})"] = ""
                record[f"score ({model.name})"] = None
                record[f"uncertain ({model.name})"] = ""
                scores |= {f"score_{label} ({model.name})": None for label in model.labels}
            if describe(outcome):
                notes.append(f"{model.name}: {describe(outcome)}")
        answered = len(answers) == len(models)
        record["agreement"] = (
            ("all agree" if len(set(answers)) == 1 else "disagree") if answered else ""
        )
        record["text"] = text
        record |= scores
        record |= _other_values(batch, index)
        record["note"] = " ".join(notes)
        records.append(record)
    return pd.DataFrame.from_records(records)


def label_counts_per_model(table: pd.DataFrame, models: Sequence[ServedModel]) -> pd.DataFrame:
    """Texts per label for each model, from a comparison table: columns model, label, texts.

    Every label of every model is listed, zero included; regression models are binned as in
    `label_counts`.
    """
    frames = []
    for model in models:
        own = pd.DataFrame(
            {"label": table[f"label ({model.name})"], "score": table[f"score ({model.name})"]}
        )
        for label in model.labels:
            own[f"score_{label}"] = table[f"score_{label} ({model.name})"]
        counts = label_counts(own, model.labels, model.info.scheme)
        # Each bar named by its model too: two models with the same count would share a bar.
        counts["label"] = model.name + ": " + counts["label"]
        counts.insert(0, "model", model.name)
        frames.append(counts)
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def agreement_counts(table: pd.DataFrame, models: Sequence[ServedModel]) -> pd.DataFrame:
    """Texts on which all models agree, on which they do not, and (for 3+) each pair: counts from 0."""
    answered = table[table["agreement"] != ""]
    total = len(answered)
    agreed = int((answered["agreement"] == "all agree").sum())
    everyone = "both agree" if len(models) == 2 else f"all {len(models)} agree"
    rows = [
        (everyone, agreed),
        ("disagree" if len(models) == 2 else "not all agree", total - agreed),
    ]
    if len(models) > 2:
        for a, b in itertools.combinations(models, 2):
            first = answered[f"label ({a.name})"].str.lower()
            same = first == answered[f"label ({b.name})"].str.lower()
            rows.append((f"{a.name} = {b.name}", int(same.sum())))
    return pd.DataFrame(
        [{"label": f"{name}: {count:,} of {total:,}", "texts": count} for name, count in rows],
        columns=["label", "texts"],
    )


def label_counts(
    table: pd.DataFrame, labels: Sequence[str], scheme: Scheme = "single_label"
) -> pd.DataFrame:
    """Texts per label (every label listed, zero included) or per value range, plus refused texts."""
    refused = int((table["label"] == "").sum())
    answered = table[table["label"] != ""]
    if scheme == "regression":
        values = answered["score"].astype(float)
        bins = pd.cut(values, bins=min(8, max(1, values.nunique()))) if len(values) else []
        counts = Counter(bins)
        # Enough decimals that neighbouring ranges never print the same.
        width = min((b.length for b in counts), default=1.0)
        decimals = max(0, 1 - math.floor(math.log10(width))) if width > 0 else 3
        rows = [
            {"label": f"{b.left:.{decimals}f} to {b.right:.{decimals}f}", "texts": counts[b]}
            for b in sorted(counts, key=lambda b: b.left)
        ]
    elif scheme == "multi_label":
        rows = [
            {
                "label": label,
                "texts": int((answered[f"score_{label}"] > MULTI_LABEL_THRESHOLD).sum()),
            }
            for label in labels
        ]
    else:
        counts = Counter(answered["label"])
        rows = [{"label": label, "texts": counts.get(label, 0)} for label in labels]
    if refused:
        rows.append({"label": "refused", "texts": refused})
    # The count is in each bar's name too: the bars carry their values, whatever the chart's width.
    return pd.DataFrame(
        [{"label": f"{r['label']} ({r['texts']:,})", "texts": r["texts"]} for r in rows],
        columns=["label", "texts"],
    )


def batch_summary(batch: BatchInput, outcomes: Sequence[Outcome]) -> str:
    """One status line: how many texts, from where, and what happened to them."""
    failed = sum(isinstance(o, Rejection) and o.model_error for o in outcomes)
    refused = sum(isinstance(o, Rejection) for o in outcomes) - failed
    truncated = sum(isinstance(o, Prediction) and o.truncated for o in outcomes)
    parts = [
        f"Analysed {len(outcomes) - refused - failed:,} of {len(outcomes):,} texts from "
        f"{batch.source}."
    ]
    if refused:
        parts.append(f"{refused:,} refused (see the note column).")
    if failed:
        parts.append(f"{failed:,} could not be processed by the model (see the note column).")
    if truncated:
        parts.append(f"{truncated:,} truncated.")
    if batch.skipped_blank_lines:
        parts.append(f"{batch.skipped_blank_lines:,} blank lines skipped.")
    if batch.column_warning:
        parts.append(f"Note: {batch.column_warning}")
    return " ".join(parts)
