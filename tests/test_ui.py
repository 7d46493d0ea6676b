"""The launched app through gradio_client: batching, per-item rejections, back-pressure, batch endpoint."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from sentiment_demo.config import Settings
from sentiment_demo.service import Service, build_service
from tests.conftest import (
    FAKE_INFO,
    FakeClassifier,
    batch_refusal,
    launched,
    wait_for_jobs_in_queue,
    wait_until,
)

INFO = FAKE_INFO  # other test modules import it from here


def _app(classifier: FakeClassifier, settings: Settings) -> Service:
    return build_service(classifier, INFO, settings)


@pytest.fixture(scope="module")
def app_classifier() -> FakeClassifier:
    return FakeClassifier(max_batch_size=8)


@pytest.fixture(scope="module")
def service(app_classifier: FakeClassifier) -> Service:
    settings = Settings(
        max_batch_size=8,
        max_text_chars=200,
        max_batch_rows=5,
        max_upload_kb=1,
        handler_concurrency=8,
    )
    return _app(app_classifier, settings)


@pytest.fixture(scope="module")
def client(service: Service) -> Iterator[Client]:
    with launched(service) as url:
        yield Client(url, verbose=False)


def _wait_for_pending_texts(service: Service, count: int) -> None:
    wait_until(lambda: service.metrics.queue_depth._value.get() >= count, what=f"{count} waiting")


def _wait_for_first_batch(classifier: FakeClassifier, count: int) -> None:
    # Counted as the call begins: a batch held at the gate is in `batches` only once it is let go.
    wait_until(lambda: classifier.calls >= count, what=f"{count} calls of the model")


def test_classify_returns_every_label_score(client: Client) -> None:
    label, notice = client.predict("good good bad", api_name="/classify")
    assert label["label"] == "positive"
    scores = {c["label"]: c["confidence"] for c in label["confidences"]}
    assert scores == pytest.approx({"positive": 0.6667, "negative": 0.3333})
    assert notice == ""


def test_concurrent_requests_are_served_in_batches(
    client: Client, app_classifier: FakeClassifier
) -> None:
    app_classifier.gate.clear()  # hold the first batch so that the others pile up in the queue
    before = len(app_classifier.batches)
    jobs = [client.submit(f"good {i}", api_name="/classify") for i in range(6)]
    wait_for_jobs_in_queue(jobs)
    app_classifier.gate.set()
    results = [job.result(timeout=30) for job in jobs]
    assert [r[0]["label"] for r in results] == ["positive"] * 6
    sizes = [len(b) for b in app_classifier.batches[before:]]
    assert max(sizes) > 1, sizes
    assert sum(sizes) == 6


def test_a_bad_text_fails_alone_inside_a_batch(
    client: Client, service: Service, app_classifier: FakeClassifier
) -> None:
    app_classifier.gate.clear()  # the model is busy with "good start"; the others wait together
    before = len(app_classifier.batches)
    first = client.submit("good start", api_name="/classify")
    _wait_for_first_batch(app_classifier, app_classifier.calls + 1)
    texts = ["good one", "", "bad two", "x" * 201, "good three"]
    jobs = [client.submit(text, api_name="/classify") for text in texts]
    _wait_for_pending_texts(service, len(texts))
    app_classifier.gate.set()
    first.result(timeout=30)
    results = [job.result(timeout=30) for job in jobs]
    assert results[0][0]["label"] == "positive"
    assert results[2][0]["label"] == "negative"
    assert results[4][0]["label"] == "positive"
    assert results[1][0] is None or results[1][0].get("label") is None
    assert "empty" in results[1][1]
    assert "201 characters; the limit is 200" in results[3][1]
    # All five went to the engine together; the bad ones were answered without reaching the model.
    assert sorted(app_classifier.batches[before + 1]) == ["bad two", "good one", "good three"]
    assert service.metrics.batch_size._sum.get() >= len(texts)


def test_full_queue_answers_busy_at_once() -> None:
    classifier = FakeClassifier(max_batch_size=1)
    settings = Settings(max_batch_size=1, queue_size=1)
    classifier.gate.clear()
    service = _app(classifier, settings)
    with launched(service) as url:
        client = Client(url, verbose=False)
        jobs = [client.submit(f"good {i}", api_name="/classify") for i in range(4)]
        wait_for_jobs_in_queue(jobs)
        classifier.gate.set()
        errors = []
        for job in jobs:
            try:
                job.result(timeout=30)
            except Exception as exc:  # gradio_client raises its own error types
                errors.append(str(exc))
        assert errors, "with a queue of one, some of four simultaneous requests must be refused"
        assert all("queue is full" in e.lower() or "busy" in e.lower() for e in errors), errors
        assert len(errors) < len(jobs)
        # Gradio refuses these itself; /metrics counts them all the same.
        refused = service.metrics.requests.labels("ui", "overloaded")._value.get()
        assert refused == len(errors)


def test_batch_endpoint_returns_table_chart_and_csv(client: Client) -> None:
    table, chart, csv_path, summary = client.predict(
        "good film\n\nbad film\ngood good bad\n", None, None, api_name="/classify_batch"
    )
    # The label columns first, so that a phone shows them before the long text.
    assert table["headers"][:5] == ["row", "label", "score", "uncertain", "text"]
    rows = table["data"]
    assert [r[1] for r in rows] == ["positive", "negative", "positive"]
    assert [r[0] for r in rows] == [1, 3, 4]
    assert "Analysed 3 of 3 texts" in summary
    assert "1 blank lines skipped" in summary
    with open(csv_path, newline="", encoding="utf-8") as handle:
        downloaded = list(csv.DictReader(handle))
    assert [r["label"] for r in downloaded] == ["positive", "negative", "positive"]
    assert set(downloaded[0]) >= {"score_positive", "score_negative", "note"}
    assert chart["data"] == [["negative (1)", 1], ["positive (2)", 2]]


def test_batch_endpoint_reads_a_csv_upload(client: Client, tmp_path: Path) -> None:
    upload = tmp_path / "reviews.csv"
    upload.write_text('id,review\n1,"good, good"\n2,\n3,bad\n', encoding="utf-8")
    table, _, _, summary = client.predict(
        "", handle_file(str(upload)), "review", api_name="/classify_batch"
    )
    labels = [r[1] for r in table["data"]]
    assert labels == ["positive", "", "negative"]
    assert "empty" in table["data"][1][-1]
    assert "1 refused" in summary


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("caf\xe9\n".encode("latin-1"), "not UTF-8"),
        (b"a\nb\nc\nd\ne\nf\n", "has 6 texts; the limit is 5"),
        # Gradio refuses it while uploading, naming the same limit in bytes.
        (b"x" * 2000, r"the limit is 1 KiB|maximum.* size of 1024 bytes"),
    ],
)
def test_batch_endpoint_refuses_bad_files_with_a_clear_message(
    client: Client, tmp_path: Path, content: bytes, message: str
) -> None:
    upload = tmp_path / "upload.txt"
    upload.write_bytes(content)
    assert re.search(message, batch_refusal(client, "", handle_file(str(upload)), None))


def test_api_page_lists_the_public_endpoints(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {
        "/classify",
        "/classify_batch",
        "/explain",
        "/compare",
        "/explain_all",
        "/evaluate",
        "/sentences",
        "/compare_sentences",
        "/behaviour",
    }


def test_queue_keeps_no_per_event_analytics(client: Client, service: Service) -> None:
    # Gradio would rebuild a pandas summary of up to 10,000 events after each one (a third of its
    # per-request CPU in bench/); service.py turns it off. This reads Gradio's private queue state,
    # so it also fails if a Gradio upgrade renames what the workaround relies on.
    for i in range(3):
        client.predict(f"good {i}", api_name="/classify")
    queue = service.demo._queue
    assert len(queue.event_analytics) <= 1
    assert queue.event_count_at_last_cache == 0
    assert "GRADIO_ANALYTICS_MAX_EVENTS" not in os.environ  # set only while the queue was made
