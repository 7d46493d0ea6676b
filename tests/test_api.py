"""The JSON routes: /predict (TEI-compatible), /healthz, /readyz, /metrics.

In-process (tests.conftest.in_process: the app's routes behind its own middlewares, no socket), except
where the launched app is the point: the MCP server Gradio mounts, and the first moment a started app
answers.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import REPO_ROOT, Settings
from sentiment_demo.core.classifier import ModelInfo
from sentiment_demo.service import build_service
from tests.conftest import FakeClassifier, free_port, in_process, wait_until


@pytest.fixture(scope="module")
def api(tiny_model_dir: Path) -> Iterator[TestClient]:
    settings = Settings(
        model=str(tiny_model_dir),
        device="cpu",
        dtype="float32",
        num_threads=1,
        max_text_chars=300,
        max_batch_rows=4,
    )
    classifier, info = load_classifier(settings)
    with in_process(build_service(classifier, info, settings)) as client:
        yield client


def test_predict_single_text_returns_every_label_sorted(api: TestClient) -> None:
    response = api.post("/predict", json={"inputs": "good film"})
    assert response.status_code == 200
    scores = response.json()
    assert [s["label"] for s in scores] != []
    assert {s["label"] for s in scores} == {"negative", "neutral", "positive"}
    assert [s["score"] for s in scores] == sorted((s["score"] for s in scores), reverse=True)
    assert math.isclose(sum(s["score"] for s in scores), 1.0, rel_tol=1e-5)


def test_predict_list_keeps_order_and_matches_single_calls(api: TestClient) -> None:
    texts = ["good film", "awful plot", "i love this movie"]
    batched = api.post("/predict", json={"inputs": texts}).json()
    assert len(batched) == 3
    for text, together in zip(texts, batched, strict=True):
        alone = api.post("/predict", json={"inputs": text}).json()
        assert alone[0]["label"] == together[0]["label"]
        assert alone[0]["score"] == pytest.approx(together[0]["score"], abs=1e-5)


def test_predict_raw_scores_are_logits(api: TestClient) -> None:
    probs = api.post("/predict", json={"inputs": "good film"}).json()
    raw = api.post("/predict", json={"inputs": "good film", "raw_scores": True}).json()
    logits = {s["label"]: s["score"] for s in raw}
    total = sum(math.exp(v) for v in logits.values())
    for item in probs:
        assert item["score"] == pytest.approx(math.exp(logits[item["label"]]) / total, abs=1e-4)


def test_predict_truncation_is_refused_unless_asked_for(api: TestClient) -> None:
    long_text = "good " * 60  # 62 tokens; the tiny model reads 32
    refused = api.post("/predict", json={"inputs": long_text})
    assert refused.status_code == 413
    assert "62 tokens" in refused.json()["error"]
    assert refused.json()["error_type"] == "Validation"
    accepted = api.post("/predict", json={"inputs": long_text, "truncate": True})
    assert accepted.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"inputs": ["a", "b", "c", "d", "e"]}, 413, "batch size 5 > maximum allowed batch size 4"),
        ({"inputs": "x" * 301}, 413, "301 characters; the limit is 300"),
        ({"inputs": ""}, 422, "empty"),
        ({"inputs": []}, 422, "cannot be empty"),
        ({"inputs": [["a", "b"]]}, 422, "pairs are not supported"),
        ({"text": "no inputs key"}, 422, '"inputs"'),
        ({"inputs": "ok", "truncate": "yes"}, 422, '"truncate" must be true or false'),
    ],
)
def test_predict_limits_answer_413_and_422(
    api: TestClient, body: dict[str, object], status: int, message: str
) -> None:
    response = api.post("/predict", json=body)
    assert response.status_code == status
    assert message in response.json()["error"]


def test_predict_rejects_a_body_that_is_not_json(api: TestClient) -> None:
    response = api.post(
        "/predict", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_inference_api_form_gets_the_nested_answer(api: TestClient) -> None:
    nested = api.post("/predict", json={"inputs": "good", "parameters": {"top_k": 2}})
    assert nested.status_code == 200
    assert len(nested.json()) == 1
    assert len(nested.json()[0]) == 2  # top_k honoured


def test_health_and_readiness(api: TestClient) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["labels"] == ["negative", "neutral", "positive"]


def test_metrics_count_requests_batches_and_tokens(api: TestClient) -> None:
    api.post("/predict", json={"inputs": ["good film", "bad film"]})
    api.post("/predict", json={"inputs": ""})
    text = api.get("/metrics").text
    assert 'sentiment_requests_total{outcome="ok",route="predict"}' in text
    assert 'sentiment_requests_total{outcome="rejected",route="predict"}' in text
    assert "sentiment_request_latency_seconds_bucket" in text
    assert "sentiment_queue_wait_seconds_bucket" in text
    assert "sentiment_batch_size_texts_bucket" in text
    assert "sentiment_queue_depth_texts 0.0" in text
    tokens = next(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("sentiment_tokens_processed_total")
    )
    assert tokens >= 8  # "good film" and "bad film" are 4 tokens each with [CLS] and [SEP]


INFO = ModelInfo("fake", "cpu", "float32", ("negative", "positive"), 512, 1, 1, 0.0, 0.0, None)


def test_overload_answers_429_and_recovers() -> None:
    classifier = FakeClassifier(max_batch_size=1)
    classifier.gate.clear()
    settings = Settings(queue_texts=1, max_batch_size=1, batch_wait_ms=0)
    service = build_service(classifier, INFO, settings)
    with in_process(service) as api:
        results: list[int] = []

        def post(text: str) -> None:
            results.append(api.post("/predict", json={"inputs": text}).status_code)

        # One runs (held at the model), one waits, the rest find the queue full.
        reached = [
            lambda: classifier.calls == 1,
            lambda: service.scheduler.pending_texts() == 1,
            lambda: len(results) == 1,
            lambda: len(results) == 2,
        ]
        threads = [threading.Thread(target=post, args=(f"good {i}",)) for i in range(4)]
        for thread, state in zip(threads, reached, strict=True):
            thread.start()
            wait_until(state, what=f"request {threads.index(thread)} in place")
        assert results.count(429) == 2
        classifier.gate.set()
        for thread in threads:
            thread.join(timeout=30)
        assert sorted(results) == [200, 200, 429, 429]
        assert api.post("/predict", json={"inputs": "good"}).status_code == 200
        overloaded = api.get("/metrics").text
        assert 'sentiment_requests_total{outcome="overloaded",route="predict"} 2.0' in overloaded


def test_predict_and_metrics_need_the_login_when_the_app_has_one() -> None:
    settings = Settings(auth="ann:secret")
    with in_process(build_service(FakeClassifier(), INFO, settings)) as api:
        assert api.post("/predict", json={"inputs": "good"}).status_code == 401
        assert api.get("/metrics").status_code == 401
        assert api.get("/healthz").status_code == 200  # probes stay open
        ok = api.post("/predict", json={"inputs": "good"}, auth=("ann", "secret"))
        assert ok.status_code == 200
        assert ok.json()[0]["label"] == "positive"
        wrong = api.post("/predict", json={"inputs": "good"}, auth=("ann", "nope"))
        assert wrong.status_code == 401


def test_mcp_flag_serves_the_named_endpoints_as_tools(mcp_url: str) -> None:
    schema = httpx.get(f"{mcp_url}/gradio_api/mcp/schema", timeout=30)
    assert schema.status_code == 200
    names = {tool["name"] for tool in schema.json()}
    assert {"classify", "classify_batch", "explain"} <= names


def test_predict_answers_from_the_first_moment_the_app_does(
    tiny_model_dir: Path, tmp_path: Path
) -> None:
    # Routes added after launch() returned left a window, while Gradio already answered, in which
    # /predict was 404. Poll Gradio tightly and call /predict the moment it answers.
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "SENTIMENT_MODEL": str(tiny_model_dir),
        "SENTIMENT_PORT": str(port),
        "SENTIMENT_NUM_THREADS": "1",
        "SENTIMENT_WARMUP": "false",
    }
    log = tmp_path / "app.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "app.py"], cwd=REPO_ROOT, env=env, stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + 120
        with httpx.Client(timeout=30) as client:
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if client.get(f"{url}/gradio_api/info").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.01)
            first = client.post(f"{url}/predict", json={"inputs": "good"})
        assert first.status_code == 200, f"{first.status_code} {first.text}\n{log.read_text()}"
    finally:
        server.terminate()
        server.wait(timeout=30)
