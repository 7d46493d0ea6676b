"""What every model backend is and returns: the Classifier protocol, its per-text outcomes, ModelInfo.

Torch-free on purpose: the engine, the scheduler, the UI and the JSON routes import only this, so an app
serving only VADER or a remote endpoint never loads torch or transformers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

RejectionKind = Literal["invalid", "too_long", "model_error"]
# How a model's outputs are read (core/schemes.py): softmax, independent sigmoids, or a raw value.
Scheme = Literal["single_label", "multi_label", "regression"]
# A plain sentence every text model can read: when a chunk fails, it tells a poison text from a broken model.
PROBE_TEXT = "This is a short test sentence."
# Warm-up texts, and the remote backend's first call that learns the labels.
WARMUP_TEXTS = (
    "A quiet, lovely film.",
    "The plot goes nowhere, the jokes fall flat, and two hours have never felt longer than this.",
)


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


@dataclass(frozen=True)
class ModelInfo:
    """What was loaded and how, for the log, the model panel and the API."""

    model: str
    device: str
    dtype: str
    labels: tuple[str, ...]
    max_tokens: int
    num_parameters: int
    num_threads: int
    load_seconds: float
    warmup_seconds: float
    model_card: str | None
    forward: str = "padded"
    scheme: Scheme = "single_label"
    max_tokens_reason: str = ""
    architecture: str = ""
    memory_bytes: int = 0
    backend: str = "transformers"  # which module of sentiment_demo.backends loaded it
    runtime: str = ""  # torch or onnx for transformers models; empty for the others
    runtime_note: str = ""  # why this runtime: the parity gate and the start-up measurement

    @property
    def is_local(self) -> bool:
        """True when the model came from a folder rather than the Hub."""
        return Path(self.model).is_dir()
