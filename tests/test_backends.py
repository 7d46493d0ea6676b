"""The one backend seam: any mix of model kinds in one app, and no torch where no model needs it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from sentiment_demo.backends import backend_for, load_models
from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import Settings
from sentiment_demo.core.served_model import display_names
from sentiment_demo.errors import ModelLoadError
from sentiment_demo.service import build_service
from tests.conftest import REPO_ROOT, free_port, launched

# Starts the app as `python app.py --model vader` would, asks /predict, and reports what was imported.
VADER_ONLY_APP = """
import json, sys, time
import httpx
import app
from sentiment_demo.config import parse_settings

settings = parse_settings(["--model", "vader"], {})
started = time.perf_counter()
service = app.start(settings)
url = service.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]))
ready = time.perf_counter() - started
answer = httpx.post(f"{url.rstrip('/')}/predict", json={"inputs": "A wonderful, lovely film."}).json()
service.close()
heavy = sorted(name for name in ("torch", "transformers") if name in sys.modules)
print(json.dumps({"ready_seconds": ready, "answer": answer, "heavy": heavy}))
"""


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("vader", "vader"),
        ("https://my-endpoint.example/predict", "remote"),
        ("http://127.0.0.1:8080/predict", "remote"),
        ("models/minilm-sentiment", "transformers"),
        ("distilbert/distilbert-base-uncased-finetuned-sst-2-english", "transformers"),
    ],
)
def test_backend_for_picks_the_kind_of_each_spec(spec: str, kind: str) -> None:
    assert backend_for(spec).name == kind


def test_vader_only_app_answers_without_importing_torch() -> None:
    result = subprocess.run(
        [sys.executable, "-c", VADER_ONLY_APP, str(free_port())],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(REPO_ROOT), "GRADIO_ANALYTICS_ENABLED": "False", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["heavy"] == []
    assert report["answer"][0]["label"] == "positive"
    assert report["ready_seconds"] < 30  # seconds, not the minutes a model load can take


@pytest.fixture(scope="module")
def remote_end(tiny_model_dir: Path) -> Iterator[str]:
    """Another instance of this app, serving the tiny model: the remote end, through its /predict."""
    import huggingface_hub.constants

    settings = Settings(model=str(tiny_model_dir), device="cpu", dtype="float32", num_threads=1)
    classifier, info = load_classifier(settings)
    # The suite runs with HF_HUB_OFFLINE=1; InferenceClient honours it even for a URL. This talks
    # only to an instance on 127.0.0.1, so offline mode is lifted here.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
        with launched(build_service(classifier, info, settings)) as url:
            yield url


def test_local_vader_and_remote_models_side_by_side(tiny_model_dir: Path, remote_end: str) -> None:
    specs = [str(tiny_model_dir), "vader", f"{remote_end}/predict"]
    settings = Settings(model=",".join(specs), device="cpu", dtype="float32", num_threads=1)
    loaded = load_models(settings.models, settings)
    assert [info.backend for _, info in loaded] == ["transformers", "vader", "remote"]
    (classifier, info), *more = loaded
    text = "awful plot and bad acting"
    expected_remote = httpx.post(f"{remote_end}/predict", json={"inputs": text}).json()
    with launched(build_service(classifier, info, settings, more_models=more)) as url:
        client = Client(url, verbose=False)
        *answers, agreement = client.predict(text, api_name="/compare")
        local, _, vader, _, remote, _ = answers
        # The local and the remote instance serve the same tiny model: the same scores.
        remote_scores = {c["label"]: c["confidence"] for c in remote["confidences"]}
        assert remote_scores == pytest.approx(
            {s["label"]: s["score"] for s in expected_remote}, abs=1e-6
        )
        local_scores = {c["label"]: c["confidence"] for c in local["confidences"]}
        assert local_scores == pytest.approx(remote_scores, abs=1e-5)
        # VADER's own lexicon ("awful", "bad"); its compound score is shown as what it is, not as %.
        assert str(vader["label"]).startswith("negative (compound -")
        assert agreement
        names = display_names([info.model for _, info in loaded])
        table, *_ = client.predict(
            "good film\nawful plot", None, None, names, api_name="/classify_batch"
        )
        assert len(table["data"]) == 2
        assert all(f"label ({name})" in table["headers"] for name in names)


def test_remote_backend_without_an_endpoint_is_refused_at_start_up() -> None:
    import app

    with pytest.raises(ModelLoadError, match="needs --endpoint"):
        app.start(Settings(backend="remote"))
