"""Word-level explanations: occlusion weights, limits, and the embedded model through the launched app."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
from gradio_client import Client

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Classifier, ModelInfo, Rejection
from sentiment_demo.core.engine import BatchEngine
from sentiment_demo.core.explain import Explanation, explain, split_pieces
from sentiment_demo.service import build_service
from tests.conftest import EMBEDDED_MODEL, FakeClassifier, launched


def test_pieces_join_back_into_the_text() -> None:
    text = "Not bad at all — I didn't expect   that!"
    pieces = split_pieces(text)
    assert "".join(p for p, _ in pieces) == text
    assert [p for p, is_word in pieces if is_word] == [
        "Not",
        "bad",
        "at",
        "all",
        "—",
        "I",
        "didn't",
        "expect",
        "that",
        "!",
    ]


def test_occlusion_weighs_each_word_in_one_batch() -> None:
    classifier = FakeClassifier(max_batch_size=64)
    engine = BatchEngine(classifier, max_text_chars=100)
    result = explain("good film good", engine.classify, max_words=10)
    assert isinstance(result, Explanation)
    assert result.label == "positive"
    weights = dict((p, w) for p, w in result.pieces if w is not None)
    # positive = share of "good": 2/3 with all words, 1/2 without one "good", 1 without "film".
    # Weights are log-odds changes, divided by the largest (film's: to a clipped 1 - 1e-6).
    good = math.log(2) - 0.0
    film = math.log(2) - math.log((1 - 1e-6) / 1e-6)
    assert weights["film"] == pytest.approx(-1.0)
    assert weights["good"] == pytest.approx(good / abs(film), abs=1e-4)
    assert all(-1 <= w <= 1 for _, w in result.pieces if w is not None)
    assert len(classifier.batches) == 1  # the text and its 3 variants went in one call
    assert len(classifier.batches[0]) == 4


def test_long_texts_weigh_only_the_first_words_and_say_so() -> None:
    engine = BatchEngine(FakeClassifier(max_batch_size=64), max_text_chars=1000)
    result = explain(" ".join(["good"] * 30), engine.classify, max_words=5)
    assert isinstance(result, Explanation)
    assert (result.explained_words, result.total_words) == (5, 30)
    assert sum(w is not None for _, w in result.pieces) == 5


def test_a_refused_text_is_not_explained() -> None:
    engine = BatchEngine(FakeClassifier(), max_text_chars=10)
    assert isinstance(explain("   ", engine.classify, max_words=5), Rejection)


@pytest.fixture(scope="module")
def embedded_client(embedded_model: tuple[Classifier, ModelInfo]) -> Iterator[Client]:
    settings = Settings(model=str(EMBEDDED_MODEL), device="cpu", num_threads=1)
    classifier, info = embedded_model
    with launched(build_service(classifier, info, settings)) as url:
        yield Client(url, verbose=False)


def _positive(client: Client, text: str) -> float:
    label, _ = client.predict(text, api_name="/classify")
    return next(c["confidence"] for c in label["confidences"] if c["label"] == "positive")


def test_removing_the_top_positive_word_lowers_the_positive_score(embedded_client: Client) -> None:
    text = "A wonderful film with a clumsy ending."
    highlighted, notice = embedded_client.predict(text, api_name="/explain")
    assert "leave-one-word-out occlusion" in notice
    weighted = [
        (h["token"], h["class_or_confidence"])
        for h in highlighted
        if h["class_or_confidence"] is not None
    ]
    top_word, top_weight = max(weighted, key=lambda item: item[1])
    assert top_word == "wonderful"
    assert top_weight > 0
    weakest_word = min(weighted, key=lambda item: item[1])[0]
    assert weakest_word == "clumsy"
    without = text.replace(f" {top_word}", "", 1)
    assert _positive(embedded_client, without) < _positive(embedded_client, text)


def test_explanations_explain_the_predicted_label_and_show_a_confident_models_reasons(
    embedded_client: Client,
) -> None:
    # The example: negative with high confidence. Probabilities barely moved (all weights
    # within ±0.01); log-odds show which words carried it.
    highlighted, notice = embedded_client.predict(
        "A dull, lifeless slog that wastes a talented cast.", api_name="/explain"
    )
    weights = {
        h["token"]: h["class_or_confidence"]
        for h in highlighted
        if h["class_or_confidence"] is not None
    }
    assert "Explaining **negative** (the predicted label)" in notice
    assert max(abs(w) for w in weights.values()) == pytest.approx(1.0)
    assert sum(abs(w) > 0.2 for w in weights.values()) >= 2
    top_three = sorted(weights, key=weights.__getitem__, reverse=True)[:3]
    assert {"dull", "lifeless", "slog", "wastes"} & set(top_three)  # a negative word carried it
    assert weights["talented"] < 0  # it pushed away from negative


def test_another_label_can_be_explained_on_request(embedded_client: Client) -> None:
    highlighted, notice = embedded_client.predict(
        "A dull, lifeless slog that wastes a talented cast.", "positive", api_name="/explain"
    )
    weights = {
        h["token"]: h["class_or_confidence"] for h in highlighted if h["class_or_confidence"]
    }
    assert "Explaining **positive** (the label you chose)" in notice
    assert weights["talented"] > 0  # the one word that argued for positive
    # Gradio checks the choice itself and names the valid ones.
    with pytest.raises(Exception, match=r"joy is not in the list of choices.*'neutral'"):
        embedded_client.predict("A fine film.", "joy", api_name="/explain")


def test_an_oversized_text_is_refused_before_any_variant_is_built() -> None:
    calls: list[int] = []

    def classify(texts):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        return []

    engine = BatchEngine(FakeClassifier(), max_text_chars=2000)
    result = explain("good " * 1_000_000, classify, max_words=60, check=engine.check)
    assert isinstance(result, Rejection)
    assert "5,000,000 characters; the limit is 2,000" in result.message
    assert calls == []  # not one of the 60 five-megabyte variants was made or sent


def test_explaining_a_label_the_model_lacks_is_refused() -> None:
    classifier = FakeClassifier()
    result = explain(
        "good film", lambda texts: classifier.classify_batch(list(texts)), 10, label="joy"
    )
    assert isinstance(result, Rejection)
    assert result.message == "The model has no label 'joy'; its labels are positive, negative."
