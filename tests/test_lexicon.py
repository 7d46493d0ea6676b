"""The VADER baseline: its published thresholds decide the label, and the scores never contradict it."""

from __future__ import annotations

import pytest

from sentiment_demo.backends.vader import THRESHOLD, VaderClassifier, label_of, logits_of


@pytest.mark.parametrize("compound", [-1.0, -0.3, -0.05, -0.049, 0.0, 0.049, 0.05, 0.2, 1.0])
def test_the_top_score_is_the_published_rule(compound: float) -> None:
    logits = logits_of(compound)
    top = ("negative", "neutral", "positive")[logits.index(max(logits))]
    if abs(compound) != THRESHOLD:  # exactly on the threshold the two logits tie
        assert top == label_of(compound)


def test_vader_reads_negation_and_plain_statements() -> None:
    vader = VaderClassifier()
    happy, negated, fact = vader.classify_batch(
        ["What a great day!", "This is not good at all.", "The meeting is at 3pm."]
    )
    assert happy.label == "positive"
    assert negated.label == "negative"
    assert fact.label == "neutral"
    assert sum(s.score for s in happy.scores) == pytest.approx(1.0)
    assert happy.raw_score_of("positive") > happy.raw_score_of("negative")
