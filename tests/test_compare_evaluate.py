"""Two tiny real models plus VADER served together: Compare, Batch with every model, and Evaluate.

Every expected figure is computed here, independently of the app: from each model's own answers
through /classify_batch, with plain counting.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.backends.vader import load_vader
from sentiment_demo.config import Settings
from sentiment_demo.service import Service, build_service
from tests.conftest import launched
from tests.tiny_models import SPECS, build_tiny_model

pytestmark = pytest.mark.slow
NAMES = ("tiny-bert", "tiny-distilbert", "vader")
LABELLED_ROWS = [
    ("the film is good", "pos"),
    ("i love this movie !", "pos"),
    ("great acting and fun plot", "pos"),
    ("the movie was awful", "neg"),
    ("boring and bad", "neg"),
    ("i hate this film", "neg"),
    ("the plot is a film", "neu"),
    ("it is the movie", "neu"),
    ("not very good", "?"),  # maps to no model's label: counted, never scored
]


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(max_batch_size=8, max_eval_rows=20, warmup=False, num_threads=1)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Service:
    loaded = []
    for name, family in zip(NAMES[:2], ("bert", "distilbert"), strict=True):
        folder = build_tiny_model(SPECS[family], tmp_path_factory.mktemp("models") / name)
        loaded.append(load_classifier(settings.with_overrides(model=str(folder))))
    loaded.append(load_vader(settings.max_batch_size))
    (classifier, info), *more = loaded
    return build_service(classifier, info, settings, more_models=more)


@pytest.fixture(scope="module")
def url(service: Service) -> Iterator[str]:
    with launched(service) as address:
        yield address


@pytest.fixture(scope="module")
def client(url: str) -> Client:
    return Client(url, verbose=False)


def labels_of(client: Client, model: str, texts: list[str]) -> list[str]:
    """One model's labels for the texts, through the Batch endpoint with that model alone."""
    table, *_ = client.predict("\n".join(texts), None, None, [model], api_name="/classify_batch")
    return [row[table["headers"].index("label")] for row in table["data"]]


def test_compare_shows_every_model_and_whether_they_agree(client: Client) -> None:
    text = "the film is not good"
    *outputs, agreement = client.predict(text, api_name="/compare")
    labels = outputs[0::2]
    assert len(labels) == 3
    expected = [labels_of(client, name, [text])[0] for name in NAMES]
    # VADER's compound score is shown as text ("negative (compound -0.44)"), never as percentages.
    assert [value["label"].split(" (compound")[0] for value in labels] == expected
    assert [len(value["confidences"] or []) for value in labels] == [3, 2, 0]
    if len({label.lower() for label in expected}) == 1:
        assert agreement.startswith("✅")
    else:
        assert agreement.startswith("❌")
        for name, label in zip(NAMES, expected, strict=True):
            assert f"{name} says **{label}**" in agreement


def test_explain_with_every_model_names_each_label(client: Client) -> None:
    outputs = client.predict("i love this movie", api_name="/explain_all")
    notices = outputs[1::2]
    expected = [labels_of(client, name, ["i love this movie"])[0] for name in NAMES]
    for notice, label in zip(notices, expected, strict=True):
        assert f"Explaining **{label}** (the predicted label)" in notice
    for highlighted in outputs[0::2]:
        assert [t["token"] for t in highlighted if t["class_or_confidence"] is not None] == [
            "i",
            "love",
            "this",
            "movie",
        ]


def test_batch_with_every_model_has_a_column_each_and_the_agreement(client: Client) -> None:
    texts = [text for text, _ in LABELLED_ROWS]
    table, chart, download, summary = client.predict(
        "\n".join(texts), None, None, list(NAMES), api_name="/classify_batch"
    )
    headers = table["headers"]
    for name in NAMES:
        assert f"label ({name})" in headers
        assert f"score ({name})" in headers
    per_model = {name: labels_of(client, name, texts) for name in NAMES}
    agree = 0
    for index, row in enumerate(table["data"]):
        answers = [per_model[name][index] for name in NAMES]
        assert [row[headers.index(f"label ({name})")] for name in NAMES] == answers
        same = len({a.lower() for a in answers}) == 1
        agree += same
        assert row[headers.index("agreement")] == ("all agree" if same else "disagree")
    assert f"The 3 models agree on {agree} of {len(texts)} texts." in summary
    bars = dict(chart["data"])
    assert bars[f"all 3 agree: {agree} of {len(texts)}"] == agree
    assert bars[f"not all agree: {len(texts) - agree} of {len(texts)}"] == len(texts) - agree
    first, second = per_model[NAMES[0]], per_model[NAMES[1]]
    pair = sum(a.lower() == b.lower() for a, b in zip(first, second, strict=True))
    assert bars[f"{NAMES[0]} = {NAMES[1]}: {pair} of {len(texts)}"] == pair
    with open(download, newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(texts)


def expected_figures(client: Client) -> dict[str, dict[str, float]]:
    """Accuracy and macro-F1 per model, counted here from each model's own labels."""
    texts = [text for text, _ in LABELLED_ROWS]
    names_by_value = {"pos": "positive", "neg": "negative", "neu": "neutral"}
    figures = {}
    for name in NAMES:
        predicted = labels_of(client, name, texts)
        model_labels = {label.lower(): label for label in predicted} | {
            label.lower(): label
            for label in (["NEGATIVE", "POSITIVE"] if name == "tiny-distilbert" else [])
        }
        pairs = []
        for (_, value), guess in zip(LABELLED_ROWS, predicted, strict=True):
            gold = names_by_value.get(value)
            has_label = gold is not None and (name != "tiny-distilbert" or gold != "neutral")
            if has_label:
                pairs.append(
                    (
                        model_labels.get(gold, gold.upper()) if name == "tiny-distilbert" else gold,
                        guess,
                    )
                )
        accuracy = sum(g == p for g, p in pairs) / len(pairs)
        f1s = []
        for label in sorted({g for g, _ in pairs}):
            tp = sum(g == p == label for g, p in pairs)
            predicted_n = sum(p == label for _, p in pairs)
            true_n = sum(g == label for g, _ in pairs)
            precision = tp / predicted_n if predicted_n else 0.0
            recall = tp / true_n
            f1s.append(2 * precision * recall / (precision + recall) if tp else 0.0)
        figures[name] = {"accuracy": accuracy, "macro_f1": sum(f1s) / len(f1s), "texts": len(pairs)}
    return figures


def test_evaluate_matches_metrics_computed_independently(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "labelled.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("text", "label"), *LABELLED_ROWS])
    summary, metrics, per_class, confusion, reliability, mistakes, files, report = client.predict(
        handle_file(str(path)), "text", "label", api_name="/evaluate"
    )
    expected = expected_figures(client)
    for name in NAMES:
        model = report["models"][name]
        assert model["texts"] == expected[name]["texts"]
        assert model["accuracy"] == pytest.approx(expected[name]["accuracy"], abs=1e-4)
        assert model["macro_f1"] == pytest.approx(expected[name]["macro_f1"], abs=1e-4)
    # "?" maps to nothing anywhere; "neu" to nothing for the two-label model: counted and shown.
    assert report["models"]["tiny-bert"]["rows_with_unmapped_label"] == {"?": 1}
    assert report["models"]["tiny-distilbert"]["rows_with_unmapped_label"] == {"?": 1, "neu": 2}
    assert "3 rows whose label maps to nothing: '?' (1), 'neu' (2)" in summary
    assert confusion is not None
    assert reliability is not None
    shown = {row[0]: row for row in metrics["data"]}
    for name in NAMES:
        assert shown[name][2] == report["models"][name]["accuracy"]
        assert {row[1] for row in per_class["data"] if row[0] == name} == set(
            report["models"][name]["per_class"]
        )
    # Mistakes, most confident first, each a real disagreement.
    rows = mistakes["data"]
    confidences = [row[5] for row in rows]
    assert confidences == sorted(confidences, reverse=True)
    assert all(row[3] != row[4] for row in rows)
    csv_path, json_path = sorted(files, key=lambda f: Path(f).suffix)
    assert json.loads(Path(json_path).read_text()) == report
    with open(csv_path, newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == len(LABELLED_ROWS)


def test_an_edited_mapping_is_used_and_a_wrong_label_is_named(
    client: Client, tmp_path: Path
) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text("text,label\nthe film is good,yes\nboring and bad,no\n", encoding="utf-8")
    headers = ["label in file", "rows", *NAMES]
    mapping = {
        "headers": headers,
        "data": [
            ["yes", 1, "positive", "POSITIVE", "positive"],
            ["no", 1, "negative", "", "negative"],
        ],
        "metadata": None,
    }
    *_, report = client.predict(
        handle_file(str(path)), "text", "label", "match by name", mapping, api_name="/evaluate"
    )
    assert report["models"]["tiny-distilbert"]["rows_with_unmapped_label"] == {"no": 1}
    assert report["models"]["vader"]["label_mapping"] == {"yes": "positive", "no": "negative"}
    mapping["data"][0][3] = "neutral"
    summary, *rest = client.predict(
        handle_file(str(path)), "text", "label", "match by name", mapping, api_name="/evaluate"
    )
    assert summary.startswith("⚠️ Label mapping:")
    assert "tiny-distilbert, which has no such label; its labels are NEGATIVE, POSITIVE" in summary
    metrics, per_class, confusion, reliability, mistakes, files, report = rest
    assert metrics["data"] == per_class["data"] == mistakes["data"] == []
    assert confusion is reliability is files is report is None


def test_evaluate_names_the_row_limit(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text("text,label\n" + "good film,pos\n" * 21, encoding="utf-8")
    summary, *_ = client.predict(handle_file(str(path)), api_name="/evaluate")
    assert "21 rows; the limit is 20 per evaluation (--max-eval-rows)" in summary


def test_the_model_tab_has_a_panel_per_model(url: str) -> None:
    config = httpx.get(f"{url}/config", timeout=10).json()
    markdown = [
        c["props"].get("value", "") for c in config["components"] if c.get("type") == "markdown"
    ]
    text = "\n".join(str(m) for m in markdown)
    for name in NAMES:
        assert f"### {name}" in text
    assert "VADER, a lexicon and rules" in text
    assert text.count("- **Memory**:") == 3


def test_a_hostile_label_value_is_shown_as_text(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "hostile.csv"
    path.write_text(
        'text,label\nthe film is good,"[click](http://evil.example) <img src=x>"\n',
        encoding="utf-8",
    )
    summary, *_ = client.predict(handle_file(str(path)), "text", "label", api_name="/evaluate")
    # A bare URL is not turned into a link either (GFM would link it even inside the parentheses).
    assert "\\[click\\](http\\://evil.example) &lt;img src=x&gt;" in summary
