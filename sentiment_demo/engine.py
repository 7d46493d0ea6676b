"""The batching engine: validates texts, cuts them into model-sized chunks, and keeps input order.

It knows nothing about tokenization, tensors or Gradio: a Classifier does the model work, and the UI turns
outcomes into components. It runs no threads of its own. When the model raises on a chunk, the engine
finds the texts that fail by bisection, so only they get a Rejection and the rest of the chunk is answered.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

logger = logging.getLogger(__name__)
RejectionKind = Literal["invalid", "too_long", "model_error"]
# A plain sentence every text model can read: when a chunk fails, it tells a poison text from a broken model.
PROBE_TEXT = "This is a short test sentence."


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
        readable_tokens: tokens the model read that are neither special nor unknown; None when
            the backend cannot tell. 0 means the scores rest on no word the model knows.
    """

    scores: tuple[LabelScore, ...]
    num_tokens: int
    kept_tokens: int
    raw_scores: tuple[LabelScore, ...] = ()
    readable_tokens: int | None = None

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

    def score_of(self, label: str) -> float:
        """The score of one label (KeyError for a label the model does not have)."""
        return self.as_dict()[label]

    def raw_score_of(self, label: str) -> float:
        """The logit of one label; needs a backend that exposes logits."""
        return {item.label: item.score for item in self.raw_scores}[label]


@dataclass(frozen=True)
class Rejection:
    """A text the engine refused, with a message written for the person who sent it.

    Attributes:
        message: what is wrong, naming the limit.
        kind: "too_long" when the text is over a size limit (HTTP 413), "invalid" when it is not
            acceptable at all, e.g. empty (HTTP 422), "model_error" when the model raised on it
            (HTTP 424, TEI's backend error).
    """

    message: str
    kind: RejectionKind = "invalid"

    @property
    def too_long(self) -> bool:
        """True when the text is over a size limit."""
        return self.kind == "too_long"

    @property
    def model_error(self) -> bool:
        """True when the model itself failed on this text."""
        return self.kind == "model_error"


Outcome = Prediction | Rejection


class Classifier(Protocol):
    """What the engine needs from a model backend."""

    max_batch_size: int

    def classify_batch(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify every text, in order. Raise only if the whole batch fails."""
        ...


def check_text(text: object, max_text_chars: int) -> Rejection | None:
    """The reason a text cannot be classified, or None when it can."""
    if not isinstance(text, str):
        return Rejection(f"Expected text, got {type(text).__name__}.")
    if not text.strip():
        return Rejection("The text is empty. Type or paste something to analyse.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # e.g. a lone surrogate ("\ud800") from a JSON client
        return Rejection(
            f"The text is not valid Unicode: character {exc.start + 1} is an unpaired "
            "surrogate code point, which no tokenizer can read. Send the text as proper UTF-8."
        )
    if len(text) > max_text_chars:
        return Rejection(
            f"The text has {len(text):,} characters; the limit is {max_text_chars:,}. "
            "Shorten it or split it into several texts.",
            kind="too_long",
        )
    return None


class BatchEngine:
    """Turns a list of raw texts into one outcome per text, in input order.

    Invalid texts get a Rejection and never reach the model, so one bad text cannot fail the others
    batched with it. Valid texts are sorted by length, so each chunk pads to a similar length, and sent
    to the classifier in chunks of at most `classifier.max_batch_size`. When the classifier raises on a
    chunk, a probe text tells whether the model works at all: if it does, the chunk is bisected until
    the failing texts are found, and only they get a "model_error" Rejection; if it does not, every
    text of the chunk gets one and `unhealthy_reason` says why until the model answers again.
    """

    def __init__(
        self, classifier: Classifier, max_text_chars: int, probe_text: str = PROBE_TEXT
    ) -> None:
        """Wrap a classifier; texts longer than `max_text_chars` characters are rejected."""
        self.classifier = classifier
        self.max_text_chars = max_text_chars
        self.probe_text = probe_text
        self.unhealthy_reason: str | None = None

    def check(self, text: object) -> Rejection | None:
        """The reason a text cannot be classified, or None when it can."""
        return check_text(text, self.max_text_chars)

    def classify(self, texts: Sequence[object]) -> list[Outcome]:
        """One Prediction or Rejection per text, in the order given; never raises for one text.

        Raises:
            RuntimeError: when the classifier returns a different number of predictions than texts.
        """
        outcomes: list[Outcome | None] = [self.check(text) for text in texts]
        valid = [i for i, outcome in enumerate(outcomes) if outcome is None]
        # Longest first: similar lengths share a chunk, so padding is small.
        valid.sort(key=lambda i: len(texts[i]), reverse=True)  # type: ignore[arg-type]
        size = max(1, self.classifier.max_batch_size)
        for start in range(0, len(valid), size):
            chunk = valid[start : start + size]
            chunk_texts: list[str] = [texts[i] for i in chunk]  # type: ignore[misc]
            for index, outcome in zip(chunk, self._classify_chunk(chunk_texts), strict=True):
                outcomes[index] = outcome
        return [outcome for outcome in outcomes if outcome is not None]

    def _predict(self, texts: list[str]) -> list[Prediction]:
        predictions = self.classifier.classify_batch(texts)
        if len(predictions) != len(texts):
            raise BackendContractError(
                f"classifier returned {len(predictions)} predictions for {len(texts)} texts"
            )
        return predictions

    def _classify_chunk(self, texts: list[str]) -> list[Outcome]:
        try:
            predictions: list[Outcome] = list(self._predict(texts))
        except BackendContractError:
            raise
        except Exception as exc:
            logger.exception("the model raised on a chunk of %d texts", len(texts))
            if not self._model_answers():
                self.unhealthy_reason = f"the model fails on every text: {short_error(exc)}"
                logger.error("model unhealthy: %s", self.unhealthy_reason)
                message = (
                    f"The model is failing on every text at the moment ({short_error(exc)}). "
                    "This is a server problem, not your text; try again later."
                )
                return [Rejection(message, kind="model_error")] * len(texts)
            return self._isolate(texts, exc)
        self.unhealthy_reason = None
        return predictions

    def _model_answers(self) -> bool:
        """True when the model classifies the probe text, i.e. it works for ordinary input."""
        try:
            self._predict([self.probe_text])
        except BackendContractError:
            raise
        except Exception:
            return False
        self.unhealthy_reason = None
        return True

    def _isolate(self, texts: list[str], error: Exception) -> list[Outcome]:
        """`texts` failed together with `error`: answer every text that works without the others."""
        if len(texts) == 1:
            logger.warning(
                "the model could not process a text of %d characters: %s",
                len(texts[0]),
                short_error(error),
            )
            message = (
                f"The model could not process this text ({short_error(error)}). Other texts were not "
                "affected; try rephrasing or shortening this one."
            )
            return [Rejection(message, kind="model_error")]
        middle = len(texts) // 2
        outcomes: list[Outcome] = []
        for half in (texts[:middle], texts[middle:]):
            try:
                outcomes += self._predict(half)
            except BackendContractError:
                raise
            except Exception as exc:
                outcomes += self._isolate(half, exc)
        return outcomes


class BackendContractError(RuntimeError):
    """The classifier broke its contract (a bug, not a bad text): raised, never bisected."""


def short_error(exc: BaseException) -> str:
    """`Type: first line of the message`, at most 200 characters: for users and one-line logs."""
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"
