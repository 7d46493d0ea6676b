"""The close-call rule shared by Analyse, Compare, Batch and the sentence view."""

from __future__ import annotations

from sentiment_demo.core.classifier import LabelScore, ModelInfo, Prediction
from sentiment_demo.core.uncertainty import (
    CLOSE_MARGIN,
    LOW_TOP,
    scores_are_probabilities,
    uncertainty,
)


def _prediction(*scores: tuple[str, float]) -> Prediction:
    ordered = sorted(scores, key=lambda item: item[1], reverse=True)
    return Prediction(tuple(LabelScore(label, s) for label, s in ordered), 5, 5)


def _info(scheme: str = "single_label", backend: str = "transformers") -> ModelInfo:
    return ModelInfo(
        model="m",
        device="cpu",
        dtype="float32",
        labels=("negative", "positive"),
        max_tokens=128,
        num_parameters=1,
        num_threads=1,
        load_seconds=0.0,
        warmup_seconds=0.0,
        model_card=None,
        scheme=scheme,  # type: ignore[arg-type]
        backend=backend,
    )


def test_uncertainty_flags_a_close_call_and_names_both_labels() -> None:
    reason = uncertainty(
        _prediction(("positive", 0.51), ("negative", 0.48), ("neutral", 0.01)), "single_label"
    )
    assert reason is not None
    assert "close call" in reason
    assert "positive 51%" in reason
    assert "negative 48%" in reason


def test_uncertainty_leaves_a_clear_answer_alone() -> None:
    assert (
        uncertainty(
            _prediction(("positive", 0.96), ("negative", 0.03), ("neutral", 0.01)), "single_label"
        )
        is None
    )


def test_uncertainty_margin_threshold_is_the_boundary() -> None:
    just_under = 0.5 + CLOSE_MARGIN / 2 - 0.01
    assert uncertainty(_prediction(("a", just_under), ("b", 1 - just_under)), "single_label")
    just_over = 0.5 + CLOSE_MARGIN / 2 + 0.01
    assert uncertainty(_prediction(("a", just_over), ("b", 1 - just_over)), "single_label") is None


def test_uncertainty_flags_a_low_top_probability_with_a_wide_margin() -> None:
    top = LOW_TOP - 0.02
    rest = (1 - top) / 5
    scores = [("a", top)] + [(f"l{i}", rest) for i in range(5)]
    reason = uncertainty(_prediction(*scores), "single_label")
    assert reason is not None
    assert reason.startswith("low confidence")


def test_uncertainty_multi_label_near_the_cut_off() -> None:
    assert uncertainty(_prediction(("joy", 0.55), ("anger", 0.02)), "multi_label")
    assert uncertainty(_prediction(("joy", 0.95), ("anger", 0.02)), "multi_label") is None


def test_uncertainty_never_reads_a_regression_value() -> None:
    assert uncertainty(_prediction(("stars", 0.5)), "regression") is None


def test_scores_are_probabilities_excludes_vader_and_regression() -> None:
    assert scores_are_probabilities(_info())
    assert not scores_are_probabilities(_info(backend="vader"))
    assert not scores_are_probabilities(_info(scheme="regression"))
