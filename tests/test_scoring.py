"""scoring.score: the figures of the Evaluate tab and the model cards, checked against hand counts."""

from __future__ import annotations

import pytest

from sentiment_demo.evaluation.scoring import reliability, score

GOLD = ["pos", "pos", "pos", "neg", "neg", "neu"]
PREDICTED = ["pos", "pos", "neg", "neg", "pos", "neu"]
CONFIDENCE = [0.95, 0.85, 0.65, 0.75, 0.55, 0.95]


def test_score_matches_figures_counted_by_hand() -> None:
    scores = score(GOLD, PREDICTED, CONFIDENCE, ["neg", "neu", "pos"])
    assert scores.size == 6
    assert scores.accuracy == pytest.approx(4 / 6)
    by_label = {c.label: c for c in scores.per_class}
    # pos: 2 of 3 predicted pos are right (precision), 2 of 3 true pos found (recall).
    assert by_label["pos"].precision == pytest.approx(2 / 3)
    assert by_label["pos"].recall == pytest.approx(2 / 3)
    # neg: 1 of 2 predicted neg right, 1 of 2 true neg found.
    assert by_label["neg"].f1 == pytest.approx(0.5)
    assert by_label["neu"].f1 == pytest.approx(1.0)
    assert scores.macro_f1 == pytest.approx((2 / 3 + 0.5 + 1.0) / 3)
    assert by_label["pos"].support == 3
    assert scores.confusion == ((1, 0, 1), (0, 1, 0), (1, 0, 2))  # rows true neg/neu/pos


def test_expected_calibration_error_is_the_bin_weighted_gap() -> None:
    scores = score(GOLD, PREDICTED, CONFIDENCE, ["neg", "neu", "pos"])
    # Bins: 0.5-0.6 {0.55 wrong}, 0.6-0.7 {0.65 wrong}, 0.7-0.8 {0.75 right}, 0.8-0.9 {0.85 right},
    # 0.9-1.0 {0.95 right, 0.95 right}.
    expected = (0.55 + 0.65 + 0.25 + 0.15 + 2 * 0.05) / 6
    assert scores.expected_calibration_error == pytest.approx(expected)
    assert [b.count for b in scores.reliability] == [1, 1, 1, 1, 2]
    assert scores.reliability[-1].accuracy == 1.0


def test_a_confidence_of_exactly_one_counts_in_the_last_bin() -> None:
    import numpy as np

    bins, ece = reliability(np.array([1.0, 1.0]), np.array([True, False]))
    assert [(b.low, b.high, b.count) for b in bins] == [(0.9, 1.0, 2)]
    assert ece == pytest.approx(0.5)


def test_labels_outside_the_list_still_count_as_errors() -> None:
    scores = score(["pos", "neg"], ["pos", "LABEL_7"], [0.9, 0.9], ["neg", "pos"])
    assert scores.accuracy == 0.5
    assert scores.labels == ("neg", "pos", "LABEL_7")


def test_scoring_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="no texts"):
        score([], [], [], ["neg", "pos"])
