"""The Batch tab: many texts (pasted, .txt or .csv) through one model or several.

The results come as a table, a chart (labels, or how often the models agree) and a CSV download.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import gradio as gr
import pandas as pd

from sentiment_demo.config import Settings
from sentiment_demo.core.served_model import ServedModel, choose_models
from sentiment_demo.errors import InputError
from sentiment_demo.files import ResultFiles
from sentiment_demo.inputs.batch_input import (
    BatchInput,
    csv_columns,
    default_column,
    read_upload,
    texts_from_file,
    texts_from_lines,
)
from sentiment_demo.ui.batch_report import (
    AGREEMENT_TITLE,
    CHART_TITLES,
    agreement_counts,
    batch_summary,
    comparison_table,
    label_counts,
    results_table,
)
from sentiment_demo.ui.common import (
    SLOW_EVENT_CONCURRENCY,
    any_column_name,
    classify_with_models,
    logger,
)
from sentiment_demo.ui.user_errors import user_facing_errors


def build_batch_tab(
    models: Sequence[ServedModel], settings: Settings, results: ResultFiles
) -> None:
    """The tab's components and its `classify_batch` event, inside the caller's Blocks."""
    default = models[0]
    by_name = {model.name: model for model in models}

    def classify_batch(
        pasted: str | None = None,
        upload: str | None = None,
        column: str | None = None,
        model_names: list[str] | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008  (Gradio's way to ask for a progress bar)
    ) -> tuple[pd.DataFrame, pd.DataFrame | None, str | None, str]:
        """Classify many texts (one per line, or a .txt/.csv file): a table, counts, a CSV file.

        An input that cannot be read (a bad file, too many texts) gives an empty table and a
        summary that starts with ⚠️ and says why.

        Args:
            pasted: texts, one per line (used when no file is given).
            upload: a .txt file (one text per line) or a .csv file.
            column: the CSV column that holds the texts (default: a column named text, review,
                sentence or similar, else the first).
            model_names: the models to run (default: the default model); with several, the table
                has a label and score column per model and an agreement column.
            progress: Gradio's progress bar (not an input).
        """
        # A bad input is said once, in the summary: raising would also paint an "Error" badge on
        # every output. Busy and server faults still raise (user_facing_errors).
        try:
            chosen = choose_models(models, model_names)
            if upload:
                batch = texts_from_file(
                    Path(upload),
                    column or None,
                    settings.max_batch_rows,
                    settings.max_upload_kb * 1024,
                )
            else:
                batch = texts_from_lines(pasted or "", settings.max_batch_rows)
        except InputError as exc:
            logger.info("refused input: %s", exc)
            empty = results_table(BatchInput([], [], ""), [], default.labels)
            return empty, None, None, f"⚠️ {exc}"
        with user_facing_errors():
            outcomes = classify_with_models(chosen, batch.texts, progress)
            if len(chosen) == 1:
                model = chosen[0]
                table = results_table(batch, outcomes[0], model.labels, model.info.scheme)
                chart = label_counts(table, model.labels, model.info.scheme)
                summary = batch_summary(batch, outcomes[0])
            else:
                table = comparison_table(batch, chosen, outcomes)
                chart = agreement_counts(table, chosen)
                agreed = int((table["agreement"] == "all agree").sum())
                summary = (
                    f"{batch_summary(batch, outcomes[0])} The {len(chosen)} models agree on "
                    f"{agreed:,} of {len(batch.texts):,} texts."
                )
            return table, chart, results.write_csv(table), summary

    def list_columns(upload: str | None) -> tuple[gr.Dropdown, str]:
        # A file that cannot be read is said once, in the summary: "Analyse all" then explains it
        # again only if the user insists, instead of two identical error pop-ups.
        hidden = gr.Dropdown(choices=[], value=None, visible=False)
        if not upload or Path(upload).suffix.lower() != ".csv":
            return hidden, ""
        try:
            columns = csv_columns(
                read_upload(Path(upload), settings.max_upload_kb * 1024), Path(upload).name
            )
        except InputError as exc:
            return hidden, f"⚠️ {exc}"
        return gr.Dropdown(choices=columns, value=default_column(columns), visible=True), ""

    with gr.Tab("Batch"):
        gr.Markdown(
            f"Paste one text per line, or upload a `.txt` (one text per line) or `.csv` file "
            f"(choose the text column). At most {settings.max_batch_rows:,} texts and "
            f"{settings.max_upload_kb:,} KiB per request."
        )
        with gr.Row():
            texts_in = gr.Textbox(label="Texts, one per line", lines=8, elem_id="batch-texts")
            with gr.Column():
                file_in = gr.File(
                    label="Or upload a .txt or .csv file",
                    file_types=[".txt", ".csv"],
                    elem_id="batch-file",
                )
                column_in = gr.Dropdown(
                    label="Text column",
                    choices=[],
                    visible=False,
                    allow_custom_value=True,
                    elem_id="batch-column",
                )
                column_in.api_info = any_column_name  # type: ignore[method-assign]
                models_in = gr.CheckboxGroup(
                    label="Models (tick several to compare them on every text)",
                    choices=list(by_name),
                    value=[default.name],
                    visible=len(models) > 1,
                    elem_id="batch-models",
                )
        batch_btn = gr.Button("Analyse all", variant="primary")
        # A text box, not Markdown: the summary quotes file and column names a user chose.
        batch_status_out = gr.Textbox(
            label="Summary", elem_id="batch-status", interactive=False, max_lines=3
        )
        with gr.Row():
            chart_out = gr.BarPlot(
                x="label",
                y="texts",
                label=CHART_TITLES[default.info.scheme]
                + (f"; with several models ticked, {AGREEMENT_TITLE}" if len(models) > 1 else ""),
                elem_id="batch-chart",
                sort="x",
                y_lim=[0, None],  # counts start at zero, or a small bar looks empty
                y_title="texts",
                x_title="",
                x_label_angle=-30,
            )
            download_out = gr.File(
                label="Download results (CSV)", elem_id="batch-download", interactive=False
            )
        table_out = gr.Dataframe(
            label="Results", elem_id="batch-results", interactive=False, wrap=True
        )

    file_in.change(
        list_columns,
        inputs=[file_in],
        outputs=[column_in, batch_status_out],
        api_visibility="private",
    )
    batch_btn.click(
        classify_batch,
        inputs=[texts_in, file_in, column_in, models_in],
        outputs=[table_out, chart_out, download_out, batch_status_out],
        api_name="classify_batch",
        api_description="Classify many texts (one per line, or a .txt/.csv file) with one model or "
        "several: a table with every label's score, the label counts (or how often the models "
        "agree), a CSV file and a summary.",
        concurrency_id="batch-jobs",
        concurrency_limit=SLOW_EVENT_CONCURRENCY,
    )
