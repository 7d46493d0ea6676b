"""The Compare tab: one text through every served model side by side.

It says whether they agree, and shows each model's explanation of its own prediction for the same words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Outcome, Prediction
from sentiment_demo.core.schemes import read
from sentiment_demo.core.served_model import ServedModel
from sentiment_demo.documents.analysis import DocumentOptions, DocumentReport, analyse_document
from sentiment_demo.feedback.collect import FeedbackCollector
from sentiment_demo.ui.answer import answer_notice, answer_value, model_languages
from sentiment_demo.ui.common import (
    SLOW_EVENT_CONCURRENCY,
    clear_when_changed,
    explain_with,
    explanation_value,
    on_every_model,
)
from sentiment_demo.ui.feedback_controls import feedback_controls
from sentiment_demo.ui.sentence_report import highlighted, judged_scheme, summary_markdown
from sentiment_demo.ui.user_errors import user_facing_errors

COMPARE_EXAMPLES = (
    "The plot is not bad at all, and the ending is anything but dull.",
    "Oh great, my flight is delayed again. Love that for me.",
    "The battery lasts two days.",
    "I can't say I didn't enjoy it.",
)


def agreement_line(models: Sequence[ServedModel], outcomes: Sequence[Outcome]) -> str:
    """Whether the models gave the same label (names compared case-insensitively)."""
    answers = [
        (model.name, read(outcome, model.info.scheme).text)
        for model, outcome in zip(models, outcomes, strict=True)
        if isinstance(outcome, Prediction)
    ]
    if len(answers) < len(models):
        return "⚠️ Not every model could read this text: see the notices below each model."
    if len({label.lower() for _, label in answers}) == 1:
        return f"✅ All {len(models)} models agree: **{answers[0][1]}**."
    said = "; ".join(f"{name} says **{label}**" for name, label in answers)
    return f"❌ The models disagree: {said}."


def build_compare_tab(
    models: Sequence[ServedModel], settings: Settings, feedback: FeedbackCollector | None = None
) -> None:
    """The tab's components and its `compare` and `explain_all` events, inside the caller's Blocks.

    With `feedback`, "Is this right?" controls for every model follow the answers.
    """
    languages = {model.name: model_languages(model.info) for model in models}

    def compare(text: str) -> tuple[Any, ...]:
        """Classify one text with every served model: scores and notice each, then whether they agree."""
        with user_facing_errors():
            outcomes = on_every_model(models, lambda m: m.classify([text])[0])
        values: list[Any] = []
        for model, outcome in zip(models, outcomes, strict=True):
            values += [
                answer_value(outcome, model.info),
                answer_notice(outcome, model.info, text, languages[model.name]),
            ]
        return (*values, agreement_line(models, outcomes))

    def explain_all(text: str) -> tuple[Any, ...]:
        """Explain one text with every served model: per-word weights towards its own prediction."""
        with user_facing_errors():
            results = on_every_model(models, lambda m: explain_with(m, text, settings))
        values: list[Any] = []
        for model, result in zip(models, results, strict=True):
            values += list(explanation_value(result, model.info.scheme))
        return tuple(values)

    def compare_sentences(text: str) -> tuple[Any, ...]:
        """Score one text sentence by sentence with every served model: sentences and a summary each."""
        options = DocumentOptions.from_settings(settings)
        with user_facing_errors():
            reports = on_every_model(
                models, lambda m: analyse_document(text, m.classify, m.labels, options)
            )
        values: list[Any] = []
        for model, report in zip(models, reports, strict=True):
            scheme = judged_scheme(model.info)
            pieces, colours = (
                highlighted(report, scheme) if isinstance(report, DocumentReport) else ([], {})
            )
            values += [
                gr.HighlightedText(value=pieces, color_map=colours),
                summary_markdown(report, scheme, languages[model.name]),
            ]
        return tuple(values)

    with gr.Tab("Compare"):
        if len(models) == 1:
            gr.Markdown(
                "Only one model is served. Start the app with several, e.g. `python app.py "
                "--model models/minilm-sentiment --model vader --model OWNER/NAME`, to see their "
                "answers side by side here."
            )
        text_in = gr.Textbox(
            label="Text to compare",
            # Gradio submits on Enter only for lines=1; the box still grows to max_lines.
            lines=1,
            max_lines=8,
            info=f"Every model reads the same text. Up to {settings.max_text_chars:,} characters. "
            "Enter compares; Shift+Enter starts a new line.",
            elem_id="compare-input",
        )
        with gr.Row():
            compare_btn = gr.Button("Compare", variant="primary")
            explain_btn = gr.Button("Explain with every model", variant="secondary")
            sentences_btn = gr.Button("By sentence, with every model", variant="secondary")
        agreement_out = gr.Markdown(label="Agreement", elem_id="compare-agreement")
        label_outs: list[gr.components.Component] = []
        explain_outs: list[gr.components.Component] = []
        sentence_outs: list[gr.components.Component] = []
        with gr.Row(equal_height=False):
            for index, model in enumerate(models, start=1):
                with gr.Column(min_width=220):
                    label_outs.append(
                        gr.Label(
                            label=model.name,
                            num_top_classes=len(model.labels),
                            elem_id=f"compare-label-{index}",
                        )
                    )
                    label_outs.append(
                        gr.Markdown(
                            label=f"Notice ({model.name})", elem_id=f"compare-notice-{index}"
                        )
                    )
                    explain_outs.append(
                        gr.HighlightedText(
                            label=f"Words that pushed {model.name}",
                            combine_adjacent=False,
                            show_legend=False,
                            elem_id=f"compare-explanation-{index}",
                        )
                    )
                    explain_outs.append(
                        gr.Markdown(
                            label=f"Explanation notice ({model.name})",
                            elem_id=f"compare-explanation-notice-{index}",
                        )
                    )
                    sentence_outs.append(
                        gr.HighlightedText(
                            label=f"Sentences by {model.name}",
                            combine_adjacent=False,
                            show_legend=False,
                            elem_id=f"compare-sentences-{index}",
                        )
                    )
                    sentence_outs.append(
                        gr.Markdown(
                            label=f"Sentence summary ({model.name})",
                            elem_id=f"compare-sentences-summary-{index}",
                        )
                    )
        if feedback is not None:
            feedback_controls(feedback, models, text_in, "compare")
        gr.Examples(
            examples=[[text] for text in COMPARE_EXAMPLES],
            inputs=[text_in],
            label="Texts where word lists and models often part ways: negation, sarcasm, facts",
        )

    stale = [*label_outs, agreement_out, *explain_outs, *sentence_outs]
    clear_when_changed(text_in, stale)  # old answers never sit beside a new text

    compare_kwargs: dict[str, Any] = {
        "fn": compare,
        "inputs": [text_in],
        "outputs": [*label_outs, agreement_out],
        "concurrency_id": "compare",
        "concurrency_limit": SLOW_EVENT_CONCURRENCY,
    }
    gr.on(
        triggers=[compare_btn.click, text_in.submit],
        **compare_kwargs,
        api_name="compare",
        api_description="Classify one text with every served model: per model its scores and a "
        "notice, then whether they agree.",
    )
    explain_btn.click(
        explain_all,
        inputs=[text_in],
        outputs=explain_outs,
        api_name="explain_all",
        api_description="Per-word weights of every served model towards its own prediction.",
        concurrency_id="explain",
        concurrency_limit=SLOW_EVENT_CONCURRENCY,
    )
    sentences_btn.click(
        compare_sentences,
        inputs=[text_in],
        outputs=sentence_outs,
        api_name="compare_sentences",
        api_description="Score one text sentence by sentence with every served model: per model "
        "its sentences with labels and scores, and a summary.",
        concurrency_id="sentences",
        concurrency_limit=SLOW_EVENT_CONCURRENCY,
    )
