"""Word-level explanations by leave-one-word-out occlusion, computed as one batch.

For a text of N words, the model scores the text and the N texts with one word removed, all in one
batch. A word's weight is how much its removal lowers the log-odds of the explained label (the
predicted one unless another is asked for), divided by the largest such change in the text, so the strongest word weighs ±1.
Log-odds, not probabilities: a confident model moves from 0.999 to 0.99 when a word goes, a change
that probabilities show as nothing and log-odds as the word's real push. It needs only a classify
function, never the model's internals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sentiment_demo.core.classifier import Outcome, Prediction, Rejection

METHOD = "leave-one-word-out occlusion"
WORD = re.compile(r"\w[\w'’-]*|[^\w\s]+")


@dataclass(frozen=True)
class Explanation:
    """Per-word weights in [-1, 1] towards `label`, with the text's pieces in order.

    Attributes:
        label: the label the weights refer to.
        predicted: True when that label is the predicted (top) one.
        pieces: (text piece, weight) in order; whitespace pieces have weight None.
        explained_words: how many words got a weight (the first max_words of the text).
        total_words: how many words the text has.
    """

    label: str
    pieces: tuple[tuple[str, float | None], ...]
    explained_words: int
    total_words: int
    predicted: bool = True

    def top_words(self, count: int = 3) -> list[tuple[str, float]]:
        """The words that pushed hardest towards the label, strongest first."""
        weighted = [(p, w) for p, w in self.pieces if w is not None]
        return sorted(weighted, key=lambda item: item[1], reverse=True)[:count]


def split_pieces(text: str) -> list[tuple[str, bool]]:
    """The text as (piece, is_word) in order; joining the pieces gives the text back."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in WORD.finditer(text):
        if match.start() > position:
            pieces.append((text[position : match.start()], False))
        pieces.append((match.group(), True))
        position = match.end()
    if position < len(text):
        pieces.append((text[position:], False))
    return pieces


def _score(prediction: Prediction, label: str) -> float:
    return prediction.as_dict().get(label, 0.0)


def _log_odds(probability: float) -> float:
    # Clipped: a probability of exactly 0 or 1 (a rounded float) has no finite log-odds.
    p = min(max(probability, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def explain(
    text: str,
    classify: Callable[[Sequence[object]], list[Outcome]],
    max_words: int,
    raw_values: bool = False,
    check: Callable[[object], Rejection | None] | None = None,
    label: str | None = None,
) -> Explanation | Rejection:
    """Weigh each of the first `max_words` words of `text` by occluding it (one batched call).

    With `raw_values` (for regression models, whose output is not a probability), the output value is
    compared as it is rather than through log-odds. `check` (the engine's) refuses a text before any
    variant is built, so an oversized text costs nothing. `label` explains another label than the
    predicted one.
    """
    refusal = check(text) if check is not None else None
    if refusal is not None:
        return refusal
    pieces = split_pieces(text)
    word_positions = [i for i, (_, is_word) in enumerate(pieces) if is_word]
    explained = word_positions[:max_words]
    variants = ["".join(p for j, (p, _) in enumerate(pieces) if j != i) for i in explained]
    outcomes = classify([text, *variants])
    full = outcomes[0]
    if isinstance(full, Rejection):
        return full
    known = full.as_dict()
    if label is not None and label not in known:
        return Rejection(
            f"The model has no label {label!r}; its labels are {', '.join(known)}.", kind="invalid"
        )
    label = label or full.label
    # Regression values are explained as they are; probabilities through their log-odds.
    measure = (lambda v: v) if raw_values else _log_odds
    base = measure(_score(full, label))
    weights: dict[int, float] = {}
    for position, outcome in zip(explained, outcomes[1:], strict=True):
        # A variant can be refused (a one-word text minus its word is empty): its word carries it all.
        without = _score(outcome, label) if isinstance(outcome, Prediction) else 0.5
        weights[position] = base - measure(without)
    largest = max((abs(w) for w in weights.values()), default=0.0)
    scale = largest if largest > 0 else 1.0
    weights = {p: w / scale for p, w in weights.items()}
    return Explanation(
        label=label,
        pieces=tuple(
            (p, weights.get(i) if is_word else None) for i, (p, is_word) in enumerate(pieces)
        ),
        explained_words=len(explained),
        total_words=len(word_positions),
        predicted=label == full.label,
    )
