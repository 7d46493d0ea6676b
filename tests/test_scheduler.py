"""BatchScheduler: merging requests into shared batches, overload, and whole-batch failures."""

from __future__ import annotations

import time

import pytest

from sentiment_demo.core.classifier import Prediction, Rejection
from sentiment_demo.core.engine import BatchEngine
from sentiment_demo.core.metrics import Metrics
from sentiment_demo.core.scheduler import BatchScheduler
from sentiment_demo.errors import OverloadedError
from tests.conftest import FakeClassifier


def _scheduler(classifier: FakeClassifier, **kwargs: object) -> BatchScheduler:
    options = {"max_batch_texts": 8, "max_pending_texts": 10, "metrics": Metrics()} | kwargs
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
        _wait_until(lambda: scheduler.pending_texts() == 0)
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


def test_too_many_waiting_texts_raise_overloaded() -> None:
    classifier = FakeClassifier()
    classifier.gate.clear()
    scheduler = _scheduler(classifier, max_pending_texts=2)
    try:
        running = scheduler.submit(["good"])
        _wait_until(lambda: scheduler.pending_texts() == 0)  # taken; the worker waits at the gate
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


def _hold(classifier: FakeClassifier, scheduler: BatchScheduler) -> object:
    """Keep the worker busy with one text, so that what is submitted next waits together."""
    classifier.gate.clear()
    held = scheduler.submit(["good hold"], lane="ui")
    _wait_until(lambda: scheduler.pending_texts() == 0)  # taken: the worker waits at the gate
    return held


def test_a_single_text_waits_for_at_most_the_forward_pass_in_flight() -> None:
    classifier = FakeClassifier(max_batch_size=8)
    scheduler = _scheduler(classifier, max_pending_texts=1000)
    try:
        _hold(classifier, scheduler)
        jobs = [
            scheduler.submit([f"bad {j} {i}" for i in range(100)], lane)
            for j, lane in enumerate(["ui", "api", "api"])
        ]
        single = scheduler.submit(["good single"], lane="ui")
        classifier.gate.set()
        assert single.result(timeout=10)[0].label == "positive"  # type: ignore[union-attr]
        for job in jobs:
            assert len(job.result(timeout=10)) == 100
        # Batch 0 was in flight; the single text went into the very next forward pass.
        assert "good single" in classifier.batches[1]
        # Batches stayed full, bulk chunks included: fairness costs (almost) no throughput.
        after = classifier.batches[1:]
        assert sum(len(b) for b in after) == 301
        assert len(after) <= -(-301 // 8) + 1
    finally:
        scheduler.close()


def test_bulk_jobs_progress_under_continuous_single_texts() -> None:
    classifier = FakeClassifier(max_batch_size=8)
    scheduler = _scheduler(classifier, max_pending_texts=1000)
    try:
        _hold(classifier, scheduler)
        job = scheduler.submit([f"bad {i}" for i in range(16)], lane="api")
        singles = [scheduler.submit([f"good {i}"], lane="ui") for i in range(40)]
        classifier.gate.set()
        job.result(timeout=10)
        for single in singles:
            single.result(timeout=10)
        bulk = [sum(t.startswith("bad") for t in b) for b in classifier.batches]
        last = max(i for i, n in enumerate(bulk) if n)
        # Single texts ride in passes of their own, and while both wait every other pass is the
        # job's, so it finished within 8 forward passes although 40 single texts were queued.
        assert all(bulk[i] or bulk[i + 1] for i in range(1, last))
        assert all(n in (0, len(b)) for n, b in zip(bulk, classifier.batches, strict=True))
        assert last <= 8
    finally:
        scheduler.close()


def test_api_clients_cannot_use_up_the_browser_lane() -> None:
    classifier = FakeClassifier()
    scheduler = _scheduler(classifier, max_pending_texts=2)
    try:
        _hold(classifier, scheduler)
        waiting = [scheduler.submit(["good"], lane="api") for _ in range(2)]
        with pytest.raises(OverloadedError, match="from API clients are already waiting"):
            scheduler.submit(["good"], lane="api")
        browser = scheduler.submit(["good browser"], lane="ui")  # its own budget
        classifier.gate.set()
        assert browser.result(timeout=10)[0].label == "positive"  # type: ignore[union-attr]
        assert all(w.result(timeout=10) for w in waiting)
    finally:
        scheduler.close()


def test_work_whose_client_left_never_reaches_the_model() -> None:
    classifier = FakeClassifier(max_batch_size=8)
    metrics = Metrics()
    scheduler = _scheduler(classifier, max_pending_texts=1000, metrics=metrics)
    try:
        _hold(classifier, scheduler)
        abandoned = scheduler.submit([f"bad gone {i}" for i in range(100)], lane="api")
        gone_single = scheduler.submit(["bad gone single"], lane="api")
        kept = scheduler.submit(["good kept"], lane="api")
        assert abandoned.cancel()
        assert gone_single.cancel()
        classifier.gate.set()
        assert kept.result(timeout=10)[0].label == "positive"  # type: ignore[union-attr]
        _wait_until(lambda: scheduler.pending_texts() == 0)
        assert not any("gone" in text for batch in classifier.batches for text in batch)
        assert metrics.dropped_texts._value.get() == 101
    finally:
        scheduler.close()
