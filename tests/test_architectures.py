"""Every architecture family and label scheme, served by the launched app and checked against the pipeline.

For each tiny model (tests/tiny_models.py) the app must derive the right truncation length, answer
`classify`, `classify_batch` and `/predict` with a short and a very long text together, report the
truncation, show the scores as the label scheme means them, and agree with the transformers
text-classification pipeline's own scores on the same texts.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.config import Settings
from sentiment_demo.service import build_service
from tests.conftest import launched
from tests.tiny_models import SPECS, TinySpec, build_tiny_model

SHORT = "good film"
LONG = "the plot was not very good but the acting was great ! " * 20  # 241 words and punctuation


@dataclass
class Served:
    spec: TinySpec
    folder: Path
    url: str
    client: Client


@pytest.fixture(scope="module", params=sorted(SPECS))
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Served]:
    spec = SPECS[request.param]
    folder = build_tiny_model(spec, tmp_path_factory.mktemp(f"tiny-{spec.model_type}"))
    settings = Settings(model=str(folder), device="cpu", dtype="float32", num_threads=1)
    classifier, info = load_classifier(settings)
    with launched(build_service(classifier, info, settings)) as url:
        yield Served(spec, folder, url, Client(url, verbose=False))


@pytest.fixture(scope="module")
def pipeline_scores(served: Served) -> list[dict[str, float]]:
    """The transformers pipeline's scores for SHORT and LONG, truncated where the app truncates."""
    from transformers import pipeline

    pipe = pipeline("text-classification", model=str(served.folder), device="cpu", dtype="float32")
    results = pipe(
        [SHORT, LONG],
        top_k=None,
        truncation=True,
        max_length=served.spec.expected_max_tokens,
        # The pipeline squashes a regression output with a sigmoid; the app shows the value itself.
        function_to_apply="none" if served.spec.scheme == "regression" else None,
    )
    return [{r["label"]: r["score"] for r in result} for result in results]


def _labels(spec: TinySpec) -> list[str]:
    return list(spec.labels) if spec.labels else [f"LABEL_{i}" for i in range(spec.num_labels)]


def test_info_reports_the_limit_the_model_can_really_read(served: Served) -> None:
    info = httpx.get(f"{served.url}/info").json()
    assert info["max_input_length"] == served.spec.expected_max_tokens
    assert info["label_scheme"] == served.spec.scheme
    id2label = info["model_type"]["classifier"]["id2label"]
    assert [id2label[str(i)] for i in range(len(id2label))] == _labels(served.spec)


def test_predict_answers_short_and_long_together_like_the_pipeline(
    served: Served, pipeline_scores: list[dict[str, float]]
) -> None:
    response = httpx.post(
        f"{served.url}/predict", json={"inputs": [SHORT, LONG], "truncate": True}, timeout=30
    )
    assert response.status_code == 200, response.text
    for answer, expected in zip(response.json(), pipeline_scores, strict=True):
        assert {item["label"]: item["score"] for item in answer} == pytest.approx(
            expected, abs=1e-4
        )
    refused = httpx.post(f"{served.url}/predict", json={"inputs": [SHORT, LONG]}, timeout=30)
    assert refused.status_code == 413
    assert f"reads at most {served.spec.expected_max_tokens}" in refused.json()["error"]


def test_classify_shows_each_scheme_as_what_it_is(
    served: Served, pipeline_scores: list[dict[str, float]]
) -> None:
    with ThreadPoolExecutor(2) as pool:  # submitted together, so they can share a batch
        short, long = pool.map(
            lambda t: served.client.predict(t, api_name="/classify"), [SHORT, LONG]
        )
    for (label, notice), expected in zip((short, long), pipeline_scores, strict=True):
        if served.spec.scheme == "regression":
            value = expected["stars"]
            assert label["label"] == f"stars = {value:.3f}"
            assert "not a probability" in notice
            continue
        shown = {c["label"]: c["confidence"] for c in label["confidences"]}
        assert shown == pytest.approx(expected, abs=1e-4)
        assert set(shown) == set(_labels(served.spec))
        if served.spec.scheme == "multi_label":
            passing = [
                name for name, p in sorted(expected.items(), key=lambda kv: -kv[1]) if p > 0.5
            ]
            assert "independent probability" in notice
            assert (", ".join(passing) or "none over 0.5") in notice
        else:
            assert math.isclose(sum(shown.values()), 1.0, rel_tol=1e-4)
    assert "✂️" not in short[1]
    assert f"the model read the first {served.spec.expected_max_tokens}" in long[1]


def test_classify_batch_table_and_csv_follow_the_scheme(
    served: Served, pipeline_scores: list[dict[str, float]]
) -> None:
    table, chart, csv_path, summary = served.client.predict(
        f"{SHORT}\n{LONG}", None, None, api_name="/classify_batch"
    )
    assert "Analysed 2 of 2 texts" in summary
    assert "1 truncated" in summary
    headers = table["headers"]
    rows = [dict(zip(headers, row, strict=True)) for row in table["data"]]
    assert "truncated" not in rows[0]["note"]
    assert f"read the first {served.spec.expected_max_tokens}" in rows[1]["note"]
    for row, expected in zip(rows, pipeline_scores, strict=True):
        for name, score in expected.items():
            assert row[f"score_{name}"] == pytest.approx(score, abs=1e-3)
        if served.spec.scheme == "multi_label":
            passing = [n for n, p in sorted(expected.items(), key=lambda kv: -kv[1]) if p > 0.5]
            assert row["label"] == (", ".join(passing) or "none over 0.5")
        elif served.spec.scheme == "regression":
            assert (row["label"], row["score"]) == (
                "stars",
                pytest.approx(expected["stars"], abs=1e-3),
            )
        else:
            assert row["label"] == max(expected, key=expected.__getitem__)
    with open(csv_path, newline="", encoding="utf-8") as handle:
        downloaded = list(csv.DictReader(handle))
    assert [r["label"] for r in downloaded] == [r["label"] for r in rows]
    counted = {}
    for name, count in chart["data"]:
        assert name.endswith(f" ({count})")  # each bar names its count
        counted[name.removesuffix(f" ({count})")] = count
    if served.spec.scheme == "single_label":
        top = [max(e, key=e.__getitem__) for e in pipeline_scores]
        assert counted == {name: top.count(name) for name in _labels(served.spec)}
    elif served.spec.scheme == "multi_label":
        assert counted == {
            name: sum(e[name] > 0.5 for e in pipeline_scores) for name in _labels(served.spec)
        }
    else:
        assert sum(counted.values()) == 2  # value ranges, each text in one


def test_model_tab_states_the_limit_and_why(served: Served) -> None:
    config = httpx.get(f"{served.url}/config").json()
    panel = next(
        c["props"]["value"]
        for c in config["components"]
        if c.get("props", {}).get("elem_id") == "model-info"
    )
    assert f"{served.spec.expected_max_tokens} tokens (" in panel
    if served.spec.labels is None:
        assert "Set `id2label`" in panel
    else:
        assert "id2label" not in panel
