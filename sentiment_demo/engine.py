"""The batching engine: validates texts, cuts them into model-sized chunks, and keeps input order.

It knows nothing about tokenization, tensors or Gradio: a Classifier does the model work, and the UI turns
outcomes into components. It is pure and runs no threads of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class LabelScore:
    """One label and its probability."""

    label: str
    score: float


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one text.

    Attributes:
        scores: every label with its score, highest first.
        num_tokens: tokens the text has, before any truncation.
        kept_tokens: tokens the model saw; fewer than num_tokens when the text was truncated.
        raw_scores: every label with its logit (before softmax or sigmoid), highest first; empty
            when the backend does not expose logits.
    """

    scores: tuple[LabelScore, ...]
    num_tokens: int
    kept_tokens: int
    raw_scores: tuple[LabelScore, ...] = ()

    @property
    def label(self) -> str:
        """The most likely label."""
        return self.scores[0].label

    @property
    def score(self) -> float:
        """The score of the most likely label."""
        return self.scores[0].score

    @property
    def truncated(self) -> bool:
        """True when the model saw only the start of the text."""
        return self.kept_tokens < self.num_tokens

    def as_dict(self) -> dict[str, float]:
        """{label: score}, the value gr.Label takes."""
        return {item.label: item.score for item in self.scores}


@dataclass(frozen=True)
class Rejection:
    """A text the engine refused, with a message written for the person who sent it.

    Attributes:
        message: what is wrong, naming the limit.
        too_long: True when the text is over a size limit (HTTP 413), False when it is not
            acceptable at all, e.g. empty (HTTP 422).
    """

    message: str
    too_long: bool = False


Outcome = Prediction | Rejection


class Classifier(Protocol):
    """What the engine needs from a model backend."""

    max_batch_size: int

    def classify_batch(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify every text, in order. Raise only if the whole batch fails."""
        ...


class BatchEngine:
    """Turns a list of raw texts into one outcome per text, in input order.

    Invalid texts get a Rejection and never reach the model, so one bad text cannot fail the others
    batched with it. Valid texts are sorted by length, so each chunk pads to a similar length, and sent
    to the classifier in chunks of at most `classifier.max_batch_size`.
    """

    def __init__(self, classifier: Classifier, max_text_chars: int) -> None:
        """Wrap a classifier; texts longer than `max_text_chars` characters are rejected."""
        self.classifier = classifier
        self.max_text_chars = max_text_chars

    def check(self, text: object) -> Rejection | None:
        """The reason a text cannot be classified, or None when it can."""
        if not isinstance(text, str):
            return Rejection(f"Expected text, got {type(text).__name__}.")
        if not text.strip():
            return Rejection("The text is empty. Type or paste something to analyse.")
        if len(text) > self.max_text_chars:
            return Rejection(
                f"The text has {len(text):,} characters; the limit is {self.max_text_chars:,}. "
                "Shorten it or split it into several texts.",
                too_long=True,
            )
        return None

    def classify(self, texts: Sequence[object]) -> list[Outcome]:
        """One Prediction or Rejection per text, in the order given.

        Raises:
            Exception: whatever the classifier raises when a whole chunk fails.
        """
        outcomes: list[Outcome | None] = [self.check(text) for text in texts]
        valid = [i for i, outcome in enumerate(outcomes) if outcome is None]
        # Longest first: similar lengths share a chunk, so padding is small.
        valid.sort(key=lambda i: len(texts[i]), reverse=True)  # type: ignore[arg-type]
        size = max(1, self.classifier.max_batch_size)
        for start in range(0, len(valid), size):
            chunk = valid[start : start + size]
            predictions = self.classifier.classify_batch([texts[i] for i in chunk])  # type: ignore[misc]
            if len(predictions) != len(chunk):
                raise RuntimeError(
                    f"classifier returned {len(predictions)} predictions for {len(chunk)} texts"
                )
            for index, prediction in zip(chunk, predictions, strict=True):
                outcomes[index] = prediction
        return [outcome for outcome in outcomes if outcome is not None]
