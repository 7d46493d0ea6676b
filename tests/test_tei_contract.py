"""/predict, /info and /health checked against text-embeddings-inference's published contract, in-process.

The schemas below restate, for the routes this app serves, what TEI's OpenAPI description
(docs/openapi.json in huggingface/text-embeddings-inference, API version 1.7) requires: PredictResponse,
Prediction, ErrorResponse with its ErrorType values, and Info with its required fields. Where this app
differs on purpose (a plain list of strings is a batch here, not a sentence pair), the test says so.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import pytest
from starlette.testclient import TestClient

from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import Settings
from sentiment_demo.service import build_service
from tests.conftest import FakeClassifier, in_process, wait_until
from tests.test_ui import INFO

PREDICTION = {
    "type": "object",
    "required": ["label", "score"],
    "properties": {"label": {"type": "string"}, "score": {"type": "number"}},
}
PREDICT_RESPONSE = {
    "oneOf": [
        {"type": "array", "items": PREDICTION},
        {"type": "array", "items": {"type": "array", "items": PREDICTION}},
    ]
}
ERROR_RESPONSE = {
    "type": "object",
    "required": ["error", "error_type"],
    "properties": {
        "error": {"type": "string"},
        "error_type": {"enum": ["Unhealthy", "Backend", "Overloaded", "Validation", "Tokenizer"]},
    },
}
INFO_SCHEMA = {
    "type": "object",
    "required": [
        "model_id",
        "model_dtype",
        "model_type",
        "max_concurrent_requests",
        "max_input_length",
        "max_batch_tokens",
        "max_client_batch_size",
        "auto_truncate",
        "tokenization_workers",
        "version",
    ],
    "properties": {
        "model_id": {"type": "string"},
        "model_sha": {"type": ["string", "null"]},
        "model_dtype": {"type": "string"},
        "model_type": {
            "type": "object",
            "required": ["classifier"],
            "properties": {
                "classifier": {
                    "type": "object",
                    "required": ["id2label", "label2id"],
                    "properties": {
                        "id2label": {"type": "object", "additionalProperties": {"type": "string"}},
                        "label2id": {
                            "type": "object",
                            "additionalProperties": {"type": "integer", "minimum": 0},
                        },
                    },
                }
            },
        },
        "max_concurrent_requests": {"type": "integer", "minimum": 0},
        "max_input_length": {"type": "integer", "minimum": 0},
        "max_batch_tokens": {"type": "integer", "minimum": 0},
        "max_batch_requests": {"type": ["integer", "null"], "minimum": 0},
        "max_client_batch_size": {"type": "integer", "minimum": 0},
        "auto_truncate": {"type": "boolean"},
        "tokenization_workers": {"type": "integer", "minimum": 0},
        "version": {"type": "string"},
        "sha": {"type": ["string", "null"]},
        "docker_label": {"type": ["string", "null"]},
    },
}


@pytest.fixture(scope="module")
def api(tiny_model_dir: Path) -> Iterator[TestClient]:
    settings = Settings(
        model=str(tiny_model_dir), device="cpu", dtype="float32", num_threads=1, max_batch_rows=4
    )
    classifier, info = load_classifier(settings)
    with in_process(build_service(classifier, info, settings)) as client:
        yield client


@pytest.mark.parametrize(
    ("inputs", "shape"),
    [
        ("good film", "flat"),
        ([["good film"], ["bad film"]], "nested"),  # TEI's batch form
        (["good film", "bad film"], "nested"),  # a batch here; TEI reads two strings as a pair
    ],
)
def test_predict_responses_match_tei(api: TestClient, inputs: object, shape: str) -> None:
    response = api.post("/predict", json={"inputs": inputs})
    assert response.status_code == 200
    body = response.json()
    jsonschema.validate(body, PREDICT_RESPONSE)
    assert isinstance(body[0], dict if shape == "flat" else list)


@pytest.mark.parametrize(
    ("body", "status", "error_type"),
    [
        ({"inputs": ["a", "b", "c", "d", "e"]}, 413, "Validation"),
        ({"inputs": "good " * 60}, 413, "Validation"),
        ({"inputs": ""}, 422, "Validation"),
        ({"inputs": [["good", "film"]]}, 422, "Validation"),
        ({"inputs": "good", "truncation_direction": "Left"}, 422, "Validation"),
    ],
)
def test_error_bodies_match_tei(
    api: TestClient, body: object, status: int, error_type: str
) -> None:
    response = api.post("/predict", json=body)
    assert response.status_code == status
    jsonschema.validate(response.json(), ERROR_RESPONSE)
    assert response.json()["error_type"] == error_type


def test_truncation_direction_right_is_accepted_in_either_case(api: TestClient) -> None:
    for direction in ("Right", "right"):
        body = {"inputs": "good " * 60, "truncate": True, "truncation_direction": direction}
        assert api.post("/predict", json=body).status_code == 200


def test_info_matches_tei(api: TestClient, tiny_model_dir: Path) -> None:
    info = api.get("/info").json()
    jsonschema.validate(info, INFO_SCHEMA)
    assert info["model_id"] == tiny_model_dir.name  # a folder's name, never this machine's path
    assert api.get("/readyz").json()["model"] == tiny_model_dir.name  # open to anyone
    assert info["max_input_length"] == 32
    assert info["max_client_batch_size"] == 4
    assert info["model_type"]["classifier"]["label2id"] == {
        "negative": 0,
        "neutral": 1,
        "positive": 2,
    }


def test_backend_overload_and_health_errors_match_tei() -> None:
    classifier = FakeClassifier(max_batch_size=1)
    service = build_service(classifier, INFO, Settings(queue_texts=1, max_batch_size=1))
    with in_process(service) as api:
        failed = api.post("/predict", json={"inputs": "explode"})
        assert failed.status_code == 424
        jsonschema.validate(failed.json(), ERROR_RESPONSE)
        assert failed.json()["error_type"] == "Backend"

        classifier.gate.clear()
        statuses: list[httpx.Response] = []
        threads = [
            threading.Thread(
                target=lambda: statuses.append(api.post("/predict", json={"inputs": "good"}))
            )
            for _ in range(3)
        ]
        # One runs (held at the model), one waits, the third finds the queue full.
        calls = classifier.calls
        reached = [
            lambda: classifier.calls == calls + 1,
            lambda: service.scheduler.pending_texts() == 1,
            lambda: len(statuses) == 1,
        ]
        for index, (thread, state) in enumerate(zip(threads, reached, strict=True)):
            thread.start()
            wait_until(state, what=f"request {index} in place")
        classifier.gate.set()
        for thread in threads:
            thread.join(timeout=30)
        overloaded = [r for r in statuses if r.status_code == 429]
        assert overloaded
        jsonschema.validate(overloaded[0].json(), ERROR_RESPONSE)
        assert overloaded[0].json()["error_type"] == "Overloaded"

        classifier.broken = True
        api.post("/predict", json={"inputs": "good"})
        unhealthy = api.get("/health")
        assert unhealthy.status_code == 503
        jsonschema.validate(unhealthy.json(), ERROR_RESPONSE)
        classifier.broken = False
