"""Issue 23, the data side: the right Batch column, honest Evaluate figures, and a self-describing API.

Plain functions first (no server), then a tiny real BERT and VADER served together, through
gradio_client and HTTP.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from gradio_client import Client, handle_file
from sklearn.metrics import f1_score

from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.backends.vader import load_vader
from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import LabelScore, ModelInfo, Prediction
from sentiment_demo.core.served_model import ServedModel
from sentiment_demo.evaluation.label_mapping import suggest_preset
from sentiment_demo.evaluation.report import (
    evaluate_model,
    filter_mistakes,
    metrics_json,
    metrics_table,
    mistakes_table,
)
from sentiment_demo.evaluation.scoring import score
from sentiment_demo.inputs.batch_input import (
    BatchInput,
    column_kind,
    csv_overview,
    default_column,
    texts_from_csv,
)
from sentiment_demo.service import Service, build_service
from sentiment_demo.ui.batch_report import comparison_table, label_counts_per_model, results_table
from sentiment_demo.ui.evaluation_plots import reliability_figure
from tests.conftest import launched

REVIEWS_CSV = "review_id,review_text,stars,category\n" + "".join(
    f'r-{i:03},"{text}",{stars},{category}\n'
    for i, (text, stars, category) in enumerate(
        [
            ("the film is good and the acting is great", 5, "film"),
            ("boring and bad , i hate this movie", 1, "film"),
            ("the plot is a film about a movie", 3, "book"),
            ("i love this movie , it was fun", 4, "film"),
            ("awful acting and a boring plot", 2, "book"),
            ("not very good but the plot was fun", 3, "film"),
        ],
        start=1,
    )
)


def _prediction(*scores: tuple[str, float]) -> Prediction:
    ordered = sorted((LabelScore(label, value) for label, value in scores), key=lambda s: -s.score)
    return Prediction(tuple(ordered), num_tokens=3, kept_tokens=3)


def _info(name: str, labels: tuple[str, ...], backend: str = "transformers") -> ModelInfo:
    return ModelInfo(name, "cpu", "float32", labels, 32, 1, 1, 0.0, 0.0, None, backend=backend)


# The right column -------------------------------------------------------------------------------


def test_the_default_column_reads_most_like_text_not_ids() -> None:
    overview = csv_overview(REVIEWS_CSV)
    assert overview.default == "review_text"
    assert overview.preview("review_text")[:2] == [
        "the film is good and the acting is great",
        "boring and bad , i hate this movie",
    ]
    # Without a telling name, the longest values win; ids, numbers and categories never do.
    samples = {
        "id": ["a1", "a2", "a3", "a4"],
        "notes": ["short one", "a much longer note here", "x y", "more words in this"],
        "kind": ["a", "b", "a", "b"],
    }
    assert default_column(list(samples), samples) == "notes"
    assert default_column(["review_id", "review_text"]) == "review_text"


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        (["r-001", "r-002", "r-003", "r-004"], "ids"),
        (["1", "5", "3", "3.5"], "numbers"),
        (["film", "book", "film", "film", "book", "film"], "categories"),
        (["a good film", "it was bad and boring", "great fun", "i hate it"], None),
    ],
)
def test_column_kind_tells_ids_numbers_and_categories_from_texts(
    values: list[str], kind: str | None
) -> None:
    assert column_kind(values) == kind


def test_a_csv_keeps_its_other_columns_and_warns_about_an_id_column() -> None:
    batch = texts_from_csv(REVIEWS_CSV, "review_id", max_rows=10)
    assert "looks like ids" in batch.column_warning
    assert "'r-001'" in batch.column_warning
    batch = texts_from_csv(REVIEWS_CSV, None, max_rows=10)
    assert batch.column_warning == ""
    assert batch.other_columns["stars"] == ["5", "1", "3", "4", "2", "3"]
    outcomes = [_prediction(("negative", 0.2), ("positive", 0.8))] * 6
    table = results_table(batch, outcomes, ["negative", "positive"])
    assert list(table.columns) == [
        "row",
        "label",
        "score",
        "uncertain",
        "text",
        "score_negative",
        "score_positive",
        "review_id",
        "stars",
        "category",
        "note",
    ]
    assert table["category"].tolist()[:2] == ["film", "film"]


def test_close_calls_are_marked_uncertain_but_not_for_scores_that_are_not_probabilities() -> None:
    batch = texts_from_csv("text\nfine\nclear\n", "text", max_rows=5)
    outcomes = [
        _prediction(("negative", 0.48), ("positive", 0.52)),
        _prediction(("negative", 0.04), ("positive", 0.96)),
    ]
    table = results_table(batch, outcomes, ["negative", "positive"])
    assert "close call" in table["uncertain"][0]
    assert table["uncertain"][1] == ""
    vader_like = results_table(batch, outcomes, ["negative", "positive"], probabilities=False)
    assert vader_like["uncertain"].tolist() == ["", ""]


def test_several_models_keep_every_label_score_and_a_label_chart_per_model() -> None:
    batch = texts_from_csv("text,id\ngood,1\nbad,2\n", "text", max_rows=5)
    models = [
        ServedModel("a", _info("a", ("negative", "positive")), lambda t: []),
        ServedModel("vader", _info("vader", ("negative", "positive"), "vader"), lambda t: []),
    ]
    close = _prediction(("negative", 0.45), ("positive", 0.55))
    clear = _prediction(("negative", 0.9), ("positive", 0.1))
    from sentiment_demo.backends.vader import VaderClassifier

    vader = VaderClassifier().classify_batch(["A lovely, wonderful day.", "Awful, terrible."])
    table = comparison_table(batch, models, [[close, clear], vader])
    for name in ("a", "vader"):
        for label in ("negative", "positive"):
            assert f"score_{label} ({name})" in table.columns
    assert table["score_positive (a)"].tolist() == [0.55, 0.1]
    # VADER's strengths are not probabilities: its compound score, no per-label scores.
    assert table["score (vader)"].iloc[0] > 0 > table["score (vader)"].iloc[1]
    assert table["score_positive (vader)"].isna().all()
    assert "close call" in table["uncertain (a)"][0]
    assert table["uncertain (vader)"].tolist() == ["", ""]  # VADER's strengths: not probabilities
    assert table["id"].tolist() == ["1", "2"]
    counts = label_counts_per_model(table, models)
    assert counts.to_dict("records") == [
        {"model": "a", "label": "a: negative (1)", "texts": 1},
        {"model": "a", "label": "a: positive (1)", "texts": 1},
        {"model": "vader", "label": "vader: negative (1)", "texts": 1},
        {"model": "vader", "label": "vader: positive (1)", "texts": 1},
    ]


# Evaluate ---------------------------------------------------------------------------------------


def test_star_ratings_suggest_the_stars_coding() -> None:
    assert suggest_preset(["1", "2", "3", "4", "5"])[0].startswith("1-5 stars")  # type: ignore[index]
    assert suggest_preset(["5.0", "1.0"])[0].startswith("1-5 stars")  # type: ignore[index]
    assert suggest_preset(["0", "1"])[0].startswith("0 / 1")  # type: ignore[index]
    assert suggest_preset(["pos", "neg"]) is None  # they match by name already
    assert suggest_preset(["apple", "pear"]) is None


def test_intervals_are_wilson_for_accuracy_and_a_seeded_bootstrap_for_macro_f1() -> None:
    gold = ["positive", "negative", "neutral"] * 20
    predicted = [*gold[:45], *["positive"] * 15]
    scores = score(gold, predicted, [0.9] * 60, ["negative", "neutral", "positive"])
    # Wilson's interval, written out: centre and half-width at z = 1.96.
    n, p, z = 60, scores.accuracy, 1.959963984540054
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    assert scores.accuracy_interval == pytest.approx((centre - half, centre + half), abs=1e-9)
    low, high = scores.macro_f1_interval  # type: ignore[misc]
    assert low < f1_score(gold, predicted, average="macro") < high
    assert high - low > 0.1  # 60 texts: a wide interval
    again = score(gold, predicted, [0.9] * 60, ["negative", "neutral", "positive"])
    assert again.macro_f1_interval == scores.macro_f1_interval  # fixed seed
    figures = scores.as_dict()
    assert figures["accuracy_95ci"] == [round(centre - half, 4), round(centre + half, 4)]
    assert "Wilson" in str(figures["interval_methods"])


def test_scores_that_are_not_probabilities_are_left_out_of_calibration() -> None:
    values = ["positive", "negative"]
    outcomes = [
        _prediction(("positive", 0.9), ("negative", 0.1)),
        _prediction(("positive", 0.7), ("negative", 0.3)),
    ]
    mapping = {"positive": "positive", "negative": "negative"}
    model = evaluate_model("model", ["negative", "positive"], values, mapping, outcomes)
    vader = evaluate_model(
        "vader", ["negative", "positive"], values, mapping, outcomes, probabilities=False
    )
    table = metrics_table([model, vader]).set_index("model")
    assert not pd.isna(table.loc["model", "calibration error (ECE)"])
    assert pd.isna(table.loc["vader", "calibration error (ECE)"])
    report = metrics_json([model, vader], "f.csv", {})
    assert report["models"]["vader"]["expected_calibration_error"] is None  # type: ignore[index]
    figure = reliability_figure([model, vader])
    assert figure is not None
    legend = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
    assert not any("vader" in text for text in legend)
    assert "not shown: vader" in figure.axes[0].get_title()
    mistakes = mistakes_table([model, vader], ["a", "b"], [1, 2])
    assert set(filter_mistakes(mistakes, "vader")["model"]) <= {"vader"}
    assert len(filter_mistakes(mistakes, "all models")) == len(mistakes)


# The app ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service(tiny_model_dir: Path) -> Service:
    settings = Settings(
        model=str(tiny_model_dir), max_batch_size=8, warmup=False, num_threads=1, max_eval_rows=200
    )
    (classifier, info) = load_classifier(settings)
    return build_service(classifier, info, settings, more_models=[load_vader(8)])


@pytest.fixture(scope="module")
def url(service: Service) -> Iterator[str]:
    with launched(service) as address:
        yield address


@pytest.fixture(scope="module")
def client(url: str) -> Client:
    return Client(url, verbose=False)


@pytest.fixture(scope="module")
def model_names(service: Service) -> list[str]:
    return [model.name for model in service.models]


def test_batch_picks_the_text_column_and_keeps_the_others(client: Client, tmp_path: Path) -> None:
    upload = tmp_path / "reviews.csv"
    upload.write_text(REVIEWS_CSV, encoding="utf-8")
    table, _, download, summary = client.predict(
        "", handle_file(str(upload)), None, api_name="/classify_batch"
    )
    headers = table["headers"]
    assert "column 'review_text'" in summary
    text = headers.index("text")
    assert table["data"][0][text] == "the film is good and the acting is great"
    assert {"review_id", "stars", "category", "uncertain"} <= set(headers)
    with open(download, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["stars"] for row in rows] == ["5", "1", "3", "4", "2", "3"]
    _, _, _, summary = client.predict(
        "", handle_file(str(upload)), "review_id", api_name="/classify_batch"
    )
    assert "looks like ids" in summary


def test_batch_refuses_pasted_text_and_a_file_together(client: Client, tmp_path: Path) -> None:
    upload = tmp_path / "texts.txt"
    upload.write_text("good film\n", encoding="utf-8")
    table, chart, download, summary = client.predict(
        "bad film", handle_file(str(upload)), None, api_name="/classify_batch"
    )
    assert summary.startswith("⚠️ Both pasted texts and a file (texts.txt)")
    assert (table["data"], chart, download) == ([], None, None)
    _, _, _, summary = client.predict("bad film", None, None, api_name="/classify_batch")
    assert "from pasted text" in summary


def test_a_png_gets_the_warning_summary_not_an_exception(client: Client, tmp_path: Path) -> None:
    image = tmp_path / "photo.png"
    image.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    table, chart, download, summary = client.predict(
        "", handle_file(str(image)), None, api_name="/classify_batch"
    )
    assert summary == "⚠️ photo.png: only .txt and .csv files are accepted."
    assert (table["data"], chart, download) == ([], None, None)


def test_batch_with_two_models_keeps_every_label_score(
    client: Client, model_names: list[str]
) -> None:
    table, *_ = client.predict(
        "the film is good\nboring and bad", None, None, model_names, api_name="/classify_batch"
    )
    for name in model_names:
        for label in ("negative", "neutral", "positive"):
            assert f"score_{label} ({name})" in table["headers"]
        assert f"uncertain ({name})" in table["headers"]


def _star_file(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "stars.csv"
    texts = ["the film is good", "boring and bad", "it is the movie", "i love this movie !"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "rating"])
        for i in range(rows):
            writer.writerow([texts[i % 4], [5, 1, 3, 4][i % 4]])
    return path


def test_evaluate_names_the_stars_coding_when_nothing_maps(client: Client, tmp_path: Path) -> None:
    summary, *_ = client.predict(
        handle_file(str(_star_file(tmp_path, 8))), "text", "rating", api_name="/evaluate"
    )
    assert "no row could be scored" in summary
    assert "The values look like 1-5 stars: pick the '1-5 stars" in summary


def test_evaluate_gives_intervals_a_small_sample_warning_and_no_vader_calibration(
    client: Client, tmp_path: Path
) -> None:
    summary, metrics, _, _, reliability, _, _, report = client.predict(
        handle_file(str(_star_file(tmp_path, 12))),
        "text",
        "rating",
        "1-5 stars (1-2 negative, 3 neutral, 4-5 positive)",
        api_name="/evaluate",
    )
    assert re.search(r"accuracy \*\*[\d.]+%\*\* \(95% interval [\d.]+ to [\d.]+\)", summary)
    assert "Only 12 texts scored: under 100" in summary
    assert reliability is not None  # drawn for the tiny model, whose scores are probabilities
    assert "Wilson score interval for accuracy; percentile bootstrap for macro-F1" in summary
    assert "Calibration (ECE, reliability diagram) is not computed for vader" in summary
    headers = metrics["headers"]
    assert "accuracy 95% interval (Wilson)" in headers
    vader_row = next(row for row in metrics["data"] if row[0] == "vader")
    assert vader_row[headers.index("calibration error (ECE)")] in (None, "", "NaN")
    for name, figures in report["models"].items():
        low, high = figures["accuracy_95ci"]
        assert low <= figures["accuracy"] <= high
        assert len(figures["macro_f1_95ci"]) == 2
        assert (figures["expected_calibration_error"] is None) == (name == "vader")


def test_predict_takes_a_model_by_name(url: str, model_names: list[str]) -> None:
    tiny, vader = model_names
    text = "the film is good"
    answers = {
        name: httpx.post(f"{url}/predict", json={"inputs": text, "model": name}).json()
        for name in model_names
    }
    default = httpx.post(f"{url}/predict", json={"inputs": text}).json()
    assert default == answers[tiny]
    vader_labels = {item["label"] for item in answers[vader]}
    direct = httpx.post(f"{url}/predict", json={"inputs": [text], "model": vader}).json()
    assert direct[0] == answers[vader]
    assert answers[vader] != answers[tiny]
    assert vader_labels == {"negative", "neutral", "positive"}
    unknown = httpx.post(f"{url}/predict", json={"inputs": text, "model": "gpt-9"})
    assert unknown.status_code == 422
    assert unknown.json()["error_type"] == "Validation"
    assert f"'{tiny}', 'vader'" in unknown.json()["error"]
    huge = httpx.post(f"{url}/predict", json={"inputs": text, "model": "a" * 1_000_000})
    assert huge.status_code == 422
    assert len(huge.content) < 2_000  # the name is quoted cut, never echoed whole
    assert "1,000,002 characters" in huge.json()["error"]
    hf = httpx.post(
        f"{url}/predict",
        json={"inputs": text, "parameters": {"top_k": 1}, "options": {"wait_for_model": True}},
    )
    assert hf.status_code == 200
    assert len(hf.json()[0]) == 1


def test_openapi_describes_the_json_routes_and_docs_are_served(
    url: str, model_names: list[str]
) -> None:
    spec = httpx.get(f"{url}/openapi.json").json()
    predict = spec["paths"]["/predict"]["post"]
    body = predict["requestBody"]["content"]["application/json"]["schema"]
    assert {"inputs", "model", "parameters", "options", "truncate"} <= set(body["properties"])
    assert {"200", "413", "422", "424", "429"} <= set(predict["responses"])
    info = spec["paths"]["/info"]["get"]["responses"]["200"]["content"]["application/json"]
    assert info["schema"]["$ref"].endswith("/InfoResponse")
    assert "model_id" in spec["components"]["schemas"]["InfoResponse"]["properties"]
    assert "503" in spec["paths"]["/health"]["get"]["responses"]
    assert "text/plain" in spec["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert httpx.get(f"{url}/info").json()["served_models"] == model_names
    docs = httpx.get(f"{url}/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


@pytest.mark.parametrize("endpoint", ["/classify_batch", "/evaluate", "/behaviour"])
def test_every_output_has_a_meaningful_name(client: Client, endpoint: str) -> None:
    api = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    names = [item["label"] for item in api[endpoint]["returns"]]
    assert all(name and not re.fullmatch(r"value_\d+", name) for name in names), names


def test_vader_in_batch_shows_its_compound_score_not_probabilities() -> None:
    from sentiment_demo.backends.vader import VaderClassifier
    from sentiment_demo.ui.batch_report import results_table

    texts = ["A terrible, awful mess.", "A wonderful, lovely film."]
    vader = VaderClassifier()
    outcomes = vader.classify_batch(texts)
    table = results_table(
        BatchInput(texts, [1, 2], "pasted text"),
        outcomes,
        vader.labels,
        "single_label",
        probabilities=False,
        strengths=True,
    )
    expected = [vader.analyzer.polarity_scores(t)["compound"] for t in texts]
    assert table["score"].tolist() == pytest.approx(expected, abs=1e-4)  # -1..+1, signed
    assert table["score"].iloc[0] < 0 < table["score"].iloc[1]
    for label in vader.labels:  # strengths are not probabilities: no per-label columns filled
        assert table[f"score_{label}"].isna().all()
