"""BatchScheduler: merging requests into shared batches, overload, and whole-batch failures."""

from __future__ import annotations

import time

import pytest

from sentiment_demo.engine import BatchEngine, Prediction, Rejection
from sentiment_demo.errors import OverloadedError
from sentiment_demo.metrics import Metrics
from sentiment_demo.scheduler import BatchScheduler
from tests.conftest import FakeClassifier


def _scheduler(classifier: FakeClassifier, **kwargs: object) -> BatchScheduler:
    options = {"max_batch_texts": 8, "max_pending": 10, "metrics": Metrics()} | kwargs
    return BatchScheduler(BatchEngine(classifier, max_text_chars=50), **options)  # type: ignore[arg-type]


def _wait_until(condition: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.005)


def test_requests_waiting_together_share_one_forward_pass() -> None:
    classifier = FakeClassifier(max_batch_size=8)
    classifier.gate.clear()
    scheduler = _scheduler(classifier)
    try:
        first = scheduler.submit(["good start"])
        _wait_until(
            lambda: classifier.gate.is_set() or scheduler._pending == type(scheduler._pending)()
        )
        later = [scheduler.submit([f"good {i}", "bad"]) for i in range(3)]
        classifier.gate.set()
        assert first.result(timeout=10)[0].label == "positive"  # type: ignore[union-attr]
        results = [f.result(timeout=10) for f in later]
        assert [[o.label for o in r] for r in results] == [["positive", "negative"]] * 3  # type: ignore[union-attr]
        # The three later requests (six texts) were merged into one call after the first.
        assert [len(b) for b in classifier.batches] == [1, 6]
    finally:
        scheduler.close()


def test_rejected_texts_come_back_in_place() -> None:
    scheduler = _scheduler(FakeClassifier())
    try:
        outcomes = scheduler.classify(["good", "", "x" * 60, "bad"])
        assert isinstance(outcomes[0], Prediction)
        assert isinstance(outcomes[1], Rejection)
        assert isinstance(outcomes[2], Rejection)
        assert isinstance(outcomes[3], Prediction)
    finally:
        scheduler.close()


def test_a_crash_fails_only_its_text_and_the_worker_goes_on() -> None:
    scheduler = _scheduler(FakeClassifier())
    try:
        good, poison = scheduler.classify(["good", "explode"])
        assert isinstance(good, Prediction)
        assert isinstance(poison, Rejection)
        assert poison.model_error
        assert scheduler.alive
        assert scheduler.classify(["good"])[0].label == "positive"  # type: ignore[union-attr]
    finally:
        scheduler.close()


def test_too_many_waiting_requests_raise_overloaded() -> None:
    classifier = FakeClassifier()
    classifier.gate.clear()
    scheduler = _scheduler(classifier, max_pending=2)
    try:
        running = scheduler.submit(["good"])
        _wait_until(lambda: not scheduler._pending)  # the worker took it and waits at the gate
        waiting = [scheduler.submit(["good"]), scheduler.submit(["bad"])]
        with pytest.raises(OverloadedError, match="the limit is 2"):
            scheduler.submit(["one too many"])
        classifier.gate.set()
        assert running.result(timeout=10)
        assert [w.result(timeout=10)[0].label for w in waiting] == ["positive", "negative"]  # type: ignore[union-attr]
    finally:
        scheduler.close()


def test_metrics_record_batch_sizes_and_tokens() -> None:
    scheduler = _scheduler(FakeClassifier())
    try:
        scheduler.classify(["good film", "bad film here"])
        assert scheduler.metrics is not None
        assert scheduler.metrics.batch_size._sum.get() == 2
        assert scheduler.metrics.tokens._value.get() == 5  # the fake counts words as tokens
    finally:
        scheduler.close()
