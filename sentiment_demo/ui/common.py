"""What every tab shares: outcomes turned into notices and component values, classifying with progress.

No Gradio import: report functions and their unit tests use it without a server.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from sentiment_demo.config import Settings
from sentiment_demo.core import explain as explanations
from sentiment_demo.core.classifier import Outcome, Prediction, Rejection, Scheme
from sentiment_demo.core.engine import check_text
from sentiment_demo.core.explain import METHOD, Explanation
from sentiment_demo.core.schemes import MULTI_LABEL_THRESHOLD, read
from sentiment_demo.core.served_model import ClassifyFn, ServedModel

if TYPE_CHECKING:  # the type only: this module imports no Gradio at run time
    import gradio as gr

logger = logging.getLogger("sentiment_demo.ui")
T = TypeVar("T")

MODEL_QUEUE = "model"
# Explanations, comparisons and Batch or Evaluate jobs get Gradio slots of their own: in the model's
# group, one Batch job held its only slot for seconds and every single text queued behind it. The
# scheduler interleaves their chunks with single texts, so a few may run at once.
SLOW_EVENT_CONCURRENCY = 4
PROGRESS_CHUNK = 128
PREDICTED = "the predicted label"


# Inline text never starts a line, so only inline syntax needs escaping: emphasis, code, links.
MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]~])")
# GFM turns bare "https://...", "www.example.com" and "a@b.org" into links; a backslash before the
# colon, the dot after "www" or the at sign leaves them as text (the backslash is not shown).
BARE_LINKS = re.compile(r"(?i)(?<=[a-z0-9])(://)|\b(?<=www)(\.)|(?<=\w)(@)(?=\w)")


def as_markdown_text(text: str) -> str:
    """User-supplied text (a file or column name, a label value) made inert inside gr.Markdown.

    Markdown syntax is backslash-escaped, "&" and HTML brackets become entities (so "&lt;b&gt;"
    shows as typed, not as "<b>"), and bare URLs and e-mail addresses are not turned into links: a
    hostile name shows as the characters it is, never as a link, an image or markup.
    """
    escaped = MARKDOWN_SPECIALS.sub(r"\\\1", text)
    escaped = BARE_LINKS.sub(lambda match: "\\" + match.group(0), escaped)
    escaped = escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\n", " ")


def any_column_name() -> dict[str, Any]:
    """The API type of a column picker: any string, since its choices come from each upload.

    gradio 6.31 publishes a Dropdown's current choices as an enum: empty at start-up, so no value
    would satisfy the API schema and the MCP tool could not be called. (A Dropdown subclass would
    fix it too, but Gradio writes a .pyi stub beside the module of every component subclass.)
    """
    return {"type": "string"}


def emptied_in_browser(components: Sequence[Any]) -> str:
    """A `js=` function that empties Gradio components in the browser itself, as the event fires.

    Clearing old answers on every keystroke this way costs no request, and it cannot arrive after
    the answer to the new text (a server-side clear could, and wiped fresh answers under load).
    Each value is what the component's own postprocess makes of None (the browser needs that form).
    """
    values = []
    for component in components:
        value = component.postprocess(None)
        values.append(value.model_dump() if hasattr(value, "model_dump") else value)
    return f"() => {json.dumps(values)}"


def clear_when_changed(box: gr.Textbox, outputs: Sequence[Any]) -> None:
    """Any change of `box` (typing, pasting, deleting, an example) empties `outputs` in the browser.

    `.change` rather than `.input`, which missed a paste or a select-all-and-delete.
    """
    box.change(
        None,
        outputs=list(outputs),
        js=emptied_in_browser(outputs),
        queue=False,
        show_progress="hidden",
        api_visibility="private",
    )


def describe(outcome: Outcome) -> str:
    """Why a text was refused, or that it was truncated; empty for a plain prediction."""
    if isinstance(outcome, Rejection):
        return outcome.message
    if outcome.readable_tokens == 0:
        return (
            "The model found no word it knows in this text (only unknown or special tokens), so "
            "these scores say little about it."
        )
    if outcome.truncated:
        return (
            f"The text is {outcome.num_tokens:,} tokens long; the model read the first "
            f"{outcome.kept_tokens:,} and the rest was ignored."
        )
    return ""


def notice_for(outcome: Outcome, scheme: Scheme = "single_label") -> str:
    """The notice shown under the label: a refusal, a truncation, and how to read the scores."""
    if isinstance(outcome, Rejection):
        return f"⚠️ {outcome.message}"
    lines = []
    if outcome.readable_tokens == 0:
        lines.append(f"⚠️ {describe(outcome)}")
    elif outcome.truncated:
        lines.append(f"✂️ {describe(outcome)}")
    if scheme == "multi_label":
        lines.append(
            f"Multi-label model: each score is an independent probability. Over "
            f"{MULTI_LABEL_THRESHOLD}: {read(outcome, scheme).text}."
        )
    elif scheme == "regression":
        lines.append("Regression model: the value is the model's output, not a probability.")
    return "\n\n".join(lines)


def label_value(outcome: Outcome, scheme: Scheme) -> dict[str, float] | str | None:
    """What gr.Label shows: every label's score, the regression value as text, or nothing."""
    if not isinstance(outcome, Prediction):
        return None
    return read(outcome, scheme).text if scheme == "regression" else outcome.as_dict()


def explanation_value(
    result: Explanation | Rejection, scheme: Scheme = "single_label"
) -> tuple[list[tuple[str, float | None]], str]:
    """The HighlightedText value and the notice for one explanation, naming the label explained."""
    if isinstance(result, Rejection):
        return [], f"⚠️ {result.message}"
    which = "the predicted label" if result.predicted else "the label you chose"
    if scheme == "regression":
        notice = (
            f"Red words pushed the value of **{result.label}** up, blue words down (weights by "
            f"{METHOD}, scaled so that the strongest word weighs ±1)."
        )
    else:
        notice = (
            f"Explaining **{result.label}** ({which}): red words pushed towards it, blue words "
            f"away from it (weights by {METHOD}; stronger colour, stronger push)."
        )
    if result.explained_words < result.total_words:
        notice += (
            f" Only the first {result.explained_words} of {result.total_words} words were weighed; "
            "the rest are shown uncoloured."
        )
    return [(piece, weight) for piece, weight in result.pieces], notice


def explain_with(
    model: ServedModel, text: str, settings: Settings, label: str | None = None
) -> Explanation | Rejection:
    """One model's explanation of a text (towards `label`, else its prediction), within the limits."""
    return explanations.explain(
        text,
        model.classify,
        settings.max_explain_words,
        raw_values=model.info.scheme == "regression",
        check=lambda t: check_text(t, settings.max_text_chars),
        label=label,
    )


def classify_in_chunks(
    classify_fn: ClassifyFn, texts: Sequence[str], progress: Callable[..., Any], desc: str
) -> list[Outcome]:
    """Classify many texts in chunks, moving a progress bar (texts done, time left) between them."""
    outcomes: list[Outcome] = []
    for start in range(0, len(texts), PROGRESS_CHUNK):
        progress((start, len(texts)), desc=desc, unit="texts")
        outcomes += classify_fn(texts[start : start + PROGRESS_CHUNK])
    return outcomes


def classify_with_models(
    models: Sequence[ServedModel], texts: Sequence[str], progress: Callable[..., Any]
) -> list[list[Outcome]]:
    """Every model's outcomes for the texts, one list per model, the models running at once.

    Each model has its own scheduler. The progress bar follows the first model, in this thread:
    Gradio finds the bar through the calling thread's context.
    """
    desc = "Classifying" if len(models) == 1 else f"Classifying with {len(models)} models"
    with ThreadPoolExecutor(max_workers=max(1, len(models) - 1)) as pool:
        others = [
            pool.submit(classify_in_chunks, m.classify, texts, silent_progress, desc)
            for m in models[1:]
        ]
        first = classify_in_chunks(models[0].classify, texts, progress, desc)
        return [first, *(future.result() for future in others)]


def silent_progress(*_: object, **__: object) -> None:
    """A progress callback that shows nothing."""


def on_every_model(models: Sequence[ServedModel], work: Callable[[ServedModel], T]) -> list[T]:
    """Run `work` for each model at once (each has its own scheduler), results in model order."""
    if len(models) == 1:
        return [work(models[0])]
    with ThreadPoolExecutor(max_workers=len(models)) as pool:
        return list(pool.map(work, models))
