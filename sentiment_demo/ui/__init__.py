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
from sentiment_demo.files import ResultFiles
from sentiment_demo.ui.analyse_tab import build_analyse_tab
from sentiment_demo.ui.batch_tab import build_batch_tab
from sentiment_demo.ui.compare_tab import build_compare_tab
from sentiment_demo.ui.evaluate_tab import build_evaluate_tab
from sentiment_demo.ui.model_tab import build_model_tab


def build_demo(
    models: Sequence[ServedModel], settings: Settings, results: ResultFiles
) -> gr.Blocks:
    """Build the app over the served models; downloads are written by `results`."""
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
        build_analyse_tab(default, settings, models)
        build_compare_tab(models, settings)
        build_batch_tab(models, settings, results)
        build_evaluate_tab(models, settings, results)
        build_model_tab(models, settings)
    return cast(gr.Blocks, demo)
