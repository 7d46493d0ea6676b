"""The sentence view: segmentation on hard cases, windows, aggregates, aspects, failures kept local,
the Batch columns and the /sentences endpoint through gradio_client."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from bench.segmenter_cases import CASES
from sentiment_demo.backends import load_model
from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import Rejection
from sentiment_demo.core.engine import BatchEngine
from sentiment_demo.documents.analysis import (
    DocumentOptions,
    DocumentReport,
    analyse_document,
    analyse_documents,
    aspect_pattern,
    overlapping_windows,
    parse_aspects,
)
from sentiment_demo.documents.segment import split_sentences
from sentiment_demo.errors import InputError
from sentiment_demo.service import Service, build_service
from sentiment_demo.ui.sentence_report import (
    arc_frame,
    aspect_counts,
    aspects_frame,
    batch_sentence_columns,
    highlighted,
    summary_markdown,
)
from tests.conftest import EMBEDDED_MODEL, FakeClassifier, launched
from tests.test_ui import INFO

MIXED_REVIEW = (
    "I bought this phone last month after a lot of research. "
    "The screen is absolutely gorgeous, bright and sharp. "
    "But the battery is awful and dies before lunch every single day. "
    "Customer support was useless and rude. "
    "Still, I love the camera!!! "
    "The price is $499."
)


@pytest.mark.parametrize(("name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_segmenter_splits_hard_cases(name: str, text: str, expected: tuple[str, ...]) -> None:
    sentences = split_sentences(text)
    assert tuple(s.text for s in sentences) == expected
    # Offsets point at the sentence in the original text, so it can be shown in place.
    assert all(text[s.start : s.end] == s.text for s in sentences)


def test_segmenter_finds_nothing_in_blank_text() -> None:
    assert split_sentences(" \n\t ") == []


@pytest.fixture(scope="module")
def engine() -> BatchEngine:
    settings = Settings(device="cpu", num_threads=1, warmup=False)
    classifier, _ = load_model(str(EMBEDDED_MODEL), settings)
    return BatchEngine(classifier, settings.max_text_chars)


@pytest.fixture(scope="module")
def short_engine() -> BatchEngine:
    """The embedded model told to read at most 32 tokens: long sentences must be windowed."""
    settings = Settings(device="cpu", num_threads=1, warmup=False, max_tokens=32)
    classifier, _ = load_model(str(EMBEDDED_MODEL), settings)
    return BatchEngine(classifier, settings.max_text_chars)


LABELS = ("negative", "neutral", "positive")


def test_mixed_review_sentences_get_different_labels(engine: BatchEngine) -> None:
    calls: list[int] = []

    def classify(texts: object) -> list:  # type: ignore[type-arg]
        calls.append(len(texts))  # type: ignore[arg-type]
        return engine.classify(texts)  # type: ignore[arg-type]

    report = analyse_document(MIXED_REVIEW, classify, LABELS, DocumentOptions())
    assert isinstance(report, DocumentReport)
    labels = [s.label for s in report.sentences]
    assert len(labels) == 6
    assert labels[1] == "positive"  # the screen
    assert labels[3] == "negative"  # customer support
    # "But the battery is awful ..." is a close call between negative and neutral for the embedded
    # model (its card lists it): not pinned here.
    assert {"positive", "negative"} <= set(labels)
    # Every sentence and the whole text in one call.
    assert calls == [7]
    assert report.whole.method == "model"
    assert report.most_positive is not None
    assert report.most_negative is not None
    assert report.most_negative.number in {3, 4}
    assert -1 <= (report.overall_signed or 0) <= 1
    # The length-weighted aggregate, recomputed here.
    read = report.read_sentences
    weights = [len(s.text) for s in read]
    positive = sum(
        w * dict((i.label, i.score) for i in s.scores)["positive"]
        for w, s in zip(weights, read, strict=True)
    )
    assert dict((i.label, i.score) for i in report.overall)["positive"] == pytest.approx(
        positive / sum(weights)
    )
    summary = summary_markdown(report)
    assert "6 sentences" in summary
    assert "Most negative" in summary
    assert "Whole text" in summary
    pieces, colours = highlighted(report)
    assert "".join(piece for piece, _ in pieces) == MIXED_REVIEW
    assert all(tag in colours for _, tag in pieces if tag is not None)
    arc = arc_frame(report)
    assert list(arc["sentence"]) == [1, 2, 3, 4, 5, 6]
    assert arc["positive − negative"].between(-1, 1).all()


def test_sentence_over_token_limit_is_read_in_windows(short_engine: BatchEngine) -> None:
    long_sentence = " ".join(["the acting was wonderful and the music was lovely"] * 12) + "."
    text = f"{long_sentence} The ending was a dull and boring mess."
    report = analyse_document(text, short_engine.classify, LABELS, DocumentOptions())
    assert isinstance(report, DocumentReport)
    first, second = report.sentences
    assert first.windows > 1
    assert first.read
    assert second.read
    assert first.label == "positive"
    assert second.label == "negative"
    assert any("overlapping windows" in notice for notice in report.notices)
    # The text as a whole is over 32 tokens: the whole-text answer is the aggregate, and says so.
    assert report.whole.method == "sentences"
    assert "over the model's limit of 32" in report.whole.note
    first_tokens = analyse_document(
        text, short_engine.classify, LABELS, DocumentOptions(long_text_reading="first_tokens")
    )
    assert isinstance(first_tokens, DocumentReport)
    assert first_tokens.whole.method == "first_tokens"
    assert "first 32 tokens" in first_tokens.whole.note


def test_sentence_over_character_limit_is_windowed_not_refused(engine: BatchEngine) -> None:
    sentence = " ".join(["a warm and funny film"] * 120)  # 2,600 characters, no full stop
    report = analyse_document(
        sentence, engine.classify, LABELS, DocumentOptions(max_text_chars=2000)
    )
    assert isinstance(report, DocumentReport)
    assert report.sentences[0].windows >= 2
    assert report.sentences[0].read
    assert report.whole.method == "sentences"
    assert "--max-text-chars" in report.whole.note


def test_windows_overlap_and_cover_every_word() -> None:
    words = [f"w{i}" for i in range(100)]
    windows = overlapping_windows(" ".join(words), max_words=20)
    assert all(len(w.split()) <= 20 for w in windows)
    assert {w for window in windows for w in window.split()} == set(words)
    assert set(windows[0].split()) & set(windows[1].split())


def test_aspects_found_counted_and_not_mentioned(engine: BatchEngine) -> None:
    text = (
        "The batteries die fast. The Battery also overheats. The SCREEN is stunning. "
        "The battery-life is bad."
    )
    terms = parse_aspects("battery, screens, price, , Battery", max_aspects=5)
    assert terms == ["battery", "screens", "price"]
    report = analyse_document(text, engine.classify, LABELS, DocumentOptions(), terms)
    assert isinstance(report, DocumentReport)
    battery, screen, price = report.aspects
    assert battery.mentions == (1, 2, 4)
    assert battery.verdict == "negative"
    assert sum(count for _, count in battery.counts) == 3
    assert screen.mentions == (3,)
    assert screen.verdict == "positive"
    assert screen.describe() == "positive (1 of 1 sentence)"
    assert price.verdict == "not mentioned"
    assert price.describe() == "not mentioned"
    table = aspects_frame(report)
    assert list(table["aspect"]) == ["battery", "screens", "price"]
    assert "not mentioned" in summary_markdown(report)


def test_aspect_matching_is_whole_word_and_plural_aware() -> None:
    assert aspect_pattern("battery").search("Two BATTERIES died")
    assert aspect_pattern("batteries").search("the battery died")
    assert aspect_pattern("glass").search("the glasses broke")
    assert not aspect_pattern("art").search("the start was slow")
    assert aspect_pattern("sound quality").search("the sound  qualities differ")


def test_too_many_aspects_names_the_setting() -> None:
    with pytest.raises(InputError, match=r"limit is 2 \(--max-aspects"):
        parse_aspects("a, b, c", max_aspects=2)


def test_document_limits_name_their_settings() -> None:
    fake = FakeClassifier()
    engine = BatchEngine(fake, 2000)
    long = analyse_document(
        "good. " * 100, engine.classify, INFO.labels, DocumentOptions(max_chars=100)
    )
    assert isinstance(long, Rejection)
    assert "--max-document-chars" in long.message
    assert "600 characters" in long.message
    many = analyse_document(
        "good. " * 10, engine.classify, INFO.labels, DocumentOptions(max_sentences=5)
    )
    assert isinstance(many, Rejection)
    assert "10 sentences" in many.message
    assert "--max-document-sentences" in many.message
    empty = analyse_document("   ", engine.classify, INFO.labels, DocumentOptions())
    assert isinstance(empty, Rejection)
    assert "empty" in empty.message
    assert fake.batches == []  # nothing refused reached the model


def test_poison_sentence_fails_alone() -> None:
    fake = FakeClassifier(max_batch_size=8)
    engine = BatchEngine(fake, 2000)
    report = analyse_document(
        "good good film. explode\nbad film here.", engine.classify, INFO.labels, DocumentOptions()
    )
    assert isinstance(report, DocumentReport)
    first, poison, last = report.sentences
    assert first.label == "positive"
    assert last.label == "negative"
    assert not poison.read
    assert "could not process" in poison.error
    summary = summary_markdown(report)
    assert "could not read 1 of 3 sentences" in summary
    assert "Sentence 2 (“explode”): The model could not process this text" in summary
    nothing = analyse_document("explode", engine.classify, INFO.labels, DocumentOptions())
    assert isinstance(nothing, DocumentReport)
    assert "could not read any sentence" in summary_markdown(nothing)


def test_batch_columns_for_sentences_and_aspects() -> None:
    engine = BatchEngine(FakeClassifier(), 2000)
    texts = ["good good\nbad film\ngood", "", "bad screen\ngood good battery"]
    reports = analyse_documents(texts, engine.classify, INFO.labels, DocumentOptions(), ["screen"])
    table = batch_sentence_columns(reports, INFO.labels, True, ["screen"])
    assert list(table.columns) == [
        "sentences",
        "share_negative",
        "share_positive",
        "most_negative_sentence",
        "sentence_note",
        "aspect: screen",
    ]
    assert table["sentences"].tolist()[0] == 3
    assert table["share_positive"].tolist()[0] == pytest.approx(2 / 3, abs=1e-4)
    assert table["most_negative_sentence"].tolist()[0] == "bad film"
    assert "empty" in table["sentence_note"].tolist()[1]
    assert table["aspect: screen"].tolist() == ["not mentioned", "", "negative (1 of 1 sentence)"]
    counts = aspect_counts(table)
    assert sorted(counts["verdict"]) == ["negative", "not mentioned"]


@pytest.fixture(scope="module")
def service() -> Service:
    return build_service(
        FakeClassifier(max_batch_size=32),
        INFO,
        Settings(max_batch_size=32, max_document_sentences=50, max_aspects=3),
    )


@pytest.fixture(scope="module")
def client(service: Service) -> Iterator[Client]:
    with launched(service) as url:
        yield Client(url, verbose=False)


def test_sentences_endpoint_through_gradio_client(client: Client) -> None:
    text = "good good film. explode\nbad bad plot here. good good battery."
    pieces, summary, arc, aspects, report = client.predict(
        text, "battery, plot, price", "", api_name="/sentences"
    )
    sentences = report["sentences"]
    assert [s["label"] for s in sentences] == ["positive", None, "negative", "positive"]
    assert "could not process" in sentences[1]["error"]
    assert report["whole_text"]["method"] in {"model", "sentences"}
    assert {a["term"]: a["verdict"] for a in report["aspects"]} == {
        "battery": "positive",
        "plot": "negative",
        "price": "not mentioned",
    }
    assert "4 sentences" in summary
    assert [p["token"] for p in pieces["value"] if p["class_or_confidence"]] == [
        s["text"] for s in sentences
    ]
    assert len(arc["value"]["data"]) == 3
    assert [row[0] for row in aspects["value"]["data"]] == ["battery", "plot", "price"]
    info = client.view_api(return_format="dict", print_info=False)
    parameters = [p["parameter_name"] for p in info["named_endpoints"]["/sentences"]["parameters"]]
    assert parameters == ["text", "aspects", "model"]


def test_sentences_endpoint_refusals(client: Client) -> None:
    _, summary, *_ = client.predict("good. " * 60, "", "", api_name="/sentences")
    assert "at most 50" in summary
    assert "--max-document-sentences" in summary
    with pytest.raises(Exception, match="--max-aspects"):
        client.predict("good film.", "a, b, c, d", "", api_name="/sentences")
    with pytest.raises(Exception, match="No model named 'nope'"):
        client.predict("good film.", "", "nope", api_name="/sentences")


def test_batch_by_sentence_adds_columns_and_csv(client: Client) -> None:
    table, _, download, summary = client.predict(
        "good good film. bad plot.\nbad screen here. good good.",
        None,
        None,
        [INFO.model],
        True,
        "screen",
        api_name="/classify_batch",
    )
    headers = table["headers"]
    assert {"sentences", "share_positive", "most_negative_sentence", "aspect: screen"} <= set(
        headers
    )
    rows = [dict(zip(headers, row, strict=True)) for row in table["data"]]
    assert [r["sentences"] for r in rows] == [2, 2]
    assert rows[0]["aspect: screen"] == "not mentioned"
    assert rows[1]["aspect: screen"] == "negative (1 of 1 sentence)"
    with Path(download).open(newline="", encoding="utf-8-sig") as handle:
        written = list(csv.DictReader(handle))
    assert written[1]["most_negative_sentence"] == "bad screen here."
    assert written[0]["aspect: screen"] == "not mentioned"
    assert "Sentence columns by" in summary
    # Without the option the table is what it always was.
    plain, *_ = client.predict("good film.", None, None, api_name="/classify_batch")
    assert "sentences" not in plain["headers"]


def test_compare_sentences_endpoint(client: Client) -> None:
    pieces, summary = client.predict("good good film.\nbad plot", api_name="/compare_sentences")
    assert [p["class_or_confidence"] for p in pieces["value"] if p["class_or_confidence"]] == [
        "positive 0.67",
        "negative 1.00",
    ]
    assert "2 sentences" in summary


def test_mcp_schema_documents_the_sentences_parameters() -> None:
    with launched(build_service(FakeClassifier(), INFO, Settings(mcp=True))) as url:
        schema = httpx.get(f"{url}/gradio_api/mcp/schema", timeout=30)
    tool = next(t for t in schema.json() if t["name"] == "sentences")
    properties = tool["inputSchema"]["properties"]
    assert set(properties) == {"text", "aspects", "model"}
    assert "comma" in properties["aspects"]["description"]
    assert "default model" in properties["model"]["description"]


def test_a_huge_aspect_list_is_refused_at_once() -> None:
    import time

    from sentiment_demo.documents.analysis import MAX_ASPECT_CHARS, parse_aspects

    started = time.perf_counter()
    with pytest.raises(InputError, match=r"More than 20 aspects.*--max-aspects"):
        parse_aspects(",".join(f"term{i}" for i in range(200_000)), 20)
    assert time.perf_counter() - started < 1.0  # the quadratic version took minutes here
    with pytest.raises(InputError, match=f"limit is {MAX_ASPECT_CHARS}"):
        parse_aspects("x" * (MAX_ASPECT_CHARS + 1), 20)
    assert parse_aspects("Battery, screen; battery\nprice", 20) == ["Battery", "screen", "price"]
