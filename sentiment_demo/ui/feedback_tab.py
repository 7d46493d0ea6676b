"""The Feedback tab, for the app's owner only: counts, thumbs-up shares, confusion, records, exports.

Every endpoint checks, on the server, that the request is the owner's (signed in here with
--feedback-owner, or logged in with --auth when no owner login is set); a visitor's call is refused,
and the review area stays hidden and empty for them. The tables come from feedback/review.py.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from sentiment_demo.config import Settings
from sentiment_demo.feedback import review
from sentiment_demo.feedback.collect import RateLimiter
from sentiment_demo.feedback.store import STATUSES, UP, FeedbackError, FeedbackStore
from sentiment_demo.files import ResultFiles
from sentiment_demo.ui.feedback_controls import client_of

ANY = "any"
SHOWN_RECORDS = 500
REFUSED = (
    "The Feedback tab is for the app's owner: sign in with the owner login (--feedback-owner) "
    "in this tab first."
)
# Failed owner sign-ins allowed per client per minute: enough for typos, too few to guess.
SIGN_IN_ATTEMPTS = 5


def owner_allowed(settings: Settings, signed_in: bool, username: str | None) -> bool:
    """Whether a request may review: the owner login if set, else any --auth user, else nobody."""
    if settings.feedback_owner:
        return signed_in
    if settings.auth:
        return bool(username)
    return False


def check_owner_login(settings: Settings, user: str, password: str) -> bool:
    """Whether user and password match a --feedback-owner pair (compared in constant time)."""
    pairs = settings.feedback_owner_credentials() or []
    return any(
        hmac.compare_digest(user.encode(), u.encode())
        & hmac.compare_digest(password.encode(), p.encode())
        for u, p in pairs
    )


def build_feedback_tab(
    store: FeedbackStore, settings: Settings, model_names: list[str], results: ResultFiles,
    demo: gr.Blocks,
) -> None:  # fmt: skip
    """The tab and its owner-only endpoints, inside the caller's Blocks."""
    failures = RateLimiter(SIGN_IN_ATTEMPTS)

    def require_owner(signed_in: bool, request: gr.Request) -> None:
        if not owner_allowed(settings, bool(signed_in), getattr(request, "username", None)):
            raise gr.Error(REFUSED, title="Owner only", print_exception=False)

    def tables(
        model: str, status: str, answer: str, contains: str
    ) -> tuple[str, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        every = store.records()
        shown = store.records(
            model=None if model in ("", ANY) else model,
            status=None if status in ("", ANY) else status,
            answer=None if answer in ("", ANY) else answer,
            contains=contains or None,
            limit=SHOWN_RECORDS,
        )
        counts = review.counts_line(every)
        if len(shown) == SHOWN_RECORDS:
            counts += f" Showing the newest {SHOWN_RECORDS}; narrow the filters or export."
        return (
            counts,
            review.thumbs_up_share(every),
            review.confusion_table(every),
            review.records_table(shown),
        )

    def sign_in(user: str, password: str, request: gr.Request) -> tuple[Any, ...]:
        """Sign in as the owner; the session may then review."""
        if not settings.feedback_owner:
            message = (
                "Log in with the app's login (--auth) to review."
                if settings.auth
                else "No owner login is set: start the app with --feedback-owner user:password."
            )
            return False, gr.update(visible=False), f"⚠️ {message}"
        try:
            failures.check(client_of(request))
        except FeedbackError:
            return False, gr.update(visible=False), "⚠️ Too many failed sign-ins; wait a minute."
        if not check_owner_login(settings, user or "", password or ""):
            return False, gr.update(visible=False), "⚠️ Wrong user name or password."
        failures.forget(client_of(request))
        return True, gr.update(visible=True), "✅ Signed in as the owner. Press Refresh."

    def show(
        signed_in: bool, model: str, status: str, answer: str, contains: str, request: gr.Request
    ) -> tuple[str, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Counts, thumbs-up share per model and label, the confusion table, and the records."""
        require_owner(signed_in, request)
        return tables(model, status, answer, contains)

    def mark(
        signed_in: bool, ids: str, status: str, model: str, status_filter: str, answer: str,
        contains: str, request: gr.Request,
    ) -> tuple[str, str, pd.DataFrame, pd.DataFrame, pd.DataFrame]:  # fmt: skip
        """Mark records (ids like `3, 5-8`) accepted, rejected or new."""
        require_owner(signed_in, request)
        try:
            chosen = review.parse_ids(ids or "")
        except ValueError as exc:
            raise gr.Error(str(exc), title="Record ids", print_exception=False) from None
        if not chosen:
            raise gr.Error("Type the ids of the records to mark, e.g. 3, 5-8.", title="Record ids")
        if status not in STATUSES:
            raise gr.Error(f"status must be one of {', '.join(STATUSES)}", title="Status")
        changed = store.set_status(chosen, status)
        message = f"Marked {changed} of {len(chosen)} record(s) {status}."
        return (message, *tables(model, status_filter, answer, contains))

    def export(signed_in: bool, kind: str, request: gr.Request) -> str:
        """Every record as CSV, JSON lines or Parquet."""
        require_owner(signed_in, request)
        if kind not in review.EXPORTS:
            raise gr.Error(f"format must be one of {', '.join(review.EXPORTS)}", title="Export")
        results.sweep()
        folder = Path(results.folder)
        return str(review.write_export(store.records(), kind, folder))

    with gr.Tab("Feedback", elem_id="feedback-tab"):
        signed_in = gr.State(False)
        gr.Markdown(
            "Visitors' answers to *Is this right?*, for the app's owner. Accepted records feed "
            "`python -m recipe.finetune --data FEEDBACK.sqlite` and the Hub dataset."
        )
        with gr.Row(visible=bool(settings.feedback_owner)):
            user_in = gr.Textbox(label="Owner user name", scale=2, elem_id="feedback-user")
            password_in = gr.Textbox(
                label="Owner password", type="password", scale=2, elem_id="feedback-password"
            )
            sign_in_btn = gr.Button("Sign in", variant="primary", scale=1, min_width=100)
        sign_in_out = gr.Markdown(label="Sign-in status", elem_id="feedback-sign-in-status")
        with gr.Column(visible=False, elem_id="feedback-review") as review_area:
            with gr.Row():
                model_in = gr.Dropdown(
                    label="Model", choices=[ANY, *model_names], value=ANY, min_width=140
                )
                status_in = gr.Dropdown(
                    label="Status", choices=[ANY, *STATUSES], value=ANY, min_width=120
                )
                answer_in = gr.Dropdown(
                    label="Answer",
                    choices=[ANY, UP, "corrected"],
                    value=ANY,
                    allow_custom_value=True,
                    info="up, corrected, or a label",
                    min_width=120,
                )
                contains_in = gr.Textbox(label="Text contains", min_width=140)
            refresh_btn = gr.Button("Refresh", variant="primary", elem_id="feedback-refresh")
            counts_out = gr.Markdown(label="Counts", elem_id="feedback-counts")
            with gr.Row(equal_height=False):
                share_out = gr.Dataframe(
                    label="👍 share per model and predicted label", elem_id="feedback-share",
                    interactive=False,
                )  # fmt: skip
                confusion_out = gr.Dataframe(
                    label="Confusion: the model's label (rows) against the visitor's (columns)",
                    elem_id="feedback-confusion",
                    interactive=False,
                )
            records_out = gr.Dataframe(
                label=f"Records (newest first, at most {SHOWN_RECORDS})",
                elem_id="feedback-records",
                interactive=False,
                wrap=True,
            )
            with gr.Row(equal_height=True):
                ids_in = gr.Textbox(
                    label="Record ids", placeholder="3, 5-8", elem_id="feedback-ids", scale=2
                )
                mark_in = gr.Radio(
                    label="Mark as", choices=list(STATUSES), value="accepted", scale=2
                )
                mark_btn = gr.Button("Mark", variant="secondary", scale=1, min_width=100)
            mark_out = gr.Markdown(label="Mark status", elem_id="feedback-mark-status")
            with gr.Row(equal_height=True):
                kind_in = gr.Radio(
                    label="Export format", choices=list(review.EXPORTS), value="csv", scale=2
                )
                export_btn = gr.Button("Export every record", scale=1, min_width=120)
                export_out = gr.File(label="Export", elem_id="feedback-export", scale=2)

    filters = [model_in, status_in, answer_in, contains_in]
    table_outs = [counts_out, share_out, confusion_out, records_out]
    sign_in_btn.click(
        sign_in,
        inputs=[user_in, password_in],
        outputs=[signed_in, review_area, sign_in_out],
        api_name="feedback_sign_in",
        concurrency_id="feedback_review",
    )
    refresh_btn.click(
        show,
        inputs=[signed_in, *filters],
        outputs=table_outs,
        api_name="feedback_review",
        concurrency_id="feedback_review",
    )
    mark_btn.click(
        mark,
        inputs=[signed_in, ids_in, mark_in, *filters],
        outputs=[mark_out, *table_outs],
        api_name="feedback_mark",
        concurrency_id="feedback_review",
    )
    export_btn.click(
        export,
        inputs=[signed_in, kind_in],
        outputs=[export_out],
        api_name="feedback_export",
        concurrency_id="feedback_review",
    )

    def reveal(request: gr.Request) -> dict[str, Any]:
        allowed = owner_allowed(settings, False, getattr(request, "username", None))
        return dict(gr.update(visible=allowed))

    if settings.auth and not settings.feedback_owner:
        demo.load(reveal, outputs=[review_area], api_visibility="private")
