"""The "Is this right?" controls under a model's answer, the banner, and the `feedback` API endpoint.

Handlers are thin: `FeedbackCollector.submit` (sentiment_demo/feedback/collect.py) does the work.
"""

from __future__ import annotations

from collections.abc import Sequence

import gradio as gr
from gradio.events import api as api_endpoint

from sentiment_demo.core.served_model import ServedModel
from sentiment_demo.feedback.collect import FeedbackCollector
from sentiment_demo.feedback.store import UP, FeedbackError
from sentiment_demo.ui.user_errors import user_facing_errors

BANNER = (
    "📝 **Feedback is collected here.** When you press 👍 or send a correction, the app keeps the "
    "text, the model's name, version, label and scores, your answer and note, the time, and a "
    "salted hash of your browser session: no IP address and no login name. The app's owner "
    "reviews it to improve the model. Nothing is kept unless you press a feedback button."
)


def client_of(request: gr.Request | None) -> str:
    """Who counts as one client for the rate limit (kept in memory only, never stored).

    The connection's address, as uvicorn resolved it: it believes X-Forwarded-For only from the hosts
    in --trusted-proxies (web/clients.py), so a client cannot pick its own address by a header.
    """
    if request is None or request.client is None:
        return "unknown"
    return str(request.client.host)


def session_of(request: gr.Request | None) -> str:
    """The visitor's Gradio session id (only its salted hash is stored)."""
    return (request.session_hash if request is not None else None) or ""


def register_feedback_api(collector: FeedbackCollector) -> None:
    """The `feedback` endpoint for programs and custom front ends (inside the caller's Blocks)."""

    def feedback(
        text: str, model: str, answer: str, note: str = "", request: gr.Request | None = None
    ) -> str:
        """Tell the app whether a model's label for a text is right.

        Args:
            text: the text the model classified.
            model: the served model's name, as the Model tab shows it.
            answer: "up" when the model's label is right, else the right label (one of the model's).
            note: an optional short note.
            request: the request (its session's salted hash is kept, never an address).
        """
        with user_facing_errors("Cannot save this feedback"):
            return collector.submit(
                text, model, answer, note, session_of(request), client_of(request)
            )

    api_endpoint(
        feedback,
        api_name="feedback",
        api_description="Record whether a model's label for a text is right: answer 'up', or the "
        "right label. The server classifies the text itself; returns a confirmation.",
        concurrency_id="feedback",
        concurrency_limit=8,
    )


def feedback_controls(
    collector: FeedbackCollector,
    models: Sequence[ServedModel],
    text_in: gr.components.Component,
    prefix: str,
    model_in: gr.Dropdown | None = None,
    missing_text: str = "",
) -> None:
    """Ask "Is this right?" for each model: 👍, or the right label and Send; one note and one status.

    With `model_in` (a model picker), one row asks about the model it names, its label choices
    following the picker. With `missing_text`, an empty `text_in` answers that message instead
    of storing anything (for controls about a text the visitor must pick first).
    """

    def send(text: str, model: str, answer: str | None, note: str, request: gr.Request) -> str:
        if missing_text and not text:
            return f"⚠️ {missing_text}"
        if not answer:
            return "⚠️ Choose the right label first, then press Send correction."
        try:
            return collector.submit(
                text, model, answer, note, session_of(request), client_of(request)
            )
        except FeedbackError as exc:
            return f"⚠️ {exc}"

    asked = [models[0]] if model_in is not None else list(models)
    with gr.Group(elem_id=f"{prefix}-feedback"):
        gr.Markdown("**Is this right?** Tell us, and help improve the model.")
        rows = []
        for index, model in enumerate(asked, start=1):
            suffix = "" if len(asked) == 1 else f"-{index}"
            with gr.Row(equal_height=True):
                up_btn = gr.Button(
                    "👍 Right" if len(asked) == 1 else f"👍 {model.name} is right",
                    variant="secondary",
                    elem_id=f"{prefix}-feedback-up{suffix}",
                    scale=1,
                    min_width=120,
                )
                label_in = gr.Dropdown(
                    label="The right label" if len(asked) == 1 else f"Right label ({model.name})",
                    choices=list(model.labels),
                    value=None,
                    elem_id=f"{prefix}-feedback-label{suffix}",
                    scale=2,
                    min_width=140,
                )
                fix_btn = gr.Button(
                    "Send correction",
                    variant="secondary",
                    elem_id=f"{prefix}-feedback-send{suffix}",
                    scale=1,
                    min_width=120,
                )
            rows.append((model, up_btn, label_in, fix_btn))
        note_in = gr.Textbox(
            label="Note (optional)",
            max_lines=2,
            max_length=collector.limits.max_note_chars or None,
            info=f"Up to {collector.limits.max_note_chars} characters; kept with your answer.",
            elem_id=f"{prefix}-feedback-note",
        )
        status_out = gr.Markdown(label="Feedback status", elem_id=f"{prefix}-feedback-status")

    labels_of = {model.name: list(model.labels) for model in models}
    for model, up_btn, label_in, fix_btn in rows:
        name: gr.components.Component = gr.State(model.name) if model_in is None else model_in
        up = gr.State(UP)
        for trigger, answer_in in ((up_btn, up), (fix_btn, label_in)):
            trigger.click(
                send,
                inputs=[text_in, name, answer_in, note_in],
                outputs=[status_out],
                api_visibility="private",
                concurrency_id="feedback",
                concurrency_limit=8,
            )
        if model_in is not None:
            model_in.change(
                lambda chosen: gr.Dropdown(choices=labels_of.get(chosen, []), value=None),
                inputs=[model_in],
                outputs=[label_in],
                queue=False,
                show_progress="hidden",
                api_visibility="private",
            )
