"""The sentence view inside the Analyse tab: layout and wiring of the `sentences` event.

The work is sentiment_demo.documents (splitting, windows, aggregates, aspects) and
ui/sentence_report.py (the values shown); this module only places and connects components.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import gradio as gr

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Rejection
from sentiment_demo.core.served_model import ServedModel
from sentiment_demo.documents.analysis import (
    DocumentOptions,
    DocumentReport,
    analyse_document,
    parse_aspects,
)
from sentiment_demo.errors import InputError
from sentiment_demo.feedback.collect import FeedbackCollector
from sentiment_demo.ui.answer import model_languages
from sentiment_demo.ui.common import (
    SLOW_EVENT_CONCURRENCY,
    any_column_name,
    as_markdown_text,
    explain_with,
    explanation_value,
)
from sentiment_demo.ui.feedback_controls import feedback_controls
from sentiment_demo.ui.sentence_report import (
    ASPECT_NOTE,
    SIGNED,
    arc_frame,
    aspects_frame,
    highlighted,
    judged_scheme,
    report_json,
    summary_markdown,
)
from sentiment_demo.ui.user_errors import user_facing_errors

SENTENCES_CONCURRENCY_ID = "sentences"
# The arc is drawn from this many read sentences on: one or two points make no arc.
ARC_MIN_SENTENCES = 3


def choose_model(models: Sequence[ServedModel], name: str | None) -> ServedModel:
    """The served model called `name`, the first one when no name is given.

    Raises:
        InputError: for a name the app does not serve.
    """
    if not name:
        return models[0]
    for model in models:
        if model.name == name:
            return model
    served = ", ".join(model.name for model in models)
    raise InputError(f"No model named {name!r}; this app serves {served}.")


def sentence_values(
    report: DocumentReport | Rejection, model: ServedModel | None = None
) -> tuple[Any, ...]:
    """The component updates of the sentence view for one report (or refusal).

    With the `model` that read it, close calls are marked and a text the model was not trained
    for gets a notice.
    """
    arc = arc_frame(report)
    aspects = aspects_frame(report)
    scheme = judged_scheme(model.info) if model is not None else None
    languages = model_languages(model.info) if model is not None else ()
    if isinstance(report, DocumentReport):
        pieces, colours = highlighted(report, scheme)
    else:
        pieces, colours = [], {}
    return (
        gr.HighlightedText(value=pieces, color_map=colours),
        summary_markdown(report, scheme, languages),
        gr.LinePlot(value=arc, visible=len(arc) >= ARC_MIN_SENTENCES),
        gr.Dataframe(value=aspects, visible=len(aspects) > 0),
        report_json(report),
    )


def cleared_sentence_values() -> tuple[Any, ...]:
    """The sentence view emptied, for a new text: the old sentences no longer belong to the box."""
    return (
        gr.HighlightedText(value=[], color_map={}),
        "",
        gr.LinePlot(value=None, visible=False),
        gr.Dataframe(value=None, visible=False),
        None,
        gr.HighlightedText(value=[], visible=False),
        "",
        "",
    )


def clicked_sentence(value: object) -> str:
    """The sentence a click on the sentence view chose, or "" for a click on the gaps between them.

    Gradio's select event gives `[text, category]` for a coloured piece and `[text, None]` (or the
    text alone) for the uncoloured space between sentences.
    """
    pair = value if isinstance(value, list | tuple) else [value, None]
    if len(pair) < 2 or pair[1] is None:
        return ""
    return str(pair[0]).strip()


def build_sentence_view(
    models: Sequence[ServedModel],
    settings: Settings,
    text_in: gr.Textbox,
    feedback: FeedbackCollector | None = None,
) -> tuple[list[gr.components.Component], Callable[[], tuple[Any, ...]]]:
    """The sentence view's components and events, inside the caller's tab; reads `text_in`.

    With `feedback`, "Is this right?" asks about the clicked sentence's label (by the view's model).
    Returns its outputs and the function that empties them, for the caller to clear on a new text.
    """
    options = DocumentOptions.from_settings(settings)

    def sentences(
        text: str, aspects: str | None = None, model: str | None = None
    ) -> tuple[Any, ...]:
        """Score a text sentence by sentence: each sentence's label and score, a summary and aspects.

        Args:
            text: the text, up to the sentence view's character and sentence limits.
            aspects: optional aspect terms separated by commas ("battery, screen, price"): for
                each, the labels of the sentences that mention it and a verdict.
            model: the served model to use, by name; the default model when empty.
        """
        with user_facing_errors():
            chosen = choose_model(models, model)
            terms = parse_aspects(aspects, settings.max_aspects)
            report = analyse_document(text, chosen.classify, chosen.labels, options, terms)
        return sentence_values(report, chosen)

    def explain_sentence(model: str | None, evt: gr.SelectData) -> tuple[Any, ...]:
        sentence = clicked_sentence(evt.value)
        if not sentence:
            return (
                gr.HighlightedText(value=[], visible=False),
                "Click a coloured sentence to see which of its words pushed its label.",
                "",
            )
        with user_facing_errors():
            result = explain_with(choose_model(models, model), sentence, settings)
        pieces, notice = explanation_value(result)
        shown: list[tuple[str, str | float | None]] = list(pieces)
        return (
            gr.HighlightedText(value=shown, visible=True),
            f"Sentence: “{as_markdown_text(sentence[:80])}”. {notice}",
            sentence,
        )

    with gr.Group():
        gr.Markdown(
            "### Sentence by sentence\n"
            f"Every sentence scored, nothing cut: texts up to {settings.max_document_chars:,} "
            f"characters and {settings.max_document_sentences:,} sentences. Click a sentence "
            "to explain it."
        )
        with gr.Row():
            aspects_in = gr.Textbox(
                label="Aspects (optional, comma-separated)",
                placeholder="battery, screen, price",
                info=ASPECT_NOTE,
                elem_id="sentences-aspects-input",
                scale=3,
                min_width=260,
            )
            model_in = gr.Dropdown(
                label="Model for the sentence view",
                choices=[model.name for model in models],
                value=models[0].name,
                visible=len(models) > 1,
                # Checked by the handler, whose message names the served models.
                allow_custom_value=True,
                elem_id="sentences-model",
                scale=1,
                min_width=200,
            )
            model_in.api_info = any_column_name  # type: ignore[method-assign]
        sentences_btn = gr.Button("Analyse by sentence", variant="primary")
        sentences_out = gr.HighlightedText(
            label="Each sentence in place, coloured by its label, with its score",
            elem_id="sentences-output",
            show_legend=False,
            show_inline_category=True,
            combine_adjacent=False,
        )
        sentence_explanation_out = gr.HighlightedText(
            label="Which words pushed the clicked sentence",
            visible=False,
            combine_adjacent=False,
            show_legend=False,
            elem_id="sentence-explanation",
        )
        sentence_explain_status_out = gr.Markdown(
            label="Sentence explanation notice", elem_id="sentence-explanation-status"
        )
        # The clicked sentence: what the feedback controls ask about (shown only with feedback).
        sentence_picked = gr.Textbox(
            label="Is the clicked sentence's label right? (click a coloured sentence above)",
            interactive=False,
            visible=feedback is not None,
            max_lines=3,
            elem_id="sentences-feedback-sentence",
        )
        if feedback is not None:
            feedback_controls(
                feedback,
                models,
                sentence_picked,
                "sentences",
                model_in,
                missing_text="Click a coloured sentence first: the answer is about that sentence.",
            )
        summary_out = gr.Markdown(label="Summary", elem_id="sentences-summary")
        arc_out = gr.LinePlot(
            x="sentence",
            y=SIGNED,
            label="Sentiment arc: each sentence's positive minus negative score",
            x_title="sentence number",
            y_title="positive − negative",
            y_lim=[-1, 1],
            x_axis_format="d",
            tooltip="all",
            visible=False,
            elem_id="sentences-arc",
        )
        aspects_out = gr.Dataframe(
            label="Aspects",
            visible=False,
            interactive=False,
            wrap=True,
            elem_id="sentences-aspects",
        )
        json_out = gr.JSON(visible=False, label="Report")

    gr.on(
        triggers=[sentences_btn.click, aspects_in.submit],
        fn=sentences,
        inputs=[text_in, aspects_in, model_in],
        outputs=[sentences_out, summary_out, arc_out, aspects_out, json_out],
        api_name="sentences",
        api_description="Score a text sentence by sentence: the sentences with their labels and "
        "scores, a summary (counts, length-weighted reading, whole-text answer and how it was "
        "reached, most positive and negative sentence), the arc, the aspects and the whole "
        "report as JSON.",
        concurrency_id=SENTENCES_CONCURRENCY_ID,
        concurrency_limit=SLOW_EVENT_CONCURRENCY,
    )
    outputs: list[gr.components.Component] = [
        sentences_out,
        summary_out,
        arc_out,
        aspects_out,
        json_out,
        sentence_explanation_out,
        sentence_explain_status_out,
        sentence_picked,
    ]
    sentences_out.select(
        explain_sentence,
        inputs=[model_in],
        outputs=[sentence_explanation_out, sentence_explain_status_out, sentence_picked],
        api_visibility="private",
        concurrency_id="explain",
        concurrency_limit=SLOW_EVENT_CONCURRENCY,
    )
    return outputs, cleared_sentence_values
