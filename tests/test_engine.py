"""BatchEngine with a fake classifier: order, chunking, per-item rejections, whole-batch failure."""

from __future__ import annotations

import pytest

from sentiment_demo.core.classifier import Prediction, Rejection
from sentiment_demo.core.engine import BatchEngine
from tests.conftest import FakeClassifier


def test_engine_keeps_input_order_whatever_the_lengths(fake_classifier: FakeClassifier) -> None:
    engine = BatchEngine(fake_classifier, max_text_chars=100)
    texts = ["good", "bad bad bad bad good", "good good bad", "bad"]
    outcomes = engine.classify(texts)
    assert [o.as_dict()["positive"] for o in outcomes if isinstance(o, Prediction)] == [
        1.0,
        0.2,
        round(2 / 3, 4),
        0.0,
    ]


def test_engine_sorts_each_chunk_by_length_longest_first(fake_classifier: FakeClassifier) -> None:
    engine = BatchEngine(fake_classifier, max_text_chars=100)
    engine.classify(["a", "aaa", "aa"])
    assert fake_classifier.batches == [["aaa", "aa", "a"]]


def test_engine_cuts_chunks_at_the_classifier_batch_size() -> None:
    classifier = FakeClassifier(max_batch_size=3)
    engine = BatchEngine(classifier, max_text_chars=100)
    outcomes = engine.classify([f"text {i}" for i in range(8)])
    assert [len(batch) for batch in classifier.batches] == [3, 3, 2]
    assert len(outcomes) == 8
    assert all(isinstance(o, Prediction) for o in outcomes)


@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        ("x" * 51, "51 characters; the limit is 50"),
        (None, "Expected text, got NoneType"),
        (42, "Expected text, got int"),
    ],
)
def test_engine_rejects_a_bad_item_alone(
    fake_classifier: FakeClassifier, bad: object, expected: str
) -> None:
    engine = BatchEngine(fake_classifier, max_text_chars=50)
    outcomes = engine.classify(["good film", bad, "bad film"])
    assert isinstance(outcomes[1], Rejection)
    assert expected in outcomes[1].message
    assert isinstance(outcomes[0], Prediction)
    assert outcomes[0].label == "positive"
    assert isinstance(outcomes[2], Prediction)
    assert outcomes[2].label == "negative"
    # Rejected texts never reach the model.
    assert fake_classifier.batches == [["good film", "bad film"]]


def test_engine_never_calls_the_model_when_every_item_is_rejected(
    fake_classifier: FakeClassifier,
) -> None:
    engine = BatchEngine(fake_classifier, max_text_chars=10)
    outcomes = engine.classify(["", "much too long for ten"])
    assert all(isinstance(o, Rejection) for o in outcomes)
    assert fake_classifier.batches == []


def test_engine_text_at_the_limit_is_accepted(fake_classifier: FakeClassifier) -> None:
    engine = BatchEngine(fake_classifier, max_text_chars=4)
    assert isinstance(engine.classify(["good"])[0], Prediction)


def test_engine_isolates_a_text_that_crashes_the_model(fake_classifier: FakeClassifier) -> None:
    fake_classifier.max_batch_size = 32
    engine = BatchEngine(fake_classifier, max_text_chars=100)
    texts = [f"good {i}" if i % 3 else f"bad {i}" for i in range(31)]
    texts.insert(17, "explode")
    outcomes = engine.classify(texts)
    failed = [i for i, o in enumerate(outcomes) if isinstance(o, Rejection)]
    assert failed == [17]
    assert outcomes[17].model_error  # type: ignore[union-attr]
    assert "could not process this text (RuntimeError: model crashed)" in outcomes[17].message  # type: ignore[union-attr]
    expected = [
        ("positive" if t.startswith("good") else "negative") for t in texts if t != "explode"
    ]
    assert [o.label for o in outcomes if isinstance(o, Prediction)] == expected
    # Bisection: the whole chunk, the probe, then about two calls per halving, not one per text.
    assert len(fake_classifier.batches) <= 2 + 2 * 5
    assert engine.unhealthy_reason is None


def test_engine_isolates_several_poison_texts(fake_classifier: FakeClassifier) -> None:
    engine = BatchEngine(fake_classifier, max_text_chars=100)
    outcomes = engine.classify(["explode", "good", "explode", "bad", "good good"])
    assert [
        getattr(o, "kind", o.label if isinstance(o, Prediction) else None) for o in outcomes
    ] == [
        "model_error",
        "positive",
        "model_error",
        "negative",
        "positive",
    ]


def test_engine_reports_a_model_that_fails_on_every_text(fake_classifier: FakeClassifier) -> None:
    engine = BatchEngine(fake_classifier, max_text_chars=100)
    fake_classifier.broken = True
    outcomes = engine.classify(["good", "bad", "good film"])
    assert all(isinstance(o, Rejection) and o.model_error for o in outcomes)
    assert "failing on every text" in outcomes[0].message  # type: ignore[union-attr]
    assert engine.unhealthy_reason == (
        "the model fails on every text: RuntimeError: CUDA error: device-side assert triggered"
    )
    # No bisection when the probe fails too: the chunk and the probe, nothing more.
    assert len(fake_classifier.batches) == 2
    fake_classifier.broken = False
    assert isinstance(engine.classify(["good"])[0], Prediction)
    assert engine.unhealthy_reason is None


def test_engine_refuses_text_no_tokenizer_can_read(fake_classifier: FakeClassifier) -> None:
    engine = BatchEngine(fake_classifier, max_text_chars=100)
    outcomes = engine.classify(["good", "bad \ud800 text"])
    assert isinstance(outcomes[0], Prediction)
    assert isinstance(outcomes[1], Rejection)
    assert "character 5 is an unpaired surrogate" in outcomes[1].message
    assert fake_classifier.batches == [["good"]]


def test_engine_refuses_a_classifier_that_loses_texts() -> None:
    class LosesOne(FakeClassifier):
        def classify_batch(self, texts):  # type: ignore[no-untyped-def]
            return super().classify_batch(texts)[:-1]

    engine = BatchEngine(LosesOne(), max_text_chars=100)
    with pytest.raises(RuntimeError, match="1 predictions for 2 texts"):
        engine.classify(["good", "bad"])


def test_prediction_reports_truncation() -> None:
    full = Prediction((), num_tokens=10, kept_tokens=10)
    cut = Prediction((), num_tokens=700, kept_tokens=512)
    assert not full.truncated
    assert cut.truncated
