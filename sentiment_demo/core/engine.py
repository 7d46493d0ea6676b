"""The batching engine: validates texts, cuts them into model-sized chunks, and keeps input order.

It knows nothing about tokenization, tensors or Gradio: a Classifier does the model work, and the UI turns
outcomes into components. It runs no threads of its own. When the model raises on a chunk, the engine
finds the texts that fail by bisection, so only they get a Rejection and the rest of the chunk is answered.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from sentiment_demo.core.classifier import PROBE_TEXT, Classifier, Outcome, Prediction, Rejection
from sentiment_demo.errors import short_error

logger = logging.getLogger(__name__)


def non_finite_rejection(prediction: Prediction) -> Rejection | None:
    """A "model_error" Rejection when a score or logit of the prediction is NaN or infinite, else None."""
    values = [item.score for item in (*prediction.scores, *prediction.raw_scores)]
    if all(math.isfinite(value) for value in values):
        return None
    bad = next(value for value in values if not math.isfinite(value))
    return Rejection(
        f"The model returned a score that is not a number ({bad}) for this text, so it has no "
        "answer (a numeric overflow in the model, or a corrupt weight). Other texts were not "
        "affected; try rephrasing or shortening this one.",
        kind="model_error",
    )


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
            predictions = self._predict(texts)
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
        outcomes: list[Outcome] = [non_finite_rejection(p) or p for p in predictions]
        failed = sum(isinstance(o, Rejection) for o in outcomes)
        if failed:
            logger.warning(
                "the model returned non-finite scores for %d of %d texts", failed, len(texts)
            )
            if failed == len(texts) and not self._model_answers():
                self.unhealthy_reason = "the model returns non-finite scores for every text"
                logger.error("model unhealthy: %s", self.unhealthy_reason)
                return outcomes
        self.unhealthy_reason = None
        return outcomes

    def _model_answers(self) -> bool:
        """True when the model classifies the probe text, i.e. it works for ordinary input."""
        try:
            (prediction,) = self._predict([self.probe_text])
        except BackendContractError:
            raise
        except Exception:
            return False
        if non_finite_rejection(prediction) is not None:
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
                outcomes += [non_finite_rejection(p) or p for p in self._predict(half)]
            except BackendContractError:
                raise
            except Exception as exc:
                outcomes += self._isolate(half, exc)
        return outcomes


class BackendContractError(RuntimeError):
    """The classifier broke its contract (a bug, not a bad text): raised, never bisected."""
