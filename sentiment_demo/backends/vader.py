"""VADER, a classic lexicon-and-rules sentiment baseline, behind the same Classifier protocol as a model.

`--model vader` serves it next to transformers, so a class can see where a word list fails (negation
scope, sarcasm, domain words) and where it holds up. Labels follow VADER's published rule on the
compound score c: positive when c ≥ 0.05, negative when c ≤ -0.05, neutral otherwise. VADER gives no
probabilities: the scores shown are softmax(4 * (-c, 0.1 - |c|, c)), a monotone mapping chosen so that
the top score is always the published rule's label; treat them as strengths, not probabilities.

vaderSentiment's negation, idiom and "but" rules rescan the whole text for every word, so one text of
2,000 emoji (each spelt out as several words) took 1.1-1.9 s. LinearVader computes the same scores (the
rules read at most three words either side, and "but" is applied in one pass), in time linear in the
words: the same text takes about 0.2 s.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Sequence

import psutil
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import LabelScore, ModelInfo, Prediction

LABELS = ("negative", "neutral", "positive")
THRESHOLD = 0.05  # Hutto & Gilbert's published cut-off on the compound score
SCALE = 4.0


def logits_of(compound: float) -> tuple[float, float, float]:
    """(negative, neutral, positive) logits: the largest is VADER's label for this compound score."""
    return (
        -SCALE * compound,
        SCALE * (2 * THRESHOLD - abs(compound)),
        SCALE * compound,
    )


def compound_of(raw_positive: float, raw_negative: float) -> float:
    """VADER's compound score back from the positive and negative logits of `logits_of`."""
    return (raw_positive - raw_negative) / (2 * SCALE)


def label_of(compound: float) -> str:
    """VADER's published rule."""
    if compound >= THRESHOLD:
        return "positive"
    if compound <= -THRESHOLD:
        return "negative"
    return "neutral"


class LinearVader(SentimentIntensityAnalyzer):  # type: ignore[misc]
    """SentimentIntensityAnalyzer with the same scores, in time linear in the words of a text.

    vaderSentiment 3.3.2 lower-cases the whole word list inside `_negation_check` and
    `_special_idioms_check`, once per sentiment word, and `_but_check` looks each sentiment up with
    `list.index`: quadratic in the words. Here the first two get the words they read (at most three
    before and two after the word, which VADER only calls them with when they exist) and the third
    keeps, for each value, the positions that hold it. tests/test_outcome_safety.py checks the scores
    equal the original's on thousands of generated texts.
    """

    @staticmethod
    def _negation_check(valence: float, words: list[str], start_i: int, i: int) -> float:
        start = max(0, i - 3)
        return float(
            SentimentIntensityAnalyzer._negation_check(
                valence, words[start : i + 1], start_i, i - start
            )
        )

    @staticmethod
    def _special_idioms_check(valence: float, words: list[str], i: int) -> float:
        start = max(0, i - 3)
        return float(
            SentimentIntensityAnalyzer._special_idioms_check(
                valence, words[start : i + 3], i - start
            )
        )

    @staticmethod
    def _but_check(words: list[str], sentiments: list[float]) -> list[float]:
        """VADER's rule, step for step: the loop scales the first position holding each value."""
        lowered = [str(word).lower() for word in words]
        if "but" not in lowered:
            return sentiments
        but_at = lowered.index("but")
        holding: dict[float, list[int]] = {}  # value → heap of positions that held it
        for position, value in enumerate(sentiments):
            holding.setdefault(value, []).append(position)
        for k in range(len(sentiments)):
            value = sentiments[k]
            heap = holding[value]
            while sentiments[heap[0]] != value:  # positions whose value has changed since
                heapq.heappop(heap)
            first = heap[0]  # what sentiments.index(value) returns
            if first == but_at:
                continue
            scaled = value * (0.5 if first < but_at else 1.5)
            sentiments[first] = scaled
            heapq.heappush(holding.setdefault(scaled, []), first)
        return sentiments


class VaderClassifier:
    """The Classifier protocol over vaderSentiment's SentimentIntensityAnalyzer (pure Python, CPU)."""

    labels = LABELS
    scheme = "single_label"

    def __init__(self, max_batch_size: int = 64) -> None:
        self.analyzer = LinearVader()
        self.max_batch_size = max_batch_size

    def classify_batch(self, texts: Sequence[str]) -> list[Prediction]:
        """One Prediction per text; a word is a whitespace-separated token, never truncated."""
        predictions = []
        for text in texts:
            compound = float(self.analyzer.polarity_scores(text)["compound"])
            logits = logits_of(compound)
            largest = max(logits)
            exps = [math.exp(v - largest) for v in logits]
            total = sum(exps)
            scores = sorted(
                (LabelScore(label, e / total) for label, e in zip(LABELS, exps, strict=True)),
                key=lambda s: s.score,
                reverse=True,
            )
            raw = sorted(
                (LabelScore(label, v) for label, v in zip(LABELS, logits, strict=True)),
                key=lambda s: s.score,
                reverse=True,
            )
            words = len(text.split())
            predictions.append(
                Prediction(
                    tuple(scores), num_tokens=words, kept_tokens=words, raw_scores=tuple(raw)
                )
            )
        return predictions


def load_vader(max_batch_size: int) -> tuple[VaderClassifier, ModelInfo]:
    """The lexicon baseline and its panel facts (no parameters, no token limit)."""
    started = time.perf_counter()
    memory_before = psutil.Process().memory_info().rss
    classifier = VaderClassifier(max_batch_size)
    info = ModelInfo(
        model="vader",
        backend="vader",
        device="cpu",
        dtype="none (lexicon)",
        labels=LABELS,
        max_tokens=10**9,
        num_parameters=0,
        num_threads=1,
        load_seconds=round(time.perf_counter() - started, 2),
        warmup_seconds=0.0,
        model_card=None,
        forward="lexicon and rules (vaderSentiment 3.3.2)",
        max_tokens_reason="a lexicon reads the whole text",
        architecture="VADER lexicon",
        memory_bytes=max(0, psutil.Process().memory_info().rss - memory_before),
    )
    return classifier, info


def load(spec: str, settings: Settings) -> tuple[VaderClassifier, ModelInfo]:
    """The backend hook (see backends/__init__.py): `vader` needs nothing but the batch size."""
    return load_vader(settings.max_batch_size)
