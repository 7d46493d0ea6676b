"""The Gradio Blocks app, one module per tab; the only package importing gradio.

`build_demo` assembles the tabs over the served models (the first is the default). The tabs call each
model's classify function (its scheduler's, in the app) and know nothing about torch or tokenizers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import gradio as gr

from sentiment_demo.config import Settings
from sentiment_demo.core.served_model import ServedModel
from sentiment_demo.feedback.collect import FeedbackCollector
from sentiment_demo.files import ResultFiles
from sentiment_demo.ui.analyse_tab import build_analyse_tab
from sentiment_demo.ui.batch_tab import build_batch_tab
from sentiment_demo.ui.behaviour_tab import build_behaviour_tab
from sentiment_demo.ui.compare_tab import build_compare_tab
from sentiment_demo.ui.evaluate_tab import build_evaluate_tab
from sentiment_demo.ui.feedback_controls import BANNER, register_feedback_api
from sentiment_demo.ui.feedback_tab import build_feedback_tab
from sentiment_demo.ui.model_tab import build_model_tab


def build_demo(
    models: Sequence[ServedModel],
    settings: Settings,
    results: ResultFiles,
    feedback: FeedbackCollector | None = None,
) -> gr.Blocks:
    """Build the app over the served models; downloads are written by `results`.

    With a `feedback` collector, Analyse and Compare ask "Is this right?", a banner says what is
    kept, the `feedback` endpoint takes records from programs, and the owner gets a Feedback tab.
    """
    default = models[0]
    names = ", ".join(model.name for model in models)
    served = (
        f"every label's score ({', '.join(default.labels)})"
        if len(models) == 1
        else f"every label's score from {default.name}, or compare {names} side by side"
    )
    with gr.Blocks(title="Sentiment analysis") as demo:
        gr.Markdown(
            "# Sentiment analysis\n"
            f"Type a review, a tweet or any English text and see what the model makes of it: "
            f"{served}. Requests from everyone are queued and run together in batches."
        )
        if feedback is not None:
            gr.Markdown(BANNER, elem_id="feedback-banner")
        build_analyse_tab(default, settings, models, feedback)
        build_compare_tab(models, settings, feedback)
        build_batch_tab(models, settings, results)
        build_evaluate_tab(models, settings, results)
        build_behaviour_tab(models, settings, results)
        build_model_tab(models, settings)
        if feedback is not None:
            # The tab first: anything else between two tabs would start a second row of tabs.
            build_feedback_tab(feedback.store, settings, [m.name for m in models], results, demo)
            register_feedback_api(feedback)
    return cast(gr.Blocks, demo)
