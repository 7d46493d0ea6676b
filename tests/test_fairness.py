"""One client can never hurt another, through the launched app: batch jobs, API floods, clients that leave.

A FakeClassifier that takes a little time per forward pass stands in for the model, so that queues
form; every load here is bounded in count and time, on loopback.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from gradio_client import Client

from sentiment_demo.config import Settings
from sentiment_demo.service import build_service
from tests.conftest import FakeClassifier, launched, post_and_leave, wait_until
from tests.test_ui import INFO


def _batch_index(classifier: FakeClassifier, text: str) -> int:
    return next(i for i, batch in enumerate(classifier.batches) if text in batch)


def test_a_single_text_is_not_starved_by_batch_jobs() -> None:
    classifier = FakeClassifier(max_batch_size=32, delay=0.02)
    settings = Settings(max_batch_size=32, max_batch_rows=1000)
    with launched(build_service(classifier, INFO, settings)) as url:
        client = Client(url, verbose=False)
        lines = "\n".join(f"bad job line {i}" for i in range(1000))
        jobs = [client.submit(lines, None, None, api_name="/classify_batch") for _ in range(4)]
        # The jobs are running: 4,000 texts, about 125 forward passes.
        wait_until(lambda: len(classifier.batches) >= 5, 30, "the batch jobs under way")
        assert len(classifier.batches) < 100
        before = len(classifier.batches)
        label, _ = client.predict("good single", api_name="/classify")
        waited = _batch_index(classifier, "good single") - before
        for job in jobs:
            job.result(timeout=120)
    assert label["label"] == "positive"
    # Before fairness it waited behind every queued job: most of the 125 passes (about 7 s with six
    # users in the issue). Now it rides in one of the next forward passes after Gradio's own
    # dispatch, which takes a few 20 ms passes on a busy 2-core machine (3 quiet, up to 7 measured
    # with another process on the cores, in the old tree and this one alike).
    assert waited <= 10, waited


def test_api_clients_cannot_lock_out_browser_users() -> None:
    classifier = FakeClassifier(max_batch_size=4, delay=0.01)
    settings = Settings(max_batch_size=4, queue_texts=4)
    with launched(build_service(classifier, INFO, settings)) as url:
        stop = threading.Event()
        api_statuses: list[int] = []

        def flood() -> None:
            with httpx.Client(timeout=30) as http:
                for _ in range(200):  # bounded: at most 200 requests per client
                    if stop.is_set():
                        return
                    answer = http.post(f"{url}/predict", json={"inputs": "bad api flood"})
                    api_statuses.append(answer.status_code)

        flooders = [threading.Thread(target=flood) for _ in range(32)]
        for thread in flooders:
            thread.start()
        wait_until(lambda: 429 in api_statuses, 30, "the API lane full")
        client = Client(url, verbose=False)
        browser = [client.predict(f"good {i}", api_name="/classify")[0] for i in range(20)]
        stop.set()
        for thread in flooders:
            thread.join(timeout=60)
        metrics = httpx.get(f"{url}/metrics").text
    assert 429 in api_statuses  # the API lane was full...
    assert all(label and label["label"] == "positive" for label in browser)  # ...not the browser's
    assert 'sentiment_requests_total{outcome="overloaded",route="predict"}' in metrics


def test_work_of_a_client_that_left_is_dropped_before_the_model() -> None:
    classifier = FakeClassifier(max_batch_size=8)
    service = build_service(classifier, INFO, Settings(max_batch_size=8))
    with launched(service) as url:
        classifier.gate.clear()  # the model is busy: everything sent next waits
        held = ThreadPoolExecutor(1).submit(
            httpx.post, f"{url}/predict", json={"inputs": "good hold"}, timeout=30
        )
        wait_until(lambda: classifier.calls == 1, what="the held request at the model")
        body = json.dumps({"inputs": [f"bad gone {i}" for i in range(100)]}).encode()
        for _ in range(20):
            post_and_leave(url, body)  # the whole request, then the client is gone
        wait_until(lambda: service.scheduler.pending_texts() >= 2000, what="2000 texts waiting")
        # The server notices each disconnect and cancels that request.
        gone = service.metrics.requests.labels("predict", "gone")
        wait_until(lambda: gone._value.get() == 20, what="20 requests counted as gone")
        # Each handler cancels its work through a callback the server's event loop runs next; one
        # more request through that loop comes after every such callback.
        assert httpx.get(f"{url}/healthz").status_code == 200
        classifier.gate.set()
        assert held.result(timeout=30).status_code == 200
        after = httpx.post(f"{url}/predict", json={"inputs": "good after"}, timeout=30)
        assert after.status_code == 200
        metrics = httpx.get(f"{url}/metrics").text
    reached = sum(text.startswith("bad gone") for batch in classifier.batches for text in batch)
    assert reached == 0
    dropped = next(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("sentiment_dropped_texts_total")
    )
    assert dropped == 2000
