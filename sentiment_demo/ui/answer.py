"""One model's answer to one text as Analyse and Compare show it: the scores and every caveat.

Probabilities go to gr.Label; a regression value and VADER's compound score are shown as text, never
as percentages. The notice says when the answer is a close call (core/uncertainty.py) and when the
text is of a kind or in a language the model was not trained for (core/text_kind.py). No Gradio import.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sentiment_demo.core.classifier import ModelInfo, Outcome, Prediction
from sentiment_demo.core.schemes import read
from sentiment_demo.core.text_kind import card_languages, text_notices
from sentiment_demo.core.uncertainty import scores_are_probabilities, uncertainty
from sentiment_demo.ui.common import notice_for

VADER_READING = (
    "VADER's compound score runs from -1 (most negative) to +1 (most positive): ≥ 0.05 is "
    "positive, ≤ -0.05 negative, neutral between. It is a lexicon strength, not a probability."
)


def model_languages(info: ModelInfo) -> tuple[str, ...]:
    """The languages a model's card states (`language` in its front matter); () when it has none."""
    return _card_languages(info.model_card)


@cache
def _card_languages(card: str | None) -> tuple[str, ...]:
    # Read once per card: parsing its front matter on every request cost about 5 ms of CPU each.
    if card is None:
        return ()
    try:
        return card_languages(Path(card).read_text(encoding="utf-8"))
    except OSError:
        return ()


def vader_compound(prediction: Prediction) -> float:
    """VADER's compound score, recovered from the logits its backend reports."""
    # Imported here: only an app that serves VADER has it loaded, and the UI needs no backend else.
    from sentiment_demo.backends.vader import compound_of

    return compound_of(prediction.raw_score_of("positive"), prediction.raw_score_of("negative"))


def answer_value(outcome: Outcome, info: ModelInfo) -> dict[str, float] | str | None:
    """What gr.Label shows: probabilities, or a text for scores that are not probabilities."""
    if not isinstance(outcome, Prediction):
        return None
    if info.backend == "vader":
        return f"{outcome.label} (compound {vader_compound(outcome):+.2f})"
    if info.scheme == "regression":
        return read(outcome, info.scheme).text
    return outcome.as_dict()


def answer_notice(outcome: Outcome, info: ModelInfo, text: str, languages: tuple[str, ...]) -> str:
    """The notice under an answer: refusal or truncation, a close call, a text the model is not for."""
    lines = [notice_for(outcome, info.scheme)] if notice_for(outcome, info.scheme) else []
    if not isinstance(outcome, Prediction):
        return "\n\n".join(lines)
    if info.backend == "vader":
        lines.append(VADER_READING)
    if scores_are_probabilities(info):
        reason = uncertainty(outcome, info.scheme)
        if reason is not None:
            lines.append(f"🤔 **Uncertain**: {reason}. Treat this answer as a guess.")
    # Only a model whose card states its languages gets a language notice (VADER states none).
    lines += [f"⚠️ {notice}" for notice in text_notices(text, languages)]
    return "\n\n".join(lines)
