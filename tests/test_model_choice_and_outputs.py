"""The UI layer's choices and names: /classify with an optional model (batched, grouped per model), every
endpoint output named, "Is this right?" in the sentence view, and per-model Batch sentence columns."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
import pytest
from gradio_client import Client

from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Outcome
from sentiment_demo.core.served_model import ServedModel
from sentiment_demo.feedback.store import UP
from sentiment_demo.service import Service, build_service
from sentiment_demo.ui.analyse_tab import classify_with_chosen
from sentiment_demo.ui.sentence_report import batch_sentence_columns
from sentiment_demo.ui.sentence_view import clicked_sentence
from tests.conftest import FAKE_INFO, FakeClassifier, launched, wait_for_jobs_in_queue

OTHER_INFO = dataclasses.replace(FAKE_INFO, model="other/sentiment")
OWNER = ("owner", "gaps-owner-pw")


class CountingModel:
    """A served model's classify function that records every call (one list of texts per call)."""

    def __init__(self, name: str) -> None:
        self.classifier = FakeClassifier()
        self.calls: list[list[str]] = []
        info = FAKE_INFO if name == FAKE_INFO.model else OTHER_INFO
        self.served = ServedModel(name, info, self.classify)

    def classify(self, texts: Sequence[object]) -> list[Outcome]:
        self.calls.append([str(t) for t in texts])
        return list(self.classifier.classify_batch([str(t) for t in texts]))


def test_classify_with_chosen_groups_by_model_and_keeps_unknown_names_local() -> None:
    first, other = CountingModel(FAKE_INFO.model), CountingModel(OTHER_INFO.model)
    models = [first.served, other.served]
    texts = ["good film", "good good bad", "bad", "good", "good good"]
    names = ["", "other/sentiment", "nope", FAKE_INFO.model, None]
    values, notices = classify_with_chosen(models, texts, names)
    assert first.calls == [["good film", "good", "good good"]]  # one call for its three texts
    assert other.calls == [["good good bad"]]
    assert values[2] is None
    assert notices[2].startswith("⚠️ No model named 'nope'")
    assert "'fake/sentiment', 'other/sentiment'" in notices[2]
    assert values[0] == {"positive": 0.5, "negative": 0.5}
    assert values[1] == pytest.approx({"positive": 2 / 3, "negative": 1 / 3}, abs=1e-3)
    assert values[4] == {"positive": 1.0, "negative": 0.0}
    assert all(value is not None for i, value in enumerate(values) if i != 2)


def test_an_all_unknown_batch_calls_no_model() -> None:
    first = CountingModel(FAKE_INFO.model)
    values, notices = classify_with_chosen([first.served], ["good"], ["nope"])
    assert (values, first.calls) == ([None], [])
    assert "No model named 'nope'" in notices[0]


def test_clicked_sentence_is_the_coloured_piece_only() -> None:
    assert clicked_sentence(["The screen is sharp. ", "positive 91%"]) == "The screen is sharp."
    assert clicked_sentence([" ", None]) == ""
    assert clicked_sentence("plain") == ""


def test_batch_sentence_columns_are_suffixed_per_model() -> None:
    plain = batch_sentence_columns([], ("negative", "positive"), True, ["screen"])
    named = batch_sentence_columns([], ("negative", "positive"), True, ["screen"], "vader")
    assert list(plain.columns) == [
        "sentences", "share_negative", "share_positive", "most_negative_sentence",
        "sentence_note", "aspect: screen",
    ]  # fmt: skip
    assert list(named.columns) == [f"{column} (vader)" for column in plain.columns]


# Through the launched app: two fake models, feedback on.


@pytest.fixture(scope="module")
def gaps_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Service]]:
    folder = tmp_path_factory.mktemp("gaps-app")
    settings = Settings(
        max_batch_size=8,
        feedback=str(folder / "feedback.sqlite"),
        feedback_owner=":".join(OWNER),
        max_document_sentences=50,
        max_aspects=3,
    )
    other = FakeClassifier()
    service = build_service(
        FakeClassifier(), FAKE_INFO, settings, more_models=[(other, OTHER_INFO)]
    )
    service.other = other  # type: ignore[attr-defined]
    with launched(service) as url:
        yield url, service


def test_classify_takes_an_optional_model(gaps_app: tuple[str, Service]) -> None:
    url, service = gaps_app
    other: FakeClassifier = service.other  # type: ignore[attr-defined]
    client = Client(url, verbose=False)
    label, notice = client.predict("good good film", api_name="/classify")  # the default model
    assert label["label"] == "positive"
    assert not any("good good film" in batch for batch in other.batches)
    label, _ = client.predict("good bad plot", "other/sentiment", api_name="/classify")
    assert label["label"] in {"positive", "negative"}
    assert any("good bad plot" in batch for batch in other.batches)
    label, notice = client.predict("good film", "nope", api_name="/classify")
    assert label is None or not label.get("confidences")
    assert "No model named 'nope'" in notice
    assert "fake/sentiment" in notice
    assert "other/sentiment" in notice
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    parameters = api["/classify"]["parameters"]
    assert [p["parameter_name"] for p in parameters] == ["text", "model"]
    assert parameters[1]["parameter_has_default"]
    assert parameters[1]["parameter_default"] == FAKE_INFO.model


def test_an_unknown_model_in_a_batch_fails_nobody_else(gaps_app: tuple[str, Service]) -> None:
    url, service = gaps_app
    other: FakeClassifier = service.other  # type: ignore[attr-defined]
    client = Client(url, verbose=False)
    requests = [(f"good good {n}", ["", "other/sentiment", "nope"][n % 3]) for n in range(9)]
    jobs = [client.submit(text, model, api_name="/classify") for text, model in requests]
    wait_for_jobs_in_queue(jobs)
    for (_, model), job in zip(requests, jobs, strict=True):
        label, notice = job.result(timeout=60)
        if model == "nope":
            assert "No model named 'nope'" in notice
        else:
            assert label["label"] == "positive", (model, notice)
    read_by_other = {text for batch in other.batches for text in batch}
    for text, model in requests:
        assert (text in read_by_other) == (model == "other/sentiment"), text


def test_no_endpoint_output_is_an_unnamed_value(gaps_app: tuple[str, Service]) -> None:
    url, _ = gaps_app
    api = Client(url, verbose=False).view_api(print_info=False, return_format="dict")
    unnamed = {
        name: [item["label"] for item in endpoint["returns"]]
        for name, endpoint in api["named_endpoints"].items()
        if any(not item["label"] or re.fullmatch(r"value_\d+", item["label"]) for item in
               endpoint["returns"])
    }  # fmt: skip
    assert not unnamed
    # The endpoints that used to be unnamed are all still there.
    assert {"/sentences", "/compare", "/explain_all", "/compare_sentences"} <= set(
        api["named_endpoints"]
    )


def test_sentence_feedback_round_trip(gaps_app: tuple[str, Service]) -> None:
    """What the sentence view's controls send: the clicked sentence and the view's model."""
    url, _ = gaps_app
    visitor = Client(url, verbose=False)
    *_, report = visitor.predict(
        "good good film. bad bad plot here.", "", "other/sentiment", api_name="/sentences"
    )
    sentence = report["sentences"][1]
    assert (sentence["text"], sentence["label"]) == ("bad bad plot here.", "negative")
    saved = visitor.predict(sentence["text"], "other/sentiment", UP, "", api_name="/feedback")
    assert saved.startswith("✅ Thank you"), saved
    assert "**negative** is right" in saved  # the label the sentence view showed

    owner = Client(url, verbose=False)
    owner.predict(*OWNER, api_name="/feedback_sign_in")
    kept = pd.read_json(owner.predict("jsonl", api_name="/feedback_export"), lines=True)
    row = kept[kept["text"] == "bad bad plot here."].iloc[0]
    assert (row["model"], row["predicted"], row["answer"]) == ("other/sentiment", "negative", UP)


def test_batch_sentence_and_aspect_columns_per_model(
    gaps_app: tuple[str, Service], tmp_path: Path
) -> None:
    url, _ = gaps_app
    client = Client(url, verbose=False)
    table, _, download, summary = client.predict(
        "good good film. bad plot.\nbad screen here. good good.",
        None,
        None,
        [FAKE_INFO.model, OTHER_INFO.model],
        True,
        "screen",
        api_name="/classify_batch",
    )
    headers = table["headers"]
    for name in (FAKE_INFO.model, OTHER_INFO.model):
        assert {
            f"sentences ({name})",
            f"share_positive ({name})",
            f"most_negative_sentence ({name})",
            f"aspect: screen ({name})",
        } <= set(headers), headers
    assert "sentences" not in headers
    rows = [dict(zip(headers, row, strict=True)) for row in table["data"]]
    assert [r[f"aspect: screen ({OTHER_INFO.model})"] for r in rows] == [
        "not mentioned",
        "negative (1 of 1 sentence)",
    ]
    written = pd.read_csv(download, encoding="utf-8-sig")
    assert written[f"sentences ({OTHER_INFO.model})"].tolist() == [2, 2]
    assert f"Sentence columns by {FAKE_INFO.model}, {OTHER_INFO.model}" in summary
