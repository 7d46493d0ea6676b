"""The Analyse tab: one text through the default model, its scores, and which words pushed them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import ModelInfo
from sentiment_demo.core.explain import METHOD
from sentiment_demo.core.served_model import ClassifyFn, ServedModel
from sentiment_demo.feedback.collect import FeedbackCollector
from sentiment_demo.ui.answer import answer_notice, answer_value, model_languages
from sentiment_demo.ui.common import (
    MODEL_QUEUE,
    PREDICTED,
    SLOW_EVENT_CONCURRENCY,
    emptied_in_browser,
    explain_with,
    explanation_value,
)
from sentiment_demo.ui.feedback_controls import feedback_controls
from sentiment_demo.ui.sentence_view import build_sentence_view
from sentiment_demo.ui.user_errors import user_facing_errors

EXAMPLES = (
    "An absolute joy from start to finish: sharp writing, warm performances, and a finale that "
    "earns every tear.",
    "A dull, lifeless slog that wastes a talented cast.",
    "The meeting has been moved to 3pm on Thursday in room 204.",
    "lol this is sick 🔥🔥",
    "Not bad at all. I expected to hate it and didn't.",
    "The food was okay.",
    "@united my bag has been lost for three days and nobody answers the phone",
    "Oh great, another two-hour car commercial. Just what the world needed.",
)


def classify_texts(
    classify: ClassifyFn, texts: Sequence[object], info: ModelInfo, languages: tuple[str, ...] = ()
) -> tuple[list[Any], list[str]]:
    """The batched `classify` handler: one label value and one notice per queued request.

    The notice adds a close call and a text the model was not trained for (another of the card's
    `languages`, mostly emoji, code or numbers) to any refusal or truncation.
    """
    outcomes = classify(texts)
    notices = [
        answer_notice(o, info, t if isinstance(t, str) else "", languages)
        for o, t in zip(outcomes, texts, strict=True)
    ]
    return [answer_value(o, info) for o in outcomes], notices


def build_analyse_tab(
    model: ServedModel,
    settings: Settings,
    models: Sequence[ServedModel] = (),
    feedback: FeedbackCollector | None = None,
) -> None:
    """The tab's components and events (`classify`, `explain`, `sentences`) in the caller's Blocks.

    The sentence view can use any of `models` (default: `model` alone). With `feedback`, "Is this
    right?" controls sit under the scores.
    """
    labels = model.labels
    scheme = model.info.scheme
    languages = model_languages(model.info)

    # The names and docstrings of these handlers are what MCP clients see as tools.
    def classify(text: list[object]) -> tuple[list[Any], list[str]]:
        """Classify the sentiment of one English text: every label's score, and a notice."""
        # Batched: `text` holds one text per queued request (named for the API page).
        with user_facing_errors():
            return classify_texts(model.classify, text, model.info, languages)

    def explain(
        text: str, label: str | None = PREDICTED
    ) -> tuple[list[tuple[str, float | None]], str]:
        """Show which words of a text pushed its sentiment, with weights in [-1, 1].

        Args:
            text: the text to explain.
            label: the label to explain; the predicted one by default.
        """
        with user_facing_errors():
            chosen = None if not label or label == PREDICTED else label
            result = explain_with(model, text, settings, chosen)
        return explanation_value(result, scheme)

    with gr.Tab("Analyse"):
        with gr.Row():
            with gr.Column(scale=3):
                text_in = gr.Textbox(
                    label="Text",
                    # Gradio submits on Enter only for lines=1; the box still grows to max_lines.
                    lines=1,
                    max_lines=12,
                    placeholder="The film is a triumph of style over substance...",
                    info=f"Up to {settings.max_text_chars:,} characters ("
                    f"{settings.max_document_chars:,} by sentence). Enter analyses; "
                    "Shift+Enter starts a new line.",
                    elem_id="text-input",
                )
                with gr.Row():
                    analyze_btn = gr.Button("Analyse", variant="primary")
                    explain_btn = gr.Button("Explain", variant="secondary")
                    explain_label_in = gr.Dropdown(
                        label="Label to explain",
                        choices=[PREDICTED, *labels],
                        value=PREDICTED,
                        elem_id="explain-label",
                        scale=2,
                    )
            with gr.Column(scale=2):
                label_out = gr.Label(
                    label=f"Sentiment ({model.name})",
                    num_top_classes=len(labels),
                    elem_id="sentiment-output",
                )
                status_out = gr.Markdown(label="Notice", elem_id="sentiment-status")
                if feedback is not None:
                    feedback_controls(feedback, [model], text_in, "analyse")
        explanation_out = gr.HighlightedText(
            label=f"Which words pushed the prediction ({METHOD}: each word's weight is how much "
            "removing it lowers the score)",
            elem_id="explanation-output",
            combine_adjacent=False,
            show_legend=False,
        )
        explain_status_out = gr.Markdown(label="Explanation notice", elem_id="explanation-status")
        examples = gr.Examples(
            examples=[[text] for text in EXAMPLES],
            inputs=[text_in],
            label="Examples: reviews, tweets, plain statements, negation and sarcasm (click one "
            "to analyse it)",
        )
        sentence_outputs, sentence_cleared = build_sentence_view(
            models or [model], settings, text_in
        )

    stale = [label_out, status_out, explanation_out, explain_status_out, *sentence_outputs]

    def clear_results() -> tuple[Any, ...]:
        """Everything shown for the previous text, emptied: it no longer belongs to the box."""
        return (None, "", None, "", *sentence_cleared())

    classify_kwargs: dict[str, Any] = {
        "fn": classify,
        "inputs": [text_in],
        "outputs": [label_out, status_out],
        "batch": True,
        "max_batch_size": settings.max_batch_size,
        "concurrency_id": MODEL_QUEUE,
        # Several queued batches may wait on the scheduler at once; it merges them.
        "concurrency_limit": settings.handler_concurrency,
    }
    gr.on(
        triggers=[analyze_btn.click, text_in.submit],
        **classify_kwargs,
        api_name="classify",
        api_description="Classify one text: every label's score, and a notice "
        "when the text was refused or truncated.",
    )
    # Typing empties the old answers in the browser at once; an example empties them, then runs.
    text_in.input(
        None,
        outputs=stale,
        js=emptied_in_browser(stale),
        queue=False,
        show_progress="hidden",
        api_visibility="private",
    )
    examples.load_input_event.then(
        clear_results, outputs=stale, queue=False, show_progress="hidden", api_visibility="private"
    ).then(**classify_kwargs, api_visibility="private")
    explain_btn.click(
        explain,
        inputs=[text_in, explain_label_in],
        outputs=[explanation_out, explain_status_out],
        api_name="explain",
        api_description=f"Per-word weights in [-1, 1] by {METHOD} towards a label (the predicted "
        "one by default), computed in one batch.",
        concurrency_id="explain",
        concurrency_limit=SLOW_EVENT_CONCURRENCY,
    )
