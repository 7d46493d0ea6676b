"""The remote backend end to end: one instance serves /predict, a second fronts it through InferenceClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from sentiment_demo.backends.remote import load_remote_classifier
from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import Settings
from sentiment_demo.core.uncertainty import CLOSE_MARGIN
from sentiment_demo.errors import ModelLoadError
from sentiment_demo.service import build_service
from tests.conftest import free_port, launched


@pytest.fixture(scope="module", autouse=True)
def _loopback_is_not_the_hub() -> Iterator[None]:
    # The suite sets HF_HUB_OFFLINE=1 so nothing can reach the Hub; InferenceClient honours it even
    # for a URL. Here it only talks to an instance on 127.0.0.1, so offline mode is lifted.
    import huggingface_hub.constants

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
        yield


@pytest.fixture(scope="module")
def backend_url(tiny_model_dir: Path) -> Iterator[str]:
    settings = Settings(model=str(tiny_model_dir), device="cpu", dtype="float32", num_threads=1)
    classifier, info = load_classifier(settings)
    with launched(build_service(classifier, info, settings)) as url:
        yield url


@pytest.fixture(scope="module")
def front_url(backend_url: str) -> Iterator[str]:
    settings = Settings(backend="remote", endpoint=f"{backend_url}/predict")
    classifier, info = load_remote_classifier(settings)
    assert info.labels == ("negative", "neutral", "positive")
    assert info.device == "remote"
    with launched(build_service(classifier, info, settings)) as url:
        yield url


TEXTS = ["good film", "awful plot and bad acting", "i love this movie"]


def test_front_ui_api_answers_like_the_backend(front_url: str, backend_url: str) -> None:
    expected = httpx.post(f"{backend_url}/predict", json={"inputs": TEXTS}).json()
    client = Client(front_url, verbose=False)
    for text, backend_scores in zip(TEXTS, expected, strict=True):
        label, notice = client.predict(text, api_name="/classify")
        assert label["label"] == backend_scores[0]["label"]
        front = {c["label"]: c["confidence"] for c in label["confidences"]}
        assert front == pytest.approx({s["label"]: s["score"] for s in backend_scores}, abs=1e-6)
        # A tiny random model's scores are close calls: the only notice is that (core/uncertainty.py).
        margin = backend_scores[0]["score"] - backend_scores[1]["score"]
        if margin >= CLOSE_MARGIN:
            assert notice == ""
        else:
            assert notice.startswith("🤔 **Uncertain**: close call")


def test_front_predict_route_passes_through(front_url: str, backend_url: str) -> None:
    expected = httpx.post(f"{backend_url}/predict", json={"inputs": TEXTS}).json()
    got = httpx.post(f"{front_url}/predict", json={"inputs": TEXTS}).json()
    assert [g[0]["label"] for g in got] == [e[0]["label"] for e in expected]


def test_front_still_validates_locally(front_url: str) -> None:
    _, notice = Client(front_url, verbose=False).predict("   ", api_name="/classify")
    assert "empty" in notice


def test_unreachable_endpoint_fails_at_start_up_with_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}/predict"
    with pytest.raises(ModelLoadError, match=r"did not classify a test text.*ends in /predict"):
        load_remote_classifier(Settings(backend="remote", endpoint=url))


def test_remote_without_endpoint_is_refused() -> None:
    with pytest.raises(ModelLoadError, match="needs --endpoint"):
        load_remote_classifier(Settings(backend="remote"))
