"""The Analyse tab: one text through the default model, its scores, and which words pushed them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import ModelInfo
from sentiment_demo.core.explain import METHOD
from sentiment_demo.core.served_model import ClassifyFn, ServedModel, choose_models
from sentiment_demo.core.text_kind import load_language_identifier
from sentiment_demo.errors import InputError
from sentiment_demo.feedback.collect import FeedbackCollector
from sentiment_demo.ui.answer import answer_notice, answer_value, model_languages
from sentiment_demo.ui.common import (
    MODEL_QUEUE,
    PREDICTED,
    SLOW_EVENT_CONCURRENCY,
    any_column_name,
    clear_when_changed,
    explain_with,
    explanation_value,
    on_every_model,
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


def classify_with_chosen(
    models: Sequence[ServedModel], texts: Sequence[object], names: Sequence[object]
) -> tuple[list[Any], list[str]]:
    """A batch whose requests may each name a served model: one value and notice per request.

    The requests are grouped by model and each model's classify (its scheduler) is called once,
    the models at once. An empty name means the default (first) model; a name the app does not
    serve gets its own notice listing the served ones, and never fails the rest of the batch.
    """
    values: list[Any] = [None] * len(texts)
    notices: list[str] = [""] * len(texts)
    groups: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        wanted = str(name) if name else models[0].name
        try:
            groups.setdefault(choose_models(models, [wanted])[0].name, []).append(index)
        except InputError as exc:
            notices[index] = f"⚠️ {exc}"
    chosen = [model for model in models if model.name in groups]

    def run(model: ServedModel) -> tuple[list[Any], list[str]]:
        return classify_texts(
            model.classify,
            [texts[i] for i in groups[model.name]],
            model.info,
            model_languages(model.info),
        )

    for model, (model_values, model_notices) in zip(
        chosen, on_every_model(chosen, run) if chosen else [], strict=True
    ):
        for index, value, notice in zip(
            groups[model.name], model_values, model_notices, strict=True
        ):
            values[index] = value
            notices[index] = notice
    return values, notices


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
    served = list(models) or [model]
    if model not in served:
        served.insert(0, model)
    if any(model_languages(m.info) for m in served):
        load_language_identifier()  # now, not in the first visitor's request

    # The names and docstrings of these handlers are what MCP clients see as tools.
    def classify(text: list[object], model: list[object]) -> tuple[list[Any], list[str]]:
        """Classify the sentiment of one English text: every label's score, and a notice.

        Args:
            text: the text to classify.
            model: the served model to use, by name; the default model when empty.
        """
        # Batched: one list per input, one item per queued request (named for the API page).
        with user_facing_errors():
            return classify_with_chosen(served, text, model)

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
                model_in = gr.Dropdown(
                    label="Model",
                    choices=[m.name for m in served],
                    value=served[0].name,
                    visible=len(served) > 1,
                    info="Which served model answers Analyse (Explain uses the default model).",
                    # Checked by the handler, whose notice names the served models.
                    allow_custom_value=True,
                    elem_id="analyse-model",
                )
                model_in.api_info = any_column_name  # type: ignore[method-assign]
            with gr.Column(scale=2):
                label_out = gr.Label(
                    label=f"Sentiment ({model.name})" if len(served) == 1 else "Sentiment",
                    num_top_classes=max(len(m.labels) for m in served),
                    elem_id="sentiment-output",
                )
                status_out = gr.Markdown(label="Notice", elem_id="sentiment-status")
                if feedback is not None:
                    feedback_controls(feedback, served, text_in, "analyse", model_in)
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
            served, settings, text_in, feedback
        )

    stale = [label_out, status_out, explanation_out, explain_status_out, *sentence_outputs]

    def clear_results() -> tuple[Any, ...]:
        """Everything shown for the previous text, emptied: it no longer belongs to the box."""
        return (None, "", None, "", *sentence_cleared())

    classify_kwargs: dict[str, Any] = {
        "fn": classify,
        "inputs": [text_in, model_in],
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
        api_description="Classify one text with a served model (the default one unless `model` "
        "names another): every label's score, and a notice when the text was refused or truncated.",
    )
    clear_when_changed(text_in, stale)  # old answers never sit beside a new text
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
