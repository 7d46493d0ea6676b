"""One evaluation run as plain functions: check the columns and the mapping, classify, score, summarise.

The Evaluate tab calls these and only lays the results out; tests call them with no server. Nothing
here knows about Gradio or torch: the models come as name, labels and a classify function.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sentiment_demo.core.classifier import Outcome
from sentiment_demo.errors import InputError
from sentiment_demo.evaluation.label_mapping import (
    AUTOMATIC,
    mapping_table,
    read_mapping,
    suggest_preset,
)
from sentiment_demo.evaluation.report import (
    FEW_ROWS,
    ModelEvaluation,
    evaluate_model,
    interval_text,
    metrics_json,
)
from sentiment_demo.evaluation.scoring import INTERVAL_METHODS
from sentiment_demo.inputs.labelled_input import (
    LabelledTable,
    default_label_column,
    default_text_column,
)

# More distinct values than this means the label column is probably the wrong one (free text, ids).
MAX_LABEL_VALUES = 50

ModelLabels = tuple[str, tuple[str, ...]]  # a served model's display name and its labels


@dataclass(frozen=True)
class EvaluationPlan:
    """What will be measured: the texts, their file labels, and each model's mapping of those labels."""

    table: LabelledTable
    text_column: str
    label_column: str
    texts: tuple[str, ...]
    values: tuple[str, ...]
    mappings: dict[str, dict[str, str]]  # model name → {file value: model label}
    preset: str = AUTOMATIC

    @property
    def blank_texts(self) -> int:
        """Rows with an empty text (every model refuses them)."""
        return sum(1 for text in self.texts if not text)


@dataclass(frozen=True)
class EvaluationRun:
    """Every model's evaluation on one file, and the metrics report that downloads as JSON."""

    plan: EvaluationPlan
    evaluations: tuple[ModelEvaluation, ...]
    report: dict[str, Any]


def label_rows(table: LabelledTable, label_column: str) -> list[tuple[str, int]]:
    """The label column's distinct values with their row counts, sorted.

    Raises:
        InputError: more than MAX_LABEL_VALUES values, so probably not a label column.
    """
    values = table.values(label_column)
    if len(values) > MAX_LABEL_VALUES:
        raise InputError(
            f"Column {label_column!r} of {table.name} has {len(values):,} different values; a "
            f"label column has at most {MAX_LABEL_VALUES}. Pick the column that holds the labels."
        )
    return sorted(values.items(), key=lambda item: item[0])


def mapping_rows(
    table: LabelledTable, label_column: str, preset: str, models: Sequence[ModelLabels]
) -> list[list[Any]]:
    """The editable mapping: [file value, rows, one model label per model] for each file value."""
    return mapping_table(label_rows(table, label_column), list(models), preset)


def plan_evaluation(
    table: LabelledTable,
    text_column: str | None,
    label_column: str | None,
    preset: str,
    mapping: Sequence[Sequence[Any]] | None,
    models: Sequence[ModelLabels],
) -> EvaluationPlan:
    """Check the columns and the mapping (from `preset` when none is given) before any model runs.

    Raises:
        InputError: a column the file lacks, or a mapping that names labels a model does not have.
    """
    text_column = text_column or default_text_column(table.columns)
    label_column = label_column or default_label_column(table.columns, text_column)
    for role, column in (("text", text_column), ("label", label_column)):
        if column not in table.columns:
            raise InputError(
                f"{table.name} has no column {column!r} (the {role} column); its columns "
                f"are {', '.join(map(repr, table.columns))}."
            )
    rows = list(mapping) if mapping else mapping_rows(table, label_column, preset, models)
    try:
        mappings = read_mapping(
            rows,
            [name for name, _ in models],
            [labels for _, labels in models],
            file_values=list(table.values(label_column)),
        )
    except ValueError as exc:
        raise InputError(f"Label mapping: {exc}.") from None
    return EvaluationPlan(
        table=table,
        text_column=text_column,
        label_column=label_column,
        texts=tuple(record.get(text_column, "").strip() for record in table.records),
        values=tuple(record.get(label_column, "").strip() for record in table.records),
        mappings=mappings,
        preset=preset,
    )


def run_evaluation(
    plan: EvaluationPlan,
    models: Sequence[ModelLabels],
    classify_all: Callable[[Sequence[str]], Sequence[Sequence[Outcome]]],
    not_probabilities: Collection[str] = (),
) -> EvaluationRun:
    """Classify the plan's texts with every model (`classify_all` gives one list per model) and score.

    Models named in `not_probabilities` (VADER, regression) are left out of calibration.
    """
    outcomes = classify_all(plan.texts)
    evaluations = tuple(
        evaluate_model(
            name,
            labels,
            plan.values,
            plan.mappings[name],
            model_outcomes,
            probabilities=name not in not_probabilities,
        )
        for (name, labels), model_outcomes in zip(models, outcomes, strict=True)
    )
    report = metrics_json(list(evaluations), plan.table.name, plan.mappings)
    return EvaluationRun(plan, evaluations, report)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def evaluation_summary(run: EvaluationRun, escape: Callable[[str], str] = str) -> str:
    """The Markdown summary: rows read, then per model its figures and the rows it left out, and why.

    `escape` makes user-supplied names inert in Markdown (file names, label values).
    """
    table = run.plan.table
    lines = [f"**{escape(table.name)}**: {_count(len(table.records), 'row')}."]
    if run.plan.blank_texts:
        lines.append(
            f"{_count(run.plan.blank_texts, 'row')} with an empty text; every model refuses them."
        )
    suggestion = suggest_preset(list(dict.fromkeys(run.plan.values)))
    for e in run.evaluations:
        left_out = []
        if e.unmapped:
            values = escape(", ".join(f"{v!r} ({n:,})" for v, n in sorted(e.unmapped.items())))
            left_out.append(
                f"{_count(sum(e.unmapped.values()), 'row')} whose label maps to nothing: {values}"
            )
        if e.refused:
            left_out.append(f"{_count(e.refused, 'text')} refused")
        tail = f" Left out: {'; '.join(left_out)}." if left_out else ""
        if e.unmapped and suggestion and suggestion[0] != run.plan.preset:
            tail += (
                f" The values look like {suggestion[1]}: pick the '{suggestion[0]}' label coding."
            )
        if e.scores is None:
            lines.append(f"- **{e.model}**: no row could be scored.{tail}")
            continue
        s = e.scores
        lines.append(
            f"- **{e.model}**: accuracy **{s.accuracy:.1%}** (95% interval "
            f"{interval_text(s.accuracy_interval)}), macro-F1 **{s.macro_f1:.3f}**"
            + (f" ({interval_text(s.macro_f1_interval)})" if s.macro_f1_interval else "")
            + f" on {_count(s.size, 'text')}.{tail}"
        )
        if s.size < FEW_ROWS:
            lines.append(
                f"  ⚠️ Only {_count(s.size, 'text')} scored: under {FEW_ROWS} the figures are "
                "rough, as the interval shows. Use more labelled rows to compare models."
            )
        if not e.probabilities:
            lines.append(
                f"  Calibration (ECE, reliability diagram) is not computed for {e.model}: its "
                "scores are not probabilities."
            )
    if any(e.scores for e in run.evaluations):
        lines.append(f"\n{INTERVAL_METHODS}.")
    return "\n".join(lines)
