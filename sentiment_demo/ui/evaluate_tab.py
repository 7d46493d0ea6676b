"""The Evaluate tab: a labelled file through every served model, and what each got right and wrong.

Accuracy, macro-F1, per-class figures, confusion matrices, a reliability diagram, the mistakes (each one
explainable) and the report as downloads. The figures come from `scoring`, the code behind the
recipe's model cards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import gradio as gr
import pandas as pd
from gradio.components.dataframe import DataframeData

from sentiment_demo.config import Settings
from sentiment_demo.core.served_model import ServedModel
from sentiment_demo.core.uncertainty import scores_are_probabilities
from sentiment_demo.errors import InputError, short_error
from sentiment_demo.evaluation.label_mapping import AUTOMATIC, PRESETS, suggest_preset
from sentiment_demo.evaluation.report import (
    ALL_MODELS,
    METRICS_COLUMNS,
    MISTAKES_COLUMNS,
    PER_CLASS_COLUMNS,
    filter_mistakes,
    metrics_table,
    mistakes_table,
    per_class_table,
    predictions_table,
)
from sentiment_demo.evaluation.run import (
    evaluation_summary,
    mapping_rows,
    plan_evaluation,
    run_evaluation,
)
from sentiment_demo.files import ResultFiles
from sentiment_demo.inputs.labelled_input import (
    LabelledTable,
    default_label_column,
    default_text_column,
    read_labelled,
)
from sentiment_demo.inputs.parse_worker import in_worker
from sentiment_demo.ui.common import (
    SLOW_EVENT_CONCURRENCY,
    any_column_name,
    as_markdown_text,
    classify_with_models,
    explain_with,
    explanation_value,
    logger,
)
from sentiment_demo.ui.evaluation_plots import confusion_figure, reliability_figure
from sentiment_demo.ui.user_errors import user_facing_errors


def _mapping_reader(
    mapping_in: gr.Dataframe, headers: Sequence[str]
) -> Callable[[DataframeData | None], pd.DataFrame]:
    """The mapping table's preprocess, with a message that says what a mapping looks like.

    A malformed table sent through the API otherwise fails in Gradio with "Could not preprocess
    input component at index 4"; no table at all means "use the label coding".
    """
    read = mapping_in.preprocess

    def preprocess(payload: DataframeData | None) -> pd.DataFrame:
        if payload is None:
            return pd.DataFrame()  # an empty mapping: the label coding decides
        try:
            return cast("pd.DataFrame", read(payload))
        except Exception as exc:
            raise gr.Error(
                f"The label mapping could not be read ({short_error(exc)}). Send it as a table "
                f"{{'headers': {list(headers)}, 'data': [[file value, rows, one label per model], "
                "...]}, or send no mapping (null) to use the label coding."
            ) from None

    return preprocess


def build_evaluate_tab(
    models: Sequence[ServedModel], settings: Settings, results: ResultFiles
) -> None:
    """The tab's components and its events (`evaluate` in the API), inside the caller's Blocks."""
    by_name = {model.name: model for model in models}
    model_labels = [(model.name, model.labels) for model in models]
    mapping_headers = ["label in file", "rows", *by_name]
    not_probabilities = {m.name for m in models if not scores_are_probabilities(m.info)}

    def load(upload: str) -> LabelledTable:
        # In a child process with a time limit: no file can hold the server (parse_worker).
        return in_worker(
            settings.parse_seconds,
            Path(upload).name,
            read_labelled,
            Path(upload),
            settings.max_upload_kb * 1024,
            settings.max_eval_rows,
            max_columns=settings.max_columns,
            max_header_kb=settings.max_header_kb,
        )

    def mapping_value(table: LabelledTable, label_column: str, preset: str) -> pd.DataFrame:
        rows = mapping_rows(table, label_column, preset, model_labels)
        return pd.DataFrame(rows, columns=mapping_headers)

    def on_upload(upload: str | None) -> tuple[Any, ...]:
        hidden = gr.Dropdown(choices=[], value=None, visible=False)
        cleared = (None, None, None, None, None, None, None, None)  # a new file: old results go
        if not upload:
            return hidden, hidden, None, gr.Dropdown(value=AUTOMATIC), "", *cleared
        try:
            table = load(upload)
            text_column = default_text_column(table.columns)
            label_column = default_label_column(table.columns, text_column)
            preset, note = coding_for(table, label_column)
            mapping = mapping_value(table, label_column, preset)
        except InputError as exc:
            message = f"⚠️ {as_markdown_text(str(exc))}"
            return hidden, hidden, None, gr.Dropdown(value=AUTOMATIC), message, *cleared
        return (
            gr.Dropdown(choices=table.columns, value=text_column, visible=True),
            gr.Dropdown(choices=table.columns, value=label_column, visible=True),
            mapping,
            gr.Dropdown(value=preset),
            f"{as_markdown_text(table.name)}: {len(table.records):,} rows. {note}Check the "
            "columns and the label mapping, then press Evaluate.",
            *cleared,
        )

    def coding_for(table: LabelledTable, label_column: str) -> tuple[str, str]:
        """The label coding to start with: by name, unless nothing maps and a preset fits."""
        rows = mapping_rows(table, label_column, AUTOMATIC, model_labels)
        if any(cell for row in rows for cell in row[2:]):
            return AUTOMATIC, ""
        suggestion = suggest_preset([str(row[0]) for row in rows])
        if suggestion is None:
            return AUTOMATIC, ""
        preset, looks = suggestion
        return preset, f"The labels look like {looks}: label coding set to '{preset}'. "

    def on_mapping_inputs(
        upload: str | None, label_column: str | None, preset: str
    ) -> tuple[Any, str]:
        if not upload or not label_column:
            return None, ""
        try:
            return mapping_value(load(upload), label_column, preset), ""
        except InputError as exc:
            return None, f"⚠️ {as_markdown_text(str(exc))}"

    def evaluate(
        upload: str | None = None,
        text_column: str | None = None,
        label_column: str | None = None,
        preset: str = AUTOMATIC,
        mapping: pd.DataFrame | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008  (Gradio's way to ask for a progress bar)
    ) -> tuple[Any, ...]:
        """Evaluate every served model on a labelled .csv, .tsv or .jsonl file.

        Args:
            upload: the labelled file.
            text_column: the column with the texts (default: one named text, review, ... or the first).
            label_column: the column with the labels (default: one named label, sentiment, ...).
            preset: how file values map to model labels when `mapping` is not given (by name,
                0/1, pos/neg, 1-5 stars, ...).
            mapping: a table of [file value, rows, one model label per model]; an empty cell leaves
                that value out of that model's figures (counted in the summary).
            progress: Gradio's progress bar (not an input).

        Returns a summary, the metrics table, the per-class table, a confusion-matrix plot, a
        reliability diagram, the mistakes sorted by confidence, the report files (CSV of predictions
        and JSON of metrics) and the metrics as JSON.
        """
        try:
            if not upload:
                raise InputError("Upload a labelled .csv, .tsv or .jsonl file first.")
            rows = mapping.values.tolist() if mapping is not None and len(mapping) else None
            plan = plan_evaluation(
                load(upload), text_column, label_column, preset, rows, model_labels
            )
        except InputError as exc:
            logger.info("refused evaluation: %s", exc)
            return (f"⚠️ {as_markdown_text(str(exc))}", *([None] * 7))
        with user_facing_errors():
            run = run_evaluation(
                plan,
                model_labels,
                lambda texts: classify_with_models(models, texts, progress),
                not_probabilities,
            )
        evaluations = list(run.evaluations)
        texts, lines = list(plan.texts), plan.table.lines
        files = [
            results.write_csv(
                predictions_table(evaluations, texts, list(plan.values), lines),
                "evaluation-predictions",
            ),
            results.write_json(run.report, "evaluation-metrics"),
        ]
        return (
            evaluation_summary(run, as_markdown_text),
            metrics_table(evaluations),
            per_class_table(evaluations),
            confusion_figure(evaluations),
            reliability_figure(evaluations),
            mistakes_table(evaluations, texts, lines),
            files,
            run.report,
        )

    def explain_mistake(
        mistakes: pd.DataFrame, event: gr.SelectData
    ) -> tuple[list[tuple[str, float | None]], str]:
        row = event.row_value if event.row_value else mistakes.iloc[event.index[0]].tolist()
        name, text = str(row[0]), str(row[2])
        model = by_name.get(name)
        if model is None:
            return [], ""
        with user_facing_errors():
            result = explain_with(model, text, settings)
        highlighted, notice = explanation_value(result, model.info.scheme)
        where = as_markdown_text(f"line {row[1]} (true label: {row[3]})")
        return highlighted, f"**{as_markdown_text(name)}**, {where}. {notice}"

    with gr.Tab("Evaluate"):
        gr.Markdown(
            "Upload a labelled `.csv`, `.tsv` or `.jsonl` file, pick its text and label columns, "
            "check how its labels map to each model's, and measure every model on it. At most "
            f"{settings.max_eval_rows:,} rows and {settings.max_upload_kb:,} KiB."
        )
        with gr.Row():
            file_in = gr.File(
                label="Labelled file",
                file_types=[".csv", ".tsv", ".jsonl"],
                elem_id="evaluate-file",
            )
            with gr.Column():
                text_column_in = gr.Dropdown(
                    label="Text column",
                    visible=False,
                    allow_custom_value=True,
                    elem_id="evaluate-text-column",
                )
                label_column_in = gr.Dropdown(
                    label="Label column",
                    visible=False,
                    allow_custom_value=True,
                    elem_id="evaluate-label-column",
                )
                preset_in = gr.Dropdown(
                    label="Label coding",
                    choices=list(PRESETS),
                    value=AUTOMATIC,
                    elem_id="evaluate-preset",
                )
        for column in (text_column_in, label_column_in):
            column.api_info = any_column_name  # type: ignore[method-assign]
        mapping_in = gr.Dataframe(
            headers=mapping_headers,
            label="Label mapping: the model label each value of the file stands for (edit a cell; "
            "leave it empty to leave that value out of the model's figures)",
            interactive=True,
            elem_id="evaluate-mapping",
        )
        vars(mapping_in)["preprocess"] = _mapping_reader(mapping_in, mapping_headers)
        evaluate_btn = gr.Button("Evaluate", variant="primary")
        summary_out = gr.Markdown(label="Summary", elem_id="evaluate-summary")
        metrics_out = gr.Dataframe(
            label="Metrics (95% intervals: Wilson for accuracy, bootstrap for macro-F1)",
            headers=list(METRICS_COLUMNS),
            interactive=False,
            elem_id="evaluate-metrics",
        )
        per_class_out = gr.Dataframe(
            label="Per class",
            headers=list(PER_CLASS_COLUMNS),
            interactive=False,
            elem_id="evaluate-per-class",
        )
        with gr.Row():
            # No label drawn over the figures (it covered their titles on a phone); the figures
            # carry their own titles, and the label still names the API outputs.
            confusion_out = gr.Plot(
                label="Confusion matrix", show_label=False, elem_id="evaluate-confusion"
            )
            reliability_out = gr.Plot(
                label="Reliability diagram", show_label=False, elem_id="evaluate-reliability"
            )
        mistakes_filter_in = gr.Dropdown(
            label="Show the mistakes of",
            choices=[ALL_MODELS, *by_name],
            value=ALL_MODELS,
            visible=len(models) > 1,
            elem_id="evaluate-mistakes-model",
        )
        mistakes_out = gr.Dataframe(
            label="Mistakes, most confident first (click a row to see which words misled the model)",
            headers=list(MISTAKES_COLUMNS),
            interactive=False,
            # Unwrapped: on a phone the table scrolls sideways instead of one letter per line.
            wrap=False,
            max_chars=80,
            elem_id="evaluate-mistakes",
        )
        all_mistakes = gr.State(None)
        explanation_out = gr.HighlightedText(
            label="Why the model got it wrong",
            combine_adjacent=False,
            show_legend=False,
            elem_id="evaluate-explanation",
        )
        explanation_notice_out = gr.Markdown(
            label="Explanation notice", elem_id="evaluate-explanation-notice"
        )
        download_out = gr.File(
            label="Report: predictions (CSV) and metrics (JSON)",
            file_count="multiple",
            interactive=False,
            elem_id="evaluate-download",
        )
        with gr.Accordion("Metrics as JSON", open=False):
            json_out = gr.JSON(label="Metrics as JSON", elem_id="evaluate-json")
    result_outputs = [
        metrics_out,
        per_class_out,
        confusion_out,
        reliability_out,
        mistakes_out,
        download_out,
        json_out,
        all_mistakes,
    ]

    file_in.change(
        on_upload,
        inputs=[file_in],
        outputs=[
            text_column_in,
            label_column_in,
            mapping_in,
            preset_in,
            summary_out,
            *result_outputs,
        ],
        api_visibility="private",
    )
    gr.on(
        triggers=[label_column_in.input, preset_in.input],
        fn=on_mapping_inputs,
        inputs=[file_in, label_column_in, preset_in],
        outputs=[mapping_in, summary_out],
        api_visibility="private",
    )
    evaluate_btn.click(
        evaluate,
        inputs=[file_in, text_column_in, label_column_in, preset_in, mapping_in],
        outputs=[
            summary_out,
            metrics_out,
            per_class_out,
            confusion_out,
            reliability_out,
            mistakes_out,
            download_out,
            json_out,
        ],
        api_name="evaluate",
        api_description="Evaluate every served model on a labelled file: accuracy, macro-F1, "
        "per-class figures, confusion matrices, calibration, the mistakes and the report files.",
        concurrency_id="batch-jobs",
        concurrency_limit=SLOW_EVENT_CONCURRENCY,
        # On the summary alone: on every output, the progress text was drawn twice over it.
        show_progress_on=[summary_out],
    ).then(
        lambda mistakes: (mistakes, gr.Dropdown(value=ALL_MODELS)),
        inputs=[mistakes_out],
        outputs=[all_mistakes, mistakes_filter_in],
        api_visibility="private",
    )
    mistakes_filter_in.input(
        filter_mistakes,
        inputs=[all_mistakes, mistakes_filter_in],
        outputs=[mistakes_out],
        api_visibility="private",
        queue=False,
    )
    mistakes_out.select(
        explain_mistake,
        inputs=[mistakes_out],
        outputs=[explanation_out, explanation_notice_out],
        api_visibility="private",
        concurrency_id="explain",
        concurrency_limit=SLOW_EVENT_CONCURRENCY,
    )
