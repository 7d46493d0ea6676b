"""The sentence view's values, as plain functions: coloured sentences, summary, arc, aspects, Batch columns.

No Gradio here: the tabs wire these to their components, and tests call them directly. User text is
never rendered as HTML: sentences go to HighlightedText (which escapes them) and quotes in Markdown
go through as_markdown_text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from sentiment_demo.core.classifier import LabelScore, ModelInfo, Prediction, Rejection, Scheme
from sentiment_demo.core.text_kind import text_notices
from sentiment_demo.core.uncertainty import scores_are_probabilities, uncertainty
from sentiment_demo.documents.analysis import DocumentReport, SentenceResult
from sentiment_demo.ui.common import as_markdown_text

LABEL_COLOURS = {"negative": "#f87171", "neutral": "#94a3b8", "positive": "#4ade80"}
OTHER_COLOURS = ("#60a5fa", "#fbbf24", "#c084fc", "#f472b6", "#2dd4bf", "#a3e635")
UNREAD = "not read"
UNREAD_COLOUR = "#fb923c"
UNCERTAIN = "uncertain"
UNCERTAIN_COLOUR = "#d97706"  # amber, dark enough for the white tag text
SIGNED = "positive − negative"
ASPECT_NOTE = (
    "Aspects are sentence-level sentiment around each term (the label of every sentence that "
    "mentions it, singular or plural, any case), not a trained aspect model."
)
QUOTE_CHARS = 160
MAX_FAILURES_LISTED = 5


def label_colour(label: str, labels: Sequence[str]) -> str:
    """The colour of a label: red, grey and green for negative, neutral, positive; others in turn."""
    if label.lower() in LABEL_COLOURS:
        return LABEL_COLOURS[label.lower()]
    others = [item for item in labels if item.lower() not in LABEL_COLOURS]
    index = others.index(label) if label in others else 0
    return OTHER_COLOURS[index % len(OTHER_COLOURS)]


def judged_scheme(info: ModelInfo) -> Scheme | None:
    """The scheme to judge close calls by; None for scores that are not probabilities (VADER)."""
    return info.scheme if scores_are_probabilities(info) else None


def close_call(scores: Sequence[LabelScore], scheme: Scheme | None) -> str | None:
    """Why these scores are a close call (core/uncertainty.py); None if clear or not judged."""
    if scheme is None or not scores:
        return None
    return uncertainty(Prediction(tuple(scores), 0, 0), scheme)


def category(sentence: SentenceResult, scheme: Scheme | None = None) -> str:
    """What HighlightedText shows after a sentence: its label and score, or that it was not read.

    With a `scheme`, a close call says so ("positive 0.52 uncertain").
    """
    if not sentence.read:
        return UNREAD
    tag = f"{sentence.label} {sentence.score:.2f}"
    return f"{tag} {UNCERTAIN}" if close_call(sentence.scores, scheme) else tag


def highlighted(
    report: DocumentReport, scheme: Scheme | None = None
) -> tuple[list[tuple[str, str | float | None]], dict[str, str]]:
    """The text in place, each sentence tagged "label score", and the colour of every tag.

    The text between sentences (spaces, line breaks, bullets' gaps) is kept untagged, so the
    document reads as it was written. With a `scheme`, close calls are tagged "uncertain" and
    drawn in amber, whatever their label.
    """
    pieces: list[tuple[str, str | float | None]] = []
    colours: dict[str, str] = {}
    position = 0
    for sentence in report.sentences:
        if sentence.start > position:
            pieces.append((report.text[position : sentence.start], None))
        tag = category(sentence, scheme)
        if not sentence.read:
            colours[tag] = UNREAD_COLOUR
        elif tag.endswith(UNCERTAIN):
            colours[tag] = UNCERTAIN_COLOUR
        else:
            colours[tag] = label_colour(sentence.label, report.labels)
        pieces.append((sentence.text, tag))
        position = sentence.end
    if position < len(report.text):
        pieces.append((report.text[position:], None))
    return pieces, colours


def _quote(sentence: SentenceResult) -> str:
    text = sentence.text if len(sentence.text) <= QUOTE_CHARS else sentence.text[:QUOTE_CHARS] + "…"
    return f"“{as_markdown_text(text)}” (sentence {sentence.number}, {category(sentence)})"


def _scores_line(scores: Sequence[Any]) -> str:
    return ", ".join(f"{item.label} {item.score:.2f}" for item in scores)


def summary_markdown(
    report: DocumentReport | Rejection,
    scheme: Scheme | None = None,
    languages: Sequence[str] = (),
) -> str:
    """The summary under the sentences, in Markdown.

    Counts per label, the length-weighted reading, the whole-text answer and how it was reached,
    the most positive and negative sentences, aspects, and any notice. With a `scheme`, the close
    calls among the sentences and the whole text; with `languages` (the model card's), a notice
    when the text is in another language or mostly emoji, code or numbers.
    """
    if isinstance(report, Rejection):
        return f"⚠️ {report.message}"
    counts = report.label_counts()
    total = len(report.sentences)
    read = len(report.read_sentences)
    lines = [
        f"**{total} sentence{'s' if total != 1 else ''}**"
        + (f" ({read} read by the model)" if read != total else "")
        + ": "
        + ", ".join(f"{count} {label}" for label, count in counts.items())
        + "."
    ]
    lines += [f"⚠️ {notice}" for notice in report.notices if "could not" in notice]
    unread = [sentence for sentence in report.sentences if not sentence.read]
    lines += [
        f"⚠️ Sentence {sentence.number} (“{as_markdown_text(sentence.text[:60])}”): "
        f"{as_markdown_text(sentence.error)}"
        for sentence in unread[:MAX_FAILURES_LISTED]
    ]
    if len(unread) > MAX_FAILURES_LISTED:
        lines.append(f"… and {len(unread) - MAX_FAILURES_LISTED} more sentences not read.")
    if report.overall:
        signed = report.overall_signed
        lean = f" ({SIGNED}: {signed:+.2f})" if signed is not None else ""
        lines.append(
            f"**Overall, weighted by sentence length: {report.overall[0].label}**{lean}; "
            f"{_scores_line(report.overall)}."
        )
    if report.whole.scores:
        lines.append(
            f"**Whole text: {report.whole.label}** ({_scores_line(report.whole.scores)}), "
            f"from {report.whole.note}."
        )
    lines += _uncertainty_lines(report, scheme)
    lines += [f"⚠️ {notice}" for notice in text_notices(report.text, languages)]
    if report.most_positive is not None:
        lines.append(f"**Most positive:** {_quote(report.most_positive)}")
    if report.most_negative is not None:
        lines.append(f"**Most negative:** {_quote(report.most_negative)}")
    lines += [f"✂️ {notice}" for notice in report.notices if "could not" not in notice]
    if report.aspects:
        verdicts = "; ".join(
            f"**{as_markdown_text(a.term)}**: {a.describe()}" for a in report.aspects
        )
        lines.append(f"**Aspects:** {verdicts}. _{ASPECT_NOTE}_")
    return "\n\n".join(lines)


def _uncertainty_lines(report: DocumentReport, scheme: Scheme | None) -> list[str]:
    lines = []
    whole = close_call(report.whole.scores, scheme)
    if whole is not None:
        lines.append(f"🤔 **Uncertain** whole-text answer: {whole}.")
    close = [s.number for s in report.read_sentences if close_call(s.scores, scheme)]
    if close:
        numbers = ", ".join(map(str, close[:20])) + (" …" if len(close) > 20 else "")
        lines.append(
            f"🤔 {len(close)} of {len(report.read_sentences)} sentences are close calls, tagged "
            f"“{UNCERTAIN}”: {'sentence' if len(close) == 1 else 'sentences'} {numbers}."
        )
    return lines


def arc_frame(report: DocumentReport | Rejection) -> pd.DataFrame:
    """The sentiment arc: sentence number against positive minus negative in [-1, 1].

    Empty when the model has no positive and negative labels, or the text was refused.
    """
    rows = []
    if isinstance(report, DocumentReport):
        rows = [
            {"sentence": s.number, SIGNED: round(s.signed, 4), "label": s.label}
            for s in report.sentences
            if s.signed is not None
        ]
    return pd.DataFrame(rows, columns=["sentence", SIGNED, "label"])


def aspects_frame(report: DocumentReport | Rejection) -> pd.DataFrame:
    """One row per aspect: verdict with counts, the sentences that mention it, sentences per label."""
    if isinstance(report, Rejection) or not report.aspects:
        return pd.DataFrame(columns=["aspect", "verdict", "sentences"])
    rows = []
    for aspect in report.aspects:
        row: dict[str, Any] = {
            "aspect": aspect.term,
            "verdict": aspect.describe(),
            "sentences": ", ".join(map(str, aspect.mentions)) or "—",
        }
        row |= {label: count for label, count in aspect.counts}
        rows.append(row)
    return pd.DataFrame(rows, columns=["aspect", "verdict", "sentences", *report.labels])


def report_json(report: DocumentReport | Rejection) -> dict[str, Any]:
    """The whole report as JSON for API clients."""
    if isinstance(report, Rejection):
        return {"error": report.message}
    return {
        "sentences": [
            {
                "number": s.number,
                "text": s.text,
                "start": s.start,
                "end": s.end,
                "label": s.label or None,
                "score": round(s.score, 4) if s.read else None,
                "scores": {item.label: round(item.score, 4) for item in s.scores},
                "signed": None if s.signed is None else round(s.signed, 4),
                "windows": s.windows,
                "error": s.error or None,
            }
            for s in report.sentences
        ],
        "counts": report.label_counts(),
        "overall": {item.label: round(item.score, 4) for item in report.overall},
        "whole_text": {
            "label": report.whole.label or None,
            "scores": {item.label: round(item.score, 4) for item in report.whole.scores},
            "method": report.whole.method,
            "how": report.whole.note,
        },
        "aspects": [
            {
                "term": a.term,
                "verdict": a.verdict,
                "summary": a.describe(),
                "sentences": list(a.mentions),
                "counts": dict(a.counts),
            }
            for a in report.aspects
        ],
        "notices": list(report.notices),
    }


def batch_sentence_columns(
    reports: Sequence[DocumentReport | Rejection],
    labels: Sequence[str],
    by_sentence: bool,
    aspects: Sequence[str],
    model_name: str | None = None,
) -> pd.DataFrame:
    """Columns the Batch table gains, one row per text.

    By sentence: the sentence count, the share of each label and the most negative sentence; and
    one verdict column per aspect. With `model_name` (several models ticked), every column name
    ends in " (<model_name>)", like the table's other per-model columns.
    """
    records = []
    for report in reports:
        record: dict[str, Any] = {}
        if by_sentence:
            if isinstance(report, DocumentReport):
                record["sentences"] = len(report.sentences)
                record |= {f"share_{label}": round(report.share(label), 4) for label in labels}
                worst = report.most_negative
                record["most_negative_sentence"] = worst.text if worst is not None else ""
                record["sentence_note"] = " ".join(report.notices)
            else:
                record["sentences"] = None
                record |= {f"share_{label}": None for label in labels}
                record["most_negative_sentence"] = ""
                record["sentence_note"] = report.message
        for term in aspects:
            found = (
                next((a for a in report.aspects if a.term == term), None)
                if isinstance(report, DocumentReport)
                else None
            )
            record[f"aspect: {term}"] = found.describe() if found is not None else ""
        records.append(record)
    columns = (
        [
            "sentences",
            *[f"share_{label}" for label in labels],
            "most_negative_sentence",
            "sentence_note",
        ]
        if by_sentence
        else []
    )
    frame = pd.DataFrame.from_records(
        records, columns=[*columns, *[f"aspect: {term}" for term in aspects]]
    )
    if model_name is not None:
        frame = frame.rename(columns=lambda column: f"{column} ({model_name})")
    return frame


def aspect_counts(table: pd.DataFrame) -> pd.DataFrame:
    """For the Batch chart: texts per aspect and verdict, from the table's "aspect: …" columns."""
    rows = []
    for column in [c for c in table.columns if str(c).startswith("aspect: ")]:
        verdicts = table[column].astype(str).str.split(" (", n=1, regex=False).str[0]
        for verdict, count in verdicts[verdicts != ""].value_counts().items():
            rows.append(
                {"aspect": str(column)[len("aspect: ") :], "verdict": verdict, "texts": int(count)}
            )
    return pd.DataFrame(rows, columns=["aspect", "verdict", "texts"])
