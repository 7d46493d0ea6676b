"""The Gradio Blocks app: Analyse, Batch and Model tabs; the only module of the package importing gradio.

It calls one classify function (the scheduler's, in the app), turns outcomes into components (a Rejection
becomes a notice next to an empty label), and puts every model event in one concurrency group. It knows
nothing about torch or tokenizers.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd

from sentiment_demo import explain as explanations
from sentiment_demo.batch_input import (
    BatchInput,
    csv_columns,
    default_column,
    read_upload,
    texts_from_file,
    texts_from_lines,
)
from sentiment_demo.config import Settings
from sentiment_demo.engine import Outcome, Prediction, Rejection, check_text
from sentiment_demo.errors import InputError, OverloadedError
from sentiment_demo.explain import METHOD, Explanation
from sentiment_demo.files import ResultFiles
from sentiment_demo.loading import ModelInfo
from sentiment_demo.schemes import (
    MULTI_LABEL_THRESHOLD,
    SCHEME_DESCRIPTIONS,
    Scheme,
    has_generic_names,
    read,
)

logger = logging.getLogger(__name__)
ClassifyFn = Callable[[Sequence[object]], list[Outcome]]

MODEL_QUEUE = "model"
# Explanations and Batch jobs get Gradio slots of their own: in the model's group, one Batch job held
# its only slot for seconds and every single text queued behind it. The scheduler interleaves their
# chunks with single texts, so a few may run at once.
SLOW_EVENT_CONCURRENCY = 4
EXAMPLES = (
    "An absolute joy from start to finish: sharp writing, warm performances, and a finale that "
    "earns every tear.",
    "A dull, lifeless slog that wastes a talented cast.",
    "Not bad at all. I expected to hate it and didn't.",
    "The acting is superb, but the story collapses in the second half.",
    "Oh great, another two-hour car commercial. Just what the world needed.",
)
PROGRESS_CHUNK = 128


def any_column_name() -> dict[str, Any]:
    """The API type of the column picker: any string, since its choices come from each upload.

    gradio 6.31 publishes a Dropdown's current choices as an enum: empty at start-up, so no value
    would satisfy the API schema and the MCP tool could not be called. (A Dropdown subclass would
    fix it too, but Gradio writes a .pyi stub beside the module of every component subclass.)
    """
    return {"type": "string"}


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


def classify_texts(
    classify: ClassifyFn, texts: Sequence[object], scheme: Scheme = "single_label"
) -> tuple[list[Any], list[str]]:
    """The batched `classify` handler: one label value and one notice per queued request."""
    outcomes = classify(texts)
    return [label_value(o, scheme) for o in outcomes], [notice_for(o, scheme) for o in outcomes]


def results_table(
    batch: BatchInput,
    outcomes: Sequence[Outcome],
    labels: Sequence[str],
    scheme: Scheme = "single_label",
) -> pd.DataFrame:
    """Row, text, label, score, one score column per label, and a note, for each text in input order.

    The label column holds the top label (single-label), every label over the threshold
    (multi-label), or the output's name with its value in the score column (regression).
    """
    records = []
    for row, text, outcome in zip(batch.rows, batch.texts, outcomes, strict=True):
        record: dict[str, Any] = {"row": row, "text": text}
        if isinstance(outcome, Prediction):
            scores = outcome.as_dict()
            reading = read(outcome, scheme)
            shown = reading.labels[0] if scheme == "regression" else reading.text
            record |= {"label": shown, "score": round(reading.score, 4)}
            record |= {f"score_{label}": round(scores[label], 4) for label in labels}
        else:
            record |= {"label": "", "score": None} | {f"score_{label}": None for label in labels}
        record["note"] = describe(outcome)
        records.append(record)
    columns = ["row", "text", "label", "score", *[f"score_{label}" for label in labels], "note"]
    return pd.DataFrame.from_records(records, columns=columns)


CHART_TITLES = {
    "single_label": "Label distribution",
    "multi_label": f"Texts with each label over {MULTI_LABEL_THRESHOLD} (a text can count for several)",
    "regression": "Distribution of the predicted values",
}


def label_counts(
    table: pd.DataFrame, labels: Sequence[str], scheme: Scheme = "single_label"
) -> pd.DataFrame:
    """Texts per label (every label listed, zero included) or per value range, plus refused texts."""
    refused = int((table["label"] == "").sum())
    answered = table[table["label"] != ""]
    if scheme == "regression":
        values = answered["score"].astype(float)
        bins = pd.cut(values, bins=min(8, max(1, values.nunique()))) if len(values) else []
        counts = Counter(bins)
        # Enough decimals that neighbouring ranges never print the same.
        width = min((b.length for b in counts), default=1.0)
        decimals = max(0, 1 - math.floor(math.log10(width))) if width > 0 else 3
        rows = [
            {"label": f"{b.left:.{decimals}f} to {b.right:.{decimals}f}", "texts": counts[b]}
            for b in sorted(counts, key=lambda b: b.left)
        ]
    elif scheme == "multi_label":
        rows = [
            {
                "label": label,
                "texts": int((answered[f"score_{label}"] > MULTI_LABEL_THRESHOLD).sum()),
            }
            for label in labels
        ]
    else:
        counts = Counter(answered["label"])
        rows = [{"label": label, "texts": counts.get(label, 0)} for label in labels]
    if refused:
        rows.append({"label": "refused", "texts": refused})
    # The count is in each bar's name too: the bars carry their values, whatever the chart's width.
    return pd.DataFrame(
        [{"label": f"{r['label']} ({r['texts']:,})", "texts": r["texts"]} for r in rows],
        columns=["label", "texts"],
    )


def batch_summary(batch: BatchInput, outcomes: Sequence[Outcome]) -> str:
    """One status line: how many texts, from where, and what happened to them."""
    failed = sum(isinstance(o, Rejection) and o.model_error for o in outcomes)
    refused = sum(isinstance(o, Rejection) for o in outcomes) - failed
    truncated = sum(isinstance(o, Prediction) and o.truncated for o in outcomes)
    parts = [
        f"Analysed {len(outcomes) - refused - failed:,} of {len(outcomes):,} texts from "
        f"{batch.source}."
    ]
    if refused:
        parts.append(f"{refused:,} refused (see the note column).")
    if failed:
        parts.append(f"{failed:,} could not be processed by the model (see the note column).")
    if truncated:
        parts.append(f"{truncated:,} truncated.")
    if batch.skipped_blank_lines:
        parts.append(f"{batch.skipped_blank_lines:,} blank lines skipped.")
    return " ".join(parts)


def model_markdown(info: ModelInfo, settings: Settings) -> str:
    """The Model panel: what is loaded, where, and how requests are batched."""
    if info.device == "remote":
        source = f"`{info.model}` (remote endpoint)"
    elif info.is_local:
        source = f"`{Path(info.model).name}` (local folder, embedded in this app)"
    else:
        source = f"[`{info.model}`](https://huggingface.co/{info.model}) (Hugging Face Hub)"
    labels = ", ".join(f"`{label}`" for label in info.labels)
    if has_generic_names(info.labels):
        labels += (
            " (placeholders: this model's config has no label names. Set `id2label` in its "
            'config.json, e.g. `{"0": "negative", "1": "positive"}`, to show real names)'
        )
    memory = (
        f"; the process grew by about {info.memory_bytes / 2**20:,.0f} MiB while loading it"
        if info.memory_bytes
        else ""
    )
    architecture = f"`{info.architecture}`" if info.architecture else "unknown"
    reason = info.max_tokens_reason or "as the backend reports"
    # A list, not a table: a two-column table squeezes its first column to a letter a line on a phone.
    rows = {
        "Model": source,
        "Architecture": architecture,
        "Labels": labels,
        "Label scheme": SCHEME_DESCRIPTIONS[info.scheme],
        "Parameters": f"{info.num_parameters / 1e6:.1f} M{memory}",
        "Device": f"`{info.device}`",
        "Precision": f"`{info.dtype}`",
        "Forward pass": f"{info.forward} (unpadded: the dense layers skip padding)",
        "CPU threads": str(info.num_threads),
        "Longest text the model reads": f"{info.max_tokens} tokens ({reason}); longer texts are "
        "truncated, with a notice",
        "Longest accepted text": f"{settings.max_text_chars:,} characters",
        "Batching": f"up to {settings.max_batch_size} texts per forward pass, merged from every "
        f"caller; the model waits {settings.batch_wait_ms:g} ms after a request for others to join",
        "Token budget": f"at most {settings.max_batch_tokens:,} padded tokens per forward pass",
        "Queue": f"at most {settings.queue_size} waiting requests in Gradio's queue, and "
        f"{settings.queue_texts:,} waiting texts each for browser users and API clients; beyond "
        'that the app answers "busy". Single texts go before batch jobs',
        "Batch tab": f"at most {settings.max_batch_rows:,} texts, uploads up to "
        f"{settings.max_upload_kb:,} KiB",
        "Start-up": f"loaded in {info.load_seconds:.1f} s, warmed up in {info.warmup_seconds:.1f} s",
    }
    return "\n".join(f"- **{name}**: {value}" for name, value in rows.items())


def model_card_markdown(info: ModelInfo) -> str | None:
    """The model card of a local model, without its YAML front matter."""
    if info.model_card is None:
        return None
    text = Path(info.model_card).read_text(encoding="utf-8")
    return re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.DOTALL)


def explanation_value(
    result: Explanation | Rejection, scheme: Scheme = "single_label"
) -> tuple[list[tuple[str, float | None]], str]:
    """The HighlightedText value and the notice for one explanation."""
    if isinstance(result, Rejection):
        return [], f"⚠️ {result.message}"
    if scheme == "regression":
        notice = (
            f"Red words pushed the value of **{result.label}** up, blue words down (weights by "
            f"{METHOD}, scaled so that the strongest word weighs ±1)."
        )
    else:
        notice = (
            f"Red words pushed towards **{result.label}**, blue words away from it (weights by "
            f"{METHOD}; stronger colour, stronger push)."
        )
    if result.explained_words < result.total_words:
        notice += (
            f" Only the first {result.explained_words} of {result.total_words} words were weighed; "
            "the rest are shown uncoloured."
        )
    return [(piece, weight) for piece, weight in result.pieces], notice


@contextmanager
def user_facing_errors(title: str = "Cannot analyse this input") -> Iterator[None]:
    """Show every failure of one request as a message a person can act on, never an opaque one.

    Input errors show their own message; an overloaded model says "busy"; anything unexpected is
    logged with its traceback and shown as a short server error.
    """
    # The user's mistakes get one log line; only the app's own faults get a traceback.
    try:
        yield
    except gr.Error:
        raise
    except OverloadedError as exc:
        logger.info("busy: %s", exc)
        raise gr.Error(f"The server is busy: {exc}.", title="Busy", print_exception=False) from None
    except InputError as exc:
        logger.info("refused input: %s", exc)
        raise gr.Error(str(exc), title=title, print_exception=False) from None
    except Exception as exc:
        logger.exception("request failed")
        raise gr.Error(
            f"Something went wrong on the server ({type(exc).__name__}); it has been logged. "
            "Please try again in a moment.",
            title="Server error",
            print_exception=False,
        ) from None


def build_demo(
    classify_fn: ClassifyFn, settings: Settings, info: ModelInfo, results: ResultFiles
) -> gr.Blocks:
    """Build the app over `classify_fn`, which takes texts and returns one outcome per text.

    Downloads are written by `results` (serving.py sweeps Gradio's cache).
    """
    labels = info.labels
    scheme = info.scheme

    # The names and docstrings of these handlers are what MCP clients see as tools.
    def classify(text: list[object]) -> tuple[list[Any], list[str]]:
        """Classify the sentiment of one English text: every label's score, and a notice."""
        # Batched: `text` holds one text per queued request (named for the API page).
        with user_facing_errors():
            return classify_texts(classify_fn, text, scheme)

    def explain(text: str) -> tuple[list[tuple[str, float | None]], str]:
        """Show which words of a text pushed its sentiment, with weights in [-1, 1]."""
        with user_facing_errors():
            result = explanations.explain(
                text,
                classify_fn,
                settings.max_explain_words,
                raw_values=scheme == "regression",
                check=lambda t: check_text(t, settings.max_text_chars),
            )
        return explanation_value(result, scheme)

    def classify_many(texts: Sequence[str], progress: Callable[..., Any]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        for start in range(0, len(texts), PROGRESS_CHUNK):
            progress((start, len(texts)), desc="Classifying", unit="texts")
            outcomes += classify_fn(texts[start : start + PROGRESS_CHUNK])
        return outcomes

    def classify_batch(
        pasted: str | None = None,
        upload: str | None = None,
        column: str | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008  (Gradio's way to ask for a progress bar)
    ) -> tuple[pd.DataFrame, pd.DataFrame | None, str | None, str]:
        """Classify many texts (one per line, or a .txt/.csv file): a table, counts, a CSV file.

        An input that cannot be read (a bad file, too many texts) gives an empty table and a
        summary that starts with ⚠️ and says why.

        Args:
            pasted: texts, one per line (used when no file is given).
            upload: a .txt file (one text per line) or a .csv file.
            column: the CSV column that holds the texts (default: a column named text, review,
                sentence or similar, else the first).
            progress: Gradio's progress bar (not an input).
        """
        # A bad input is said once, in the summary: raising would also paint an "Error" badge on
        # every output. Busy and server faults still raise (user_facing_errors).
        try:
            if upload:
                batch = texts_from_file(
                    Path(upload),
                    column or None,
                    settings.max_batch_rows,
                    settings.max_upload_kb * 1024,
                )
            else:
                batch = texts_from_lines(pasted or "", settings.max_batch_rows)
        except InputError as exc:
            logger.info("refused input: %s", exc)
            return results_table(BatchInput([], [], ""), [], labels), None, None, f"⚠️ {exc}"
        with user_facing_errors():
            outcomes = classify_many(batch.texts, progress)
            table = results_table(batch, outcomes, labels, scheme)
            counts = label_counts(table, labels, scheme)
            return table, counts, results.write_csv(table), batch_summary(batch, outcomes)

    def list_columns(upload: str | None) -> tuple[gr.Dropdown, str]:
        # A file that cannot be read is said once, in the summary: "Analyse all" then explains it
        # again only if the user insists, instead of two identical error pop-ups.
        hidden = gr.Dropdown(choices=[], value=None, visible=False)
        if not upload or Path(upload).suffix.lower() != ".csv":
            return hidden, ""
        try:
            columns = csv_columns(
                read_upload(Path(upload), settings.max_upload_kb * 1024), Path(upload).name
            )
        except InputError as exc:
            return hidden, f"⚠️ {exc}"
        return gr.Dropdown(choices=columns, value=default_column(columns), visible=True), ""

    with gr.Blocks(title="Sentiment analysis") as demo:
        gr.Markdown(
            "# Sentiment analysis\n"
            "Type a review, a tweet or any English text and see what the model makes of it: "
            f"every label's score ({', '.join(labels)}). Requests from everyone are queued and "
            "run together in batches."
        )
        with gr.Tab("Analyse"):
            with gr.Row():
                with gr.Column(scale=3):
                    text_in = gr.Textbox(
                        label="Text",
                        # Gradio submits on Enter only for lines=1; the box still grows to max_lines.
                        lines=1,
                        max_lines=12,
                        placeholder="The film is a triumph of style over substance...",
                        info=f"Up to {settings.max_text_chars:,} characters. Enter analyses; "
                        "Shift+Enter starts a new line.",
                        elem_id="text-input",
                    )
                    with gr.Row():
                        analyze_btn = gr.Button("Analyse", variant="primary")
                        explain_btn = gr.Button("Explain", variant="secondary")
                with gr.Column(scale=2):
                    label_out = gr.Label(
                        label="Sentiment", num_top_classes=len(labels), elem_id="sentiment-output"
                    )
                    status_out = gr.Markdown(label="Notice", elem_id="sentiment-status")
            explanation_out = gr.HighlightedText(
                label=f"Which words pushed the prediction ({METHOD}: each word's weight is how much "
                "removing it lowers the score)",
                elem_id="explanation-output",
                combine_adjacent=False,
                show_legend=False,
            )
            explain_status_out = gr.Markdown(
                label="Explanation notice", elem_id="explanation-status"
            )
            examples = gr.Examples(
                examples=[[text] for text in EXAMPLES],
                inputs=[text_in],
                label="Examples: clear, negated, mixed and sarcastic (click one to analyse it)",
            )
        with gr.Tab("Batch"):
            gr.Markdown(
                f"Paste one text per line, or upload a `.txt` (one text per line) or `.csv` file "
                f"(choose the text column). At most {settings.max_batch_rows:,} texts and "
                f"{settings.max_upload_kb:,} KiB per request."
            )
            with gr.Row():
                texts_in = gr.Textbox(label="Texts, one per line", lines=8, elem_id="batch-texts")
                with gr.Column():
                    file_in = gr.File(
                        label="Or upload a .txt or .csv file",
                        file_types=[".txt", ".csv"],
                        elem_id="batch-file",
                    )
                    column_in = gr.Dropdown(
                        label="Text column",
                        choices=[],
                        visible=False,
                        allow_custom_value=True,
                        elem_id="batch-column",
                    )
                    column_in.api_info = any_column_name  # type: ignore[method-assign]
            batch_btn = gr.Button("Analyse all", variant="primary")
            # A text box, not Markdown: the summary quotes file and column names a user chose.
            batch_status_out = gr.Textbox(
                label="Summary", elem_id="batch-status", interactive=False, max_lines=3
            )
            with gr.Row():
                chart_out = gr.BarPlot(
                    x="label",
                    y="texts",
                    label=CHART_TITLES[scheme],
                    elem_id="batch-chart",
                    sort="x",
                    y_lim=[0, None],  # counts start at zero, or a small bar looks empty
                    y_title="texts",
                    x_title=None,
                    x_label_angle=-30,
                )
                download_out = gr.File(
                    label="Download results (CSV)", elem_id="batch-download", interactive=False
                )
            table_out = gr.Dataframe(
                label="Results", elem_id="batch-results", interactive=False, wrap=True
            )
        with gr.Tab("Model"):
            gr.Markdown(model_markdown(info, settings), elem_id="model-info")
            card = model_card_markdown(info)
            if card:
                with gr.Accordion("Model card", open=False):
                    gr.Markdown(card)

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
        analyze_btn.click(
            **classify_kwargs,
            api_name="classify",
            api_description="Classify one text: every label's score, and a notice "
            "when the text was refused or truncated.",
        )
        text_in.submit(**classify_kwargs, api_visibility="private")
        examples.load_input_event.then(**classify_kwargs, api_visibility="private")
        explain_btn.click(
            explain,
            inputs=[text_in],
            outputs=[explanation_out, explain_status_out],
            api_name="explain",
            api_description=f"Per-word weights in [-1, 1] by {METHOD}, computed in one batch.",
            concurrency_id="explain",
            concurrency_limit=SLOW_EVENT_CONCURRENCY,
        )
        file_in.change(
            list_columns,
            inputs=[file_in],
            outputs=[column_in, batch_status_out],
            api_visibility="private",
        )
        batch_btn.click(
            classify_batch,
            inputs=[texts_in, file_in, column_in],
            outputs=[table_out, chart_out, download_out, batch_status_out],
            api_name="classify_batch",
            api_description="Classify many texts (one per line, or a .txt/.csv file): a table with "
            "every label's score, the label counts, a CSV file and a summary.",
            concurrency_id="batch-jobs",
            concurrency_limit=SLOW_EVENT_CONCURRENCY,
        )
    return demo
