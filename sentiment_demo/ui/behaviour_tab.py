"""The Behaviour tab: the capability suite (and a user's own tests) on the served models, side by side.

Each capability's failure rate per model as a table and a chart, a few failing cases per capability
(each clickable into an explanation), and the full report (JSON) and every failure (CSV) as downloads.
The suite, its scoring and the report are `sentiment_demo.behaviour`; this module lays them out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from sentiment_demo.behaviour.scoring import (
    FAILURE_COLUMNS,
    BehaviourReport,
    capability_rows,
    failure_rows,
    run_suite,
    summary_lines,
)
from sentiment_demo.behaviour.suite import DEFAULT_SEED, capabilities, generate_suite
from sentiment_demo.behaviour.user_tests import read_user_tests, with_user_tests
from sentiment_demo.config import Settings
from sentiment_demo.core.served_model import ServedModel
from sentiment_demo.errors import InputError
from sentiment_demo.evaluation.label_mapping import AUTOMATIC, PRESETS
from sentiment_demo.files import ResultFiles
from sentiment_demo.ui.behaviour_plots import failure_rate_figure
from sentiment_demo.ui.common import (
    SLOW_EVENT_CONCURRENCY,
    as_markdown_text,
    classify_with_models,
    explain_with,
    explanation_value,
    logger,
)
from sentiment_demo.ui.user_errors import user_facing_errors


def plan_run(settings: Settings, upload: str | None, include_suite: bool) -> tuple[Any, list[str]]:
    """The suite to run (built-in, the user's file, or both) and its sources' names.

    Raises:
        InputError: the file cannot be read, or there is nothing to run.
    """
    suite = generate_suite(DEFAULT_SEED) if include_suite else None
    sources = ["built-in suite"] if include_suite else []
    if upload:
        path = Path(upload)
        cases = read_user_tests(path, settings.max_upload_kb * 1024, settings.max_eval_rows)
        suite = with_user_tests(suite, cases, DEFAULT_SEED, "eval")
        sources.append(path.name)
    if suite is None:
        raise InputError("Nothing to run: tick the built-in suite, or upload a file of your tests.")
    return suite, sources


def build_behaviour_tab(
    models: Sequence[ServedModel], settings: Settings, results: ResultFiles
) -> None:
    """The tab's components and its events (`behaviour` in the API), inside the caller's Blocks."""
    by_name = {model.name: model for model in models}
    sizes = ", ".join(f"{c.name} {c.cases}" for c in capabilities())

    def behaviour(
        model_names: list[str] | None = None,
        label_coding: str = AUTOMATIC,
        tests: str | None = None,
        include_suite: bool = True,
        progress: gr.Progress = gr.Progress(),  # noqa: B008  (Gradio's way to ask for a progress bar)
    ) -> tuple[Any, ...]:
        """Run the behavioural capability suite on served models, side by side.

        Args:
            model_names: the served models to test (empty: every one).
            label_coding: how labels not named negative / neutral / positive read as sentiments
                (a preset of the Evaluate tab: 0/1, 1-5 stars, ...).
            tests: your own tests, a .csv/.tsv/.jsonl file with columns text, expected (positive,
                negative, neutral, 'not negative', 'not positive', 'same as ID', 'more positive
                than ID' or 'more negative than ID'), and optionally capability and id.
            include_suite: run the built-in suite (seeded, the evaluation half of the data).
            progress: Gradio's progress bar (not an input).

        Returns a summary, the capability table (failure rate per model), a chart of it, a few
        failing cases per capability, the report files (JSON and a CSV of every failure) and the
        report as JSON.
        """
        try:
            chosen = [by_name[name] for name in (model_names or list(by_name)) if name in by_name]
            unknown = sorted(set(model_names or []) - set(by_name))
            if unknown or not chosen:
                raise InputError(
                    f"Pick at least one served model ({', '.join(by_name)}); "
                    f"unknown: {', '.join(unknown) or 'none'}."
                )
            if label_coding not in PRESETS:
                raise InputError(
                    f"Unknown label coding {label_coding!r}; choose one of {', '.join(PRESETS)}."
                )
            suite, sources = plan_run(settings, tests, include_suite)
        except InputError as exc:
            logger.info("refused behaviour run: %s", exc)
            return (f"⚠️ {as_markdown_text(str(exc))}", *([None] * 5))
        with user_facing_errors():
            report = run_suite(
                suite,
                [(m.name, m.info) for m in chosen],
                lambda texts: classify_with_models(chosen, texts, progress),
                label_coding,
                sources,
            )
        return outputs_of(report)

    def outputs_of(report: BehaviourReport) -> tuple[Any, ...]:
        table = pd.DataFrame(
            capability_rows(report),
            columns=["capability", "test", "cases", *(f"{m.model}" for m in report.models)],
        )
        failures = pd.DataFrame(failure_rows(report), columns=FAILURE_COLUMNS)
        files = [
            results.write_json(report.as_json(), "behaviour-report"),
            results.write_csv(
                pd.DataFrame(failure_rows(report, None), columns=FAILURE_COLUMNS),
                "behaviour-failures",
            ),
        ]
        summary = "\n".join(f"- {as_markdown_text(line)}" for line in summary_lines(report))
        return (
            summary,
            table,
            failure_rate_figure(report),
            failures,
            files,
            report.as_json(),
        )

    def explain_failure(
        failures: pd.DataFrame, event: gr.SelectData
    ) -> tuple[list[tuple[str, float | None]], str]:
        row = event.row_value if event.row_value else failures.iloc[event.index[0]].tolist()
        name, capability, text = str(row[0]), str(row[1]), str(row[3])
        model = by_name.get(name)
        if model is None:
            return [], ""
        with user_facing_errors():
            result = explain_with(model, text, settings)
        highlighted, notice = explanation_value(result, model.info.scheme)
        where = as_markdown_text(f"{capability}, {row[2]}: {row[5]}")
        return highlighted, f"**{as_markdown_text(name)}**, {where}. {notice}"

    with gr.Tab("Behaviour"):
        gr.Markdown(
            "Behavioural tests (CheckList-style) of what each model can do: a label it must give "
            "(minimum functionality), an edit that must not change the label (invariance), and an "
            "edit that must move the score (directional). Cases per capability: "
            f"{sizes}. Add your own in a .csv with columns `text`, `expected` and `capability`."
        )
        with gr.Row():
            with gr.Column():
                models_in = gr.CheckboxGroup(
                    choices=list(by_name),
                    value=list(by_name),
                    label="Models to test",
                    elem_id="behaviour-models",
                )
                coding_in = gr.Dropdown(
                    label="Label coding (for labels not named negative / neutral / positive)",
                    choices=list(PRESETS),
                    value=AUTOMATIC,
                    elem_id="behaviour-coding",
                )
                suite_in = gr.Checkbox(
                    value=True, label="Built-in suite", elem_id="behaviour-suite"
                )
            tests_in = gr.File(
                label="Your own tests (optional): text, expected, capability",
                file_types=[".csv", ".tsv", ".jsonl"],
                elem_id="behaviour-file",
            )
        run_btn = gr.Button("Run tests", variant="primary")
        summary_out = gr.Markdown(label="Summary", elem_id="behaviour-summary")
        table_out = gr.Dataframe(
            label="Failure rate per capability (failed / tested cases)",
            interactive=False,
            wrap=True,
            elem_id="behaviour-table",
        )
        chart_out = gr.Plot(label="Failure rate per capability", elem_id="behaviour-chart")
        failures_out = gr.Dataframe(
            label="Failing cases, a few per capability (click a row to see which words decided)",
            interactive=False,
            wrap=True,
            elem_id="behaviour-failures",
        )
        explanation_out = gr.HighlightedText(
            label="Why the model answered so",
            combine_adjacent=False,
            show_legend=False,
            elem_id="behaviour-explanation",
        )
        explanation_notice_out = gr.Markdown(
            label="Explanation notice", elem_id="behaviour-explanation-notice"
        )
        download_out = gr.File(
            label="Report (JSON) and every failure (CSV)",
            file_count="multiple",
            interactive=False,
            elem_id="behaviour-download",
        )
        with gr.Accordion("Report as JSON", open=False):
            json_out = gr.JSON(label="Report as JSON", elem_id="behaviour-json")

    run_btn.click(
        behaviour,
        inputs=[models_in, coding_in, tests_in, suite_in],
        outputs=[summary_out, table_out, chart_out, failures_out, download_out, json_out],
        api_name="behaviour",
        api_description="Run the behavioural capability suite (and your own tests) on the served "
        "models: each capability's failure rate per model, failing cases and the report files.",
        concurrency_id="batch-jobs",
        concurrency_limit=SLOW_EVENT_CONCURRENCY,
    )
    failures_out.select(
        explain_failure,
        inputs=[failures_out],
        outputs=[explanation_out, explanation_notice_out],
        api_visibility="private",
        concurrency_id="explain",
        concurrency_limit=SLOW_EVENT_CONCURRENCY,
    )
