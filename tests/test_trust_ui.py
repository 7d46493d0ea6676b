"""Answers a visitor can trust, through gradio_client against the embedded model and VADER: close
calls marked uncertain, notices for texts the model was not trained for, VADER's compound score
shown as what it is, /predict unchanged; and the Model tab's words, without a server."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import pytest
from gradio_client import Client

from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.backends.vader import load_vader
from sentiment_demo.config import DEFAULT_MODEL, Settings
from sentiment_demo.service import build_service
from sentiment_demo.ui.model_tab import model_markdown, serve_another_markdown
from tests.conftest import launched

pytestmark = pytest.mark.slow
# Measured on the embedded model: negative 0.54 against positive 0.38 (bfloat16), a margin of 0.16.
CLOSE_CALL = "It was okay, I guess."
CLEAR = "A wonderful, moving film. I loved it."
GERMAN = "Der Film war wirklich schlecht und langweilig, ich habe mich sehr geärgert."


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(max_batch_size=8, warmup=False, num_threads=1)


@pytest.fixture(scope="module")
def served(settings: Settings) -> list:
    return [load_classifier(settings.with_overrides(model=str(DEFAULT_MODEL))), load_vader(8)]


@pytest.fixture(scope="module")
def url(served: list, settings: Settings) -> Iterator[str]:
    (classifier, info), *more = served
    with launched(build_service(classifier, info, settings, more_models=more)) as address:
        yield address


@pytest.fixture(scope="module")
def client(url: str) -> Client:
    return Client(url, verbose=False)


def test_classify_marks_a_close_call_uncertain(client: Client) -> None:
    label, notice = client.predict(CLOSE_CALL, api_name="/classify")
    top, second = label["confidences"][:2]
    assert top["confidence"] - second["confidence"] < 0.2
    assert "Uncertain" in notice
    assert f"{top['label']} {top['confidence']:.0%}" in notice


def test_classify_leaves_a_clear_answer_without_notice(client: Client) -> None:
    label, notice = client.predict(CLEAR, api_name="/classify")
    assert label["label"] == "positive"
    assert notice == ""


def test_classify_names_the_language_the_model_was_not_trained_for(client: Client) -> None:
    _, notice = client.predict(GERMAN, api_name="/classify")
    assert "German" in notice
    assert "trained on English only" in notice


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("🔥🔥😍😍🙌🙌", "mostly emoji"),
        ("def score(x):\n    return {'a': x[0] == 1}", "looks like code"),
        ("4 8 15 16 23 42 108 2024-11-30", "mostly numbers"),
    ],
)
def test_classify_names_a_text_that_is_not_prose(client: Client, text: str, reason: str) -> None:
    _, notice = client.predict(text, api_name="/classify")
    assert reason in notice


def test_predict_answers_as_before_with_no_notice(url: str) -> None:
    answer = httpx.post(f"{url}/predict", json={"inputs": GERMAN}, timeout=30).json()
    assert [set(item) for item in answer] == [{"label", "score"}] * 3


def test_compare_shows_vader_as_a_compound_score_not_percentages(client: Client) -> None:
    model_label, _, vader_label, vader_notice, _ = client.predict(
        "The plot is dull and the acting is terrible.", api_name="/compare"
    )
    assert len(model_label["confidences"]) == 3  # the model's probabilities
    assert vader_label["confidences"] is None  # never drawn as percentages
    assert vader_label["label"].startswith("negative (compound -0.")
    assert "not a probability" in vader_notice
    assert "Uncertain" not in vader_notice


def test_compare_marks_close_calls_and_languages_per_model(client: Client) -> None:
    _, model_notice, _, vader_notice, _ = client.predict(CLOSE_CALL, api_name="/compare")
    assert "Uncertain" in model_notice
    _, model_notice, _, vader_notice, _ = client.predict(GERMAN, api_name="/compare")
    assert "German" in model_notice
    assert "German" not in vader_notice  # VADER's card states no language


def test_sentence_view_tags_close_calls_and_the_language(client: Client) -> None:
    sentences, summary, *_ = client.predict(f"{CLOSE_CALL} {CLEAR}", "", "", api_name="/sentences")
    tags = [p["class_or_confidence"] for p in sentences["value"] if p["class_or_confidence"]]
    assert tags[0].endswith("uncertain")
    assert not tags[-1].endswith("uncertain")
    assert "close calls" in summary
    _, summary, *_ = client.predict(GERMAN, "", "", api_name="/sentences")
    assert "German" in summary


def test_compare_sentences_tags_close_calls(client: Client) -> None:
    outputs = client.predict(f"{CLOSE_CALL} {CLEAR}", api_name="/compare_sentences")
    tags = [p["class_or_confidence"] for p in outputs[0]["value"] if p["class_or_confidence"]]
    assert tags[0].endswith("uncertain")


def test_model_tab_states_languages_and_how_to_serve_another(
    served: list, settings: Settings
) -> None:
    (_, info), (_, vader) = served
    panel = model_markdown(info, settings)
    assert "**Languages**: English only" in panel
    assert "dense layers" not in panel
    assert "English" in model_markdown(vader, settings)
    hub = dataclasses.replace(info, model="OWNER/NAME", model_card=None)

    class Model:
        def __init__(self, name: str, model_info: object) -> None:
            self.name, self.info = name, model_info

    text = serve_another_markdown([Model("OWNER/NAME", hub)])  # type: ignore[list-item]
    assert "[`OWNER/NAME`](https://huggingface.co/OWNER/NAME)" in text
    assert "--model" in text
    assert "SENTIMENT_MODEL" in text
    assert "not stated" in model_markdown(hub, settings)
