"""The Batch tab: many texts (pasted, .txt or .csv) through one model or several.

The results come as a table, a chart (labels, or how often the models agree) and a CSV download.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from gradio.data_classes import FileData

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Rejection
from sentiment_demo.core.served_model import ServedModel, choose_models
from sentiment_demo.core.uncertainty import scores_are_probabilities
from sentiment_demo.documents.analysis import DocumentOptions, analyse_documents, parse_aspects
from sentiment_demo.errors import InputError
from sentiment_demo.files import ResultFiles
from sentiment_demo.inputs.batch_input import (
    BatchInput,
    ColumnOverview,
    overview_of_file,
    texts_from_file,
    texts_from_lines,
)
from sentiment_demo.inputs.parse_worker import in_worker
from sentiment_demo.ui.batch_report import (
    AGREEMENT_TITLE,
    CHART_TITLES,
    agreement_counts,
    batch_summary,
    comparison_table,
    label_counts,
    label_counts_per_model,
    results_table,
)
from sentiment_demo.ui.common import (
    SLOW_EVENT_CONCURRENCY,
    any_column_name,
    classify_in_chunks,
    classify_with_models,
    logger,
    silent_progress,
)
from sentiment_demo.ui.sentence_report import ASPECT_NOTE, aspect_counts, batch_sentence_columns
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
        by_sentence: bool = False,
        aspects: str | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008  (Gradio's way to ask for a progress bar)
    ) -> tuple[pd.DataFrame, pd.DataFrame | None, str | None, str]:
        """Classify many texts (one per line, or a .txt/.csv file): a table, counts, a CSV file.

        An input that cannot be read (a bad file, too many texts) gives an empty table and a
        summary that starts with ⚠️ and says why.

        Args:
            pasted: texts, one per line. Give either pasted texts or a file: both at once are
                refused, so that neither silently replaces the other.
            upload: a .txt file (one text per line) or a .csv file.
            column: the CSV column that holds the texts (default: the one that reads most like
                text: values that are not ids, numbers or categories, a name with text, review,
                comment, ..., then the longest values). The other columns are kept in the table.
            model_names: the models to run (default: the default model); with several, the table
                has a label and score column per model and an agreement column.
            by_sentence: also score every sentence of each text with every chosen model: adds the
                sentence count, the share of each label and the most negative sentence (named
                "<column> (<model>)" when several models are chosen).
            aspects: optional aspect terms separated by commas: one verdict column per aspect
                (sentence-level sentiment around the term, not a trained aspect model).
            progress: Gradio's progress bar (not an input).
        """
        # A bad input is said once, in the summary: raising would also paint an "Error" badge on
        # every output. Busy and server faults still raise (user_facing_errors).
        try:
            chosen = choose_models(models, model_names)
            terms = parse_aspects(aspects, settings.max_aspects)
            if upload and (pasted or "").strip():
                raise InputError(
                    f"Both pasted texts and a file ({Path(upload).name}) were given: clear the text "
                    "box or remove the file, so that it is clear which to analyse."
                )
            if upload:
                batch = in_worker(
                    settings.parse_seconds,
                    Path(upload).name,
                    texts_from_file,
                    Path(upload),
                    column or None,
                    settings.max_batch_rows,
                    settings.max_upload_kb * 1024,
                    max_columns=settings.max_columns,
                    max_header_kb=settings.max_header_kb,
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
                table = results_table(
                    batch,
                    outcomes[0],
                    model.labels,
                    model.info.scheme,
                    scores_are_probabilities(model.info),
                    strengths=model.info.backend == "vader",
                )
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
            if by_sentence or terms:
                table, summary = add_sentence_columns(
                    table, summary, batch.texts, chosen, by_sentence, terms, progress
                )
            return table, chart, results.write_csv(table), summary

    def add_sentence_columns(
        table: pd.DataFrame,
        summary: str,
        texts: list[str],
        chosen: Sequence[ServedModel],
        by_sentence: bool,
        terms: list[str],
        progress: gr.Progress,
    ) -> tuple[pd.DataFrame, str]:
        """The sentence and aspect columns of every ticked model (suffixed by name when several)."""
        options = DocumentOptions.from_settings(settings)

        def columns_of(model: ServedModel, bar: Callable[..., Any]) -> pd.DataFrame:
            # Every sentence of every text in one classify call (chunks move the progress bar).
            reports = analyse_documents(
                texts,
                lambda t: classify_in_chunks(model.classify, t, bar, "Scoring sentences"),
                model.labels,
                options,
                terms,
            )
            refused[model.name] = sum(isinstance(r, Rejection) for r in reports)
            suffix = model.name if len(chosen) > 1 else None
            return batch_sentence_columns(reports, model.labels, by_sentence, terms, suffix)

        refused: dict[str, int] = {}
        # Each model has its own scheduler; the progress bar follows the first, in this thread.
        with ThreadPoolExecutor(max_workers=max(1, len(chosen) - 1)) as pool:
            others = [pool.submit(columns_of, m, silent_progress) for m in chosen[1:]]
            frames = [columns_of(chosen[0], progress), *(f.result() for f in others)]
        not_split = sum(refused.values())
        summary += f" Sentence columns by {', '.join(m.name for m in chosen)}" + (
            f"; {not_split:,} texts were not split (see sentence_note)." if not_split else "."
        )
        return pd.concat([table, *frames], axis=1), summary

    def show_aspect_chart(table: pd.DataFrame | None) -> gr.BarPlot:
        counts = aspect_counts(table if table is not None else pd.DataFrame())
        return gr.BarPlot(value=counts, visible=len(counts) > 0)

    def read_overview(upload: str) -> ColumnOverview:
        return in_worker(
            settings.parse_seconds,
            Path(upload).name,
            overview_of_file,
            Path(upload),
            settings.max_upload_kb * 1024,
            max_columns=settings.max_columns,
            max_header_kb=settings.max_header_kb,
        )

    def on_upload(upload: str | None) -> tuple[Any, ...]:
        # A new file makes the old results stale: they are cleared with the column choice. A file
        # that cannot be read is said once, in the summary: "Analyse all" then explains it again
        # only if the user insists, instead of two identical error pop-ups.
        hidden = gr.Dropdown(choices=[], value=None, visible=False)
        cleared = (None, None, None)
        no_preview = gr.Dataframe(value=None, visible=False)
        if not upload or Path(upload).suffix.lower() != ".csv":
            return hidden, no_preview, "", *cleared
        try:
            overview = read_overview(upload)
        except InputError as exc:
            return hidden, no_preview, f"⚠️ {exc}", *cleared
        column = overview.default
        return (
            gr.Dropdown(choices=overview.columns, value=column, visible=True),
            preview_value(overview, column),
            upload_note(upload, overview, column),
            *cleared,
        )

    def on_column(upload: str | None, column: str | None) -> tuple[Any, ...]:
        if not upload or not column or Path(upload).suffix.lower() != ".csv":
            return gr.Dataframe(value=None, visible=False), "", None, None, None
        try:
            overview = read_overview(upload)
        except InputError as exc:
            return gr.Dataframe(value=None, visible=False), f"⚠️ {exc}", None, None, None
        return (
            preview_value(overview, column),
            upload_note(upload, overview, column),
            None,
            None,
            None,
        )

    def show_model_chart(table: pd.DataFrame | None, names: list[str] | None) -> gr.BarPlot:
        chosen = [by_name[name] for name in names or [] if name in by_name]
        if len(chosen) < 2 or table is None or f"label ({chosen[0].name})" not in table:
            return gr.BarPlot(value=None, visible=False)
        return gr.BarPlot(value=label_counts_per_model(table, chosen), visible=True)

    def clear_results() -> tuple[None, None, None, str]:
        return None, None, None, ""

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
                accept_any_file_type(file_in)
                column_in = gr.Dropdown(
                    label="Text column",
                    choices=[],
                    visible=False,
                    allow_custom_value=True,
                    elem_id="batch-column",
                )
                column_in.api_info = any_column_name  # type: ignore[method-assign]
                preview_out = gr.Dataframe(
                    label="Preview: the first rows of the text column",
                    visible=False,
                    interactive=False,
                    wrap=True,
                    max_height=260,
                    elem_id="batch-preview",
                )
                models_in = gr.CheckboxGroup(
                    label="Models (tick several to compare them on every text)",
                    choices=list(by_name),
                    value=[default.name],
                    visible=len(models) > 1,
                    elem_id="batch-models",
                )
                by_sentence_in = gr.Checkbox(
                    label="Score by sentence (adds the sentence count, the share of each label "
                    "and the most negative sentence)",
                    value=False,
                    elem_id="batch-by-sentence",
                )
                aspects_in = gr.Textbox(
                    label="Aspects (optional, comma-separated): one column per aspect",
                    placeholder="battery, screen, price",
                    info=ASPECT_NOTE,
                    elem_id="batch-aspects",
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
        aspect_chart_out = gr.BarPlot(
            x="aspect",
            y="texts",
            color="verdict",
            label="Aspects: texts per verdict (the label most of a text's sentences about the "
            "aspect got)",
            y_title="texts",
            x_title="",
            y_lim=[0, None],
            visible=False,
            elem_id="batch-aspect-chart",
        )
        model_chart_out = gr.BarPlot(
            x="label",
            y="texts",
            color="model",
            label="Label distribution per model",
            y_title="texts",
            x_title="",
            y_lim=[0, None],
            x_label_angle=-30,
            visible=False,
            elem_id="batch-model-chart",
        )
        # Unwrapped, with long cells cut on screen (the CSV has them whole): the table scrolls
        # sideways, label columns first, instead of squeezing every header into a letter-wide column.
        table_out = gr.Dataframe(
            label="Results (label columns first; the download has every text in full)",
            elem_id="batch-results",
            interactive=False,
            wrap=False,
            max_chars=90,
        )

    file_in.change(
        on_upload,
        inputs=[file_in],
        outputs=[column_in, preview_out, batch_status_out, table_out, chart_out, download_out],
        api_visibility="private",
    )
    column_in.input(
        on_column,
        inputs=[file_in, column_in],
        outputs=[preview_out, batch_status_out, table_out, chart_out, download_out],
        api_visibility="private",
    )
    # Results that belong to other texts are cleared as soon as the texts change.
    texts_in.input(
        clear_results,
        outputs=[table_out, chart_out, download_out, batch_status_out],
        api_visibility="private",
        queue=False,
        show_progress="hidden",
    )
    batch_btn.click(
        classify_batch,
        inputs=[texts_in, file_in, column_in, models_in, by_sentence_in, aspects_in],
        outputs=[table_out, chart_out, download_out, batch_status_out],
        api_name="classify_batch",
        api_description="Classify many texts (one per line, or a .txt/.csv file) with one model or "
        "several: a table with every label's score, the label counts (or how often the models "
        "agree), a CSV file and a summary.",
        concurrency_id="batch-jobs",
        concurrency_limit=SLOW_EVENT_CONCURRENCY,
    ).then(
        show_aspect_chart,
        inputs=[table_out],
        outputs=[aspect_chart_out],
        api_visibility="private",
    ).then(
        show_model_chart,
        inputs=[table_out, models_in],
        outputs=[model_chart_out],
        api_visibility="private",
    )


def preview_value(overview: ColumnOverview, column: str) -> gr.Dataframe:
    """The preview table of a column's first values."""
    rows = [[value] for value in overview.preview(column)]
    return gr.Dataframe(
        value=pd.DataFrame(rows, columns=[column]),
        label=f"Preview: the first {len(rows)} rows of column {column!r}",
        visible=True,
    )


def upload_note(upload: str, overview: ColumnOverview, column: str) -> str:
    """The summary after an upload or a column choice: which column, and a warning if it looks wrong."""
    how = " (it reads most like text)" if column == overview.default else ""
    note = f"{Path(upload).name}: texts from column {column!r}{how}; press Analyse all."
    warning = overview.warning(column)
    return f"{note} Note: {warning}" if warning else note


def accept_any_file_type(upload: gr.File) -> None:
    """Let a file of another type reach the handler, which refuses it in the ⚠️ summary.

    Gradio 6.31 checks `file_types` in File.preprocess and raises an error that the API client
    shows as an exception. The browser's file picker still offers only `file_types`.
    tests/test_trust_data.py fails if a Gradio upgrade changes this private method.
    """

    def keep_path(file: FileData) -> str:
        return file.path

    upload._process_single_file = keep_path  # type: ignore[method-assign, assignment]
