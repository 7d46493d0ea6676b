"""One text that crashes the model fails alone, through every door; a dead model shows on /readyz.

The fault-injecting FakeClassifier raises on any batch that holds the text "explode", as a model
raises on an input it cannot handle; `broken` makes it raise on everything.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from gradio_client import Client

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Prediction
from sentiment_demo.service import Service, build_service
from tests.conftest import (
    FakeClassifier,
    in_process,
    launched,
    wait_for_jobs_in_queue,
    wait_until,
)
from tests.test_ui import INFO

GOOD = [f"good {i}" if i % 2 else f"bad {i}" for i in range(31)]
POISON_AT = 13
TEXTS = [*GOOD[:POISON_AT], "explode", *GOOD[POISON_AT:]]


@pytest.fixture(scope="module")
def classifier() -> FakeClassifier:
    return FakeClassifier(max_batch_size=32)


@pytest.fixture(scope="module")
def service(classifier: FakeClassifier) -> Service:
    return build_service(classifier, INFO, Settings(max_batch_size=32, handler_concurrency=1))


@pytest.fixture(scope="module")
def url(service: Service) -> Iterator[str]:
    with launched(service) as address:
        yield address


def _hold_model(classifier: FakeClassifier, service: Service, url: str) -> object:
    """Keep the model busy on one request, so that what is sent next waits and is batched together."""
    classifier.gate.clear()
    before = classifier.calls  # counted as a call begins, before it waits at the gate
    held = ThreadPoolExecutor(1).submit(
        httpx.post, f"{url}/predict", json={"inputs": "good hold"}, timeout=30
    )
    wait_until(lambda: classifier.calls > before, what="the held request at the model")
    return held


def _wait_for_queue(service: Service, texts: int) -> None:
    wait_until(
        lambda: service.metrics.queue_depth._value.get() >= texts, what=f"{texts} texts waiting"
    )


def _poison_batches(classifier: FakeClassifier) -> list[list[str]]:
    return [b for b in classifier.batches if "explode" in b and len(b) > 1]


def test_poison_text_fails_alone_among_31_through_classify(
    classifier: FakeClassifier, service: Service, url: str
) -> None:
    client = Client(url, verbose=False)
    held = _hold_model(classifier, service, url)
    jobs = [client.submit(text, api_name="/classify") for text in TEXTS]
    wait_for_jobs_in_queue(jobs)  # every event reaches Gradio's queue behind the held one
    classifier.gate.set()
    held.result(timeout=30)  # type: ignore[attr-defined]
    results = [job.result(timeout=30) for job in jobs]
    assert (
        "The model could not process this text (RuntimeError: model crashed)"
        in results[POISON_AT][1]
    )
    assert results[POISON_AT][0] is None or results[POISON_AT][0].get("label") is None
    for text, (label, notice) in zip(TEXTS, results, strict=True):
        if text != "explode":
            assert label["label"] == ("positive" if text.startswith("good") else "negative")
            # The fake's scores are a close call, which is said; nothing is refused or failed.
            assert "⚠️" not in notice
    assert max(len(b) for b in _poison_batches(classifier)) > 8  # it really shared a batch


def test_poison_text_fails_alone_through_the_batch_endpoint(url: str) -> None:
    client = Client(url, verbose=False)
    table, _, _, summary = client.predict("\n".join(TEXTS), None, None, api_name="/classify_batch")
    notes = [row[-1] for row in table["data"]]
    assert [i for i, note in enumerate(notes) if note] == [POISON_AT]
    assert "could not process this text" in notes[POISON_AT]
    assert "Analysed 31 of 32 texts" in summary
    assert "1 could not be processed by the model" in summary


def test_poison_text_fails_alone_through_predict(
    classifier: FakeClassifier, service: Service, url: str
) -> None:
    held = _hold_model(classifier, service, url)
    with ThreadPoolExecutor(len(TEXTS)) as pool:
        futures = [
            pool.submit(httpx.post, f"{url}/predict", json={"inputs": t}, timeout=30) for t in TEXTS
        ]
        _wait_for_queue(service, len(TEXTS))
        classifier.gate.set()
        responses = [f.result() for f in futures]
    held.result(timeout=30)  # type: ignore[attr-defined]
    assert [r.status_code for r in responses] == [424 if t == "explode" else 200 for t in TEXTS]
    poisoned = responses[POISON_AT].json()
    assert poisoned["error_type"] == "Backend"
    assert "could not process this text" in poisoned["error"]
    assert "Traceback" not in poisoned["error"]
    assert any(len(b) == len(TEXTS) for b in _poison_batches(classifier))
    # In one request of several texts, TEI's contract answers the whole request with the error.
    listed = httpx.post(f"{url}/predict", json={"inputs": ["good", "explode"]}, timeout=30)
    assert listed.status_code == 424
    assert listed.json()["error"].startswith("input 1: The model could not process")
    metrics = httpx.get(f"{url}/metrics").text
    failures = next(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("sentiment_model_failures_total")
    )
    assert failures >= 3
    assert 'sentiment_requests_total{outcome="failed",route="predict"}' in metrics


def test_a_model_that_fails_on_every_text_turns_readyz_to_503() -> None:
    classifier = FakeClassifier()
    with in_process(build_service(classifier, INFO, Settings())) as api:
        assert api.get("/readyz").status_code == 200
        assert api.get("/health").status_code == 200
        classifier.broken = True
        answer = api.post("/predict", json={"inputs": "good"})
        assert answer.status_code == 424
        assert "failing on every text" in answer.json()["error"]
        ready = api.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["reason"] == (
            "the model fails on every text: RuntimeError: CUDA error: device-side assert triggered"
        )
        health = api.get("/health")
        assert health.status_code == 503
        assert health.json()["error_type"] == "Unhealthy"
        classifier.broken = False
        assert api.post("/predict", json={"inputs": "good"}).status_code == 200
        assert api.get("/readyz").status_code == 200


class BrokenContract(FakeClassifier):
    """A backend bug rather than a bad text: it returns fewer predictions than it was given."""

    def classify_batch(self, texts):  # type: ignore[no-untyped-def]
        return super().classify_batch(texts)[:-1]


def test_unexpected_server_errors_are_short_and_useful_never_opaque() -> None:
    with launched(build_service(BrokenContract(), INFO, Settings())) as url:
        client = Client(url, verbose=False)
        calls = [
            ("/classify", ("good film",)),
            ("/classify_batch", ("good film\nbad film", None, None)),
            ("/explain", ("good film",)),
        ]
        for api_name, args in calls:
            with pytest.raises(Exception) as caught:
                client.predict(*args, api_name=api_name)
            message = str(caught.value)
            assert "verbose error reporting" not in message
            assert "Something went wrong on the server (BackendContractError)" in message


def test_prediction_of_every_good_text_is_unchanged_by_isolation(
    classifier: FakeClassifier,
) -> None:
    # The answers of the texts that shared a batch with the poison equal their answers alone.
    from sentiment_demo.core.engine import BatchEngine

    engine = BatchEngine(classifier, 200)
    together = engine.classify(TEXTS)
    for text, outcome in zip(TEXTS, together, strict=True):
        if text != "explode":
            alone = engine.classify([text])[0]
            assert isinstance(outcome, Prediction)
            assert outcome == alone
