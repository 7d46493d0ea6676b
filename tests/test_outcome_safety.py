"""Outcomes that must stay safe (issue 24): a non-finite score fails its text alone, single texts are
not held up by long bulk work, VADER's cost per text is linear, model names are deduplicated, a
corrupt weights file is one line, and the Evaluate mapping and summary refuse or neutralise what
users send.

The non-finite model is a real tiny BERT whose embedding row for the word "boring" is NaN (a corrupt
row): every text with that word gets NaN scores from the real forward pass, the others do not.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.backends.vader import LinearVader, load_vader
from sentiment_demo.config import REPO_ROOT, Settings
from sentiment_demo.core.classifier import Prediction, Rejection
from sentiment_demo.core.engine import BatchEngine
from sentiment_demo.core.metrics import Metrics
from sentiment_demo.core.scheduler import BatchScheduler
from sentiment_demo.core.served_model import ServedModel, choose_models
from sentiment_demo.errors import InputError, ModelLoadError
from sentiment_demo.evaluation.label_mapping import read_mapping
from sentiment_demo.service import Service, build_service
from sentiment_demo.ui.common import as_markdown_text
from tests.conftest import FakeClassifier, batch_refusal, launched

POISON_WORD = "boring"
GOOD = ["the film is good", "i love this movie !", "the plot was awful"]
POISON = "a boring film"
THREE = ("negative", "neutral", "positive")


@pytest.fixture(scope="module")
def nan_model_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT with a corrupt (NaN) embedding row for one word, saved like any model."""
    from safetensors.torch import load_file, save_file
    from transformers import AutoTokenizer

    folder = tmp_path_factory.mktemp("models") / "tiny-nan"
    shutil.copytree(tiny_model_dir, folder)
    weights = load_file(folder / "model.safetensors")
    row = AutoTokenizer.from_pretrained(folder).convert_tokens_to_ids(POISON_WORD)
    weights["bert.embeddings.word_embeddings.weight"][row] = math.nan
    save_file(weights, folder / "model.safetensors", metadata={"format": "pt"})
    return folder


@pytest.fixture(scope="module")
def settings() -> Settings:
    return Settings(max_batch_size=8, warmup=False, num_threads=1, dtype="float32", device="cpu")


@pytest.fixture(scope="module")
def service(nan_model_dir: Path, settings: Settings) -> Service:
    classifier, info = load_classifier(settings.with_overrides(model=str(nan_model_dir)))
    return build_service(
        classifier, info, settings, more_models=[load_vader(settings.max_batch_size)]
    )


@pytest.fixture(scope="module")
def url(service: Service) -> Iterator[str]:
    with launched(service) as address:
        yield address


# --- non-finite scores ------------------------------------------------------------------------


def test_a_nan_score_fails_its_text_alone_in_the_engine(
    nan_model_dir: Path, settings: Settings
) -> None:
    classifier, _ = load_classifier(settings.with_overrides(model=str(nan_model_dir)))
    raw = classifier.classify_batch([POISON])[0]
    assert any(math.isnan(s.score) for s in raw.scores)  # the real forward pass gives NaN
    engine = BatchEngine(classifier, max_text_chars=2000)
    outcomes = engine.classify([GOOD[0], POISON, *GOOD[1:]])
    alone = engine.classify(GOOD)
    assert isinstance(outcomes[1], Rejection)
    assert outcomes[1].model_error
    assert "not a number (nan)" in outcomes[1].message
    answered = [o for i, o in enumerate(outcomes) if i != 1]
    assert all(isinstance(o, Prediction) for o in answered)
    for with_poison, without in zip(answered, alone, strict=True):
        assert with_poison.as_dict() == pytest.approx(without.as_dict(), abs=1e-5)  # type: ignore[union-attr]
    assert engine.unhealthy_reason is None


def test_a_model_that_gives_nan_for_every_text_is_unhealthy(
    nan_model_dir: Path, settings: Settings
) -> None:
    classifier, _ = load_classifier(settings.with_overrides(model=str(nan_model_dir)))
    engine = BatchEngine(classifier, max_text_chars=2000, probe_text=POISON)
    outcomes = engine.classify([POISON, f"{POISON} again"])
    assert all(isinstance(o, Rejection) and o.model_error for o in outcomes)
    assert engine.unhealthy_reason == "the model returns non-finite scores for every text"


def test_classify_shows_a_notice_for_a_nan_score(url: str) -> None:
    client = Client(url, verbose=False)
    label, notice = client.predict(POISON, api_name="/classify")
    assert "not a number" in notice
    assert not label or not label.get("confidences")
    good_label, good_notice = client.predict(GOOD[0], api_name="/classify")
    assert good_label["confidences"]
    assert not good_notice.startswith("⚠️")


def test_batch_does_not_count_a_nan_score_as_a_disagreement(url: str) -> None:
    client = Client(url, verbose=False)
    texts = "\n".join([*GOOD, POISON])
    table, _, _, summary = client.predict(
        texts, None, None, ["tiny-nan", "vader"], api_name="/classify_batch"
    )
    rows = [dict(zip(table["headers"], row, strict=True)) for row in table["data"]]
    poison = next(row for row in rows if row["text"] == POISON)
    assert poison["label (tiny-nan)"] in ("", None)
    assert "not a number" in str(poison["note"])
    assert poison["agreement"] in ("", None)  # not a disagreement: one model has no answer
    agreed = sum(row["agreement"] == "all agree" for row in rows)
    assert summary.endswith(f"The 2 models agree on {agreed} of 4 texts.")


def test_evaluate_counts_a_nan_score_as_refused_and_writes_strict_json(
    url: str, tmp_path: Path
) -> None:
    labelled = tmp_path / "labelled.csv"
    rows = [("the film is good", "positive"), ("the plot was awful", "negative")]
    labelled.write_text(
        "text,label\n" + "".join(f"{t},{lab}\n" for t, lab in [*rows, (POISON, "negative")])
    )
    result = Client(url, verbose=False).predict(
        handle_file(str(labelled)), "text", "label", "match by name", None, api_name="/evaluate"
    )
    summary, report, files = result[0], result[-1], result[-2]
    assert "1 text refused" in summary
    tiny = report["models"]["tiny-nan"]
    assert (tiny["texts"], tiny["texts_refused"]) == (2, 1)
    metrics_file = next(f for f in files if str(f).endswith(".json"))

    def refuse(constant: str) -> None:
        raise AssertionError(f"non-standard JSON constant {constant}")

    json.loads(Path(metrics_file).read_text(), parse_constant=refuse)


def test_predict_answers_424_for_the_nan_text_and_200_for_the_others(url: str) -> None:
    for text in GOOD:
        answer = httpx.post(f"{url}/predict", json={"inputs": text}, timeout=30)
        assert answer.status_code == 200
        assert all(math.isfinite(item["score"]) for item in answer.json())
    poison = httpx.post(f"{url}/predict", json={"inputs": POISON}, timeout=30)
    assert poison.status_code == 424
    assert poison.json()["error_type"] == "Backend"
    assert "not a number" in poison.json()["error"]
    listed = httpx.post(f"{url}/predict", json={"inputs": [GOOD[0], POISON]}, timeout=30)
    assert listed.status_code == 424
    assert listed.json()["error"].startswith("input 1:")


# --- duplicated and unknown model names -------------------------------------------------------


def _served(*names: str) -> list[ServedModel]:
    from tests.test_ui import INFO

    return [ServedModel(name, INFO, lambda texts: []) for name in names]


def test_choose_models_runs_a_repeated_name_once_and_refuses_unknown_ones() -> None:
    models = _served("a", "b", "vader")
    assert [m.name for m in choose_models(models, ["b"] * 40 + ["a", "b"])] == ["b", "a"]
    assert [m.name for m in choose_models(models, None)] == ["a"]
    with pytest.raises(InputError, match=r"No model named 'x', 'y'; this app serves 'a', 'b'"):
        choose_models(models, ["a", "x", "y", "x"])


def test_classify_batch_with_a_name_forty_times_runs_it_once(url: str, service: Service) -> None:
    client = Client(url, verbose=False)
    ok = service.metrics.requests.labels("ui", "ok")
    before = ok._value.get()
    table, _, _, summary = client.predict(
        "\n".join(GOOD * 10), None, None, ["tiny-nan"] * 40, api_name="/classify_batch"
    )
    assert ok._value.get() - before == 30  # each text once, not forty times
    assert "models agree" not in summary
    assert len(table["data"]) == 30
    # Gradio's checkbox group refuses an unknown name itself, naming the choices.
    refused = batch_refusal(client, GOOD[0], None, None, ["tiny-nan", "nope"])
    assert "'nope'" in refused
    assert "tiny-nan" in refused


# --- single texts beside long bulk work -------------------------------------------------------


def _wait_until(condition: object, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.005)


def test_a_single_text_rides_alone_and_bulk_passes_stay_within_the_character_budget() -> None:
    classifier = FakeClassifier(max_batch_size=8)
    scheduler = BatchScheduler(
        BatchEngine(classifier, max_text_chars=2000),
        max_batch_texts=8,
        max_pending_texts=10_000,
        metrics=Metrics(),
        max_bulk_chars=4000,
    )
    long_text = "bad " * 500  # 2,000 characters: a chunk of 2 costs 4,000
    try:
        classifier.gate.clear()
        held = scheduler.submit([long_text] * 100, lane="ui")  # a bulk job in flight
        _wait_until(lambda: len(classifier.batches) == 0 and scheduler.pending_texts() < 100)
        jobs = [scheduler.submit([long_text] * 100, lane) for lane in ("ui", "api")]
        single = scheduler.submit(["good single"], lane="ui")
        classifier.gate.set()
        assert single.result(timeout=30)[0].label == "positive"  # type: ignore[union-attr]
        for job in (held, *jobs):
            assert len(job.result(timeout=30)) == 100
        passes = classifier.batches
        # The single text's pass came right after the pass in flight, and held only it.
        assert passes[1] == ["good single"]
        # Every bulk pass held at most 4,000 characters (one chunk of two long texts).
        assert all(sum(map(len, p)) <= 4000 for p in passes if p != ["good single"])
        assert sum(len(p) for p in passes) == 301
    finally:
        scheduler.close()


def test_bulk_jobs_still_get_every_other_pass_under_a_stream_of_single_texts() -> None:
    classifier = FakeClassifier(max_batch_size=8)
    scheduler = BatchScheduler(
        BatchEngine(classifier, max_text_chars=2000),
        max_batch_texts=8,
        max_pending_texts=10_000,
        max_bulk_chars=10_000,
    )
    try:
        classifier.gate.clear()
        scheduler.submit(["good hold"], lane="ui")
        _wait_until(lambda: scheduler.pending_texts() == 0)
        job = scheduler.submit([f"bad {i}" for i in range(24)], lane="api")
        singles = [scheduler.submit([f"good {i}"], lane="ui") for i in range(64)]
        classifier.gate.set()
        job.result(timeout=30)
        for single in singles:
            single.result(timeout=30)
        kinds = [
            "bulk" if any(t.startswith("bad") for t in p) else "single" for p in classifier.batches
        ]
        # single passes and bulk passes alternate while both wait: 24 texts in 3 bulk passes.
        assert kinds[1:7] == ["single", "bulk"] * 3
        assert all("bad" not in " ".join(p) for p in classifier.batches if "good 0" in p)
    finally:
        scheduler.close()


# --- VADER's cost per text ----------------------------------------------------------------------


def _vader_vocabulary(analyzer: LinearVader) -> list[str]:
    rules = ["but", "BUT", "not", "no", "never", "so", "this", "without", "doubt", "kind", "of"]
    rules += ["least", "at", "very", "sort", "extremely", "!", "?", ":)", "nor", "or", "GREAT"]
    return [*list(analyzer.lexicon)[:400], *rules * 8, *list(analyzer.emojis)[:60]]


def test_linear_vader_scores_equal_vadersentiment() -> None:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    original, linear = SentimentIntensityAnalyzer(), LinearVader()
    words = _vader_vocabulary(linear)
    rng = random.Random(24)
    for _ in range(2000):
        text = " ".join(rng.choice(words) for _ in range(rng.randint(1, 40)))
        if rng.random() < 0.2:
            text = text.upper()
        assert linear.polarity_scores(text) == original.polarity_scores(text), text


def test_vader_reads_2000_emoji_in_linear_time() -> None:
    classifier, _ = load_vader(8)
    # 😹 is spelt "cat face with tears of joy": 12,000 words, with "but" at the end (the worst rule).
    text = "😹" * 1996 + " but"
    started = time.process_time()
    (prediction,) = classifier.classify_batch([text])
    spent = time.process_time() - started
    assert isinstance(prediction, Prediction)
    assert spent < 0.8, f"{spent:.2f} s of CPU for one text (vaderSentiment alone: 1.4-1.9 s)"


# --- a corrupt weights file -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("random", r"model.safetensors is damaged or not a safetensors file"),
        ("zeros", r"model.safetensors is damaged or not a safetensors file"),
        ("cut", r"model.safetensors is damaged or not a safetensors file"),
        ("shapes", r"do not match its config.json: \d+ tensors have other shapes"),
    ],
)
def test_a_corrupt_weights_file_is_one_line(
    tiny_model_dir: Path, tmp_path: Path, damage: str, message: str
) -> None:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)
    weights = folder / "model.safetensors"
    data = weights.read_bytes()
    if damage == "random":
        weights.write_bytes(random.Random(0).randbytes(len(data)))
    elif damage == "zeros":
        weights.write_bytes(bytes(len(data)))
    elif damage == "cut":
        weights.write_bytes(data[: len(data) // 2])
    else:
        config = json.loads((folder / "config.json").read_text())
        config["hidden_size"], config["intermediate_size"] = 64, 128
        (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match=message):
        load_classifier(Settings(model=str(folder), device="cpu", warmup=False, num_threads=1))
    if damage == "shapes":
        done = subprocess.run(
            [sys.executable, "app.py", "--model", str(folder)],
            cwd=REPO_ROOT,
            env=os.environ | {"SENTIMENT_WARMUP": "false"},
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert "MISMATCH" not in done.stderr + done.stdout
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, done.stderr


# --- the Evaluate mapping and summary ---------------------------------------------------------


def test_read_mapping_refuses_two_rows_sending_one_value_to_different_labels() -> None:
    rows = [["pos", 3, "positive"], ["pos", 3, "negative"]]
    with pytest.raises(ValueError, match=r"two rows map the value 'pos' for a: one to 'positive'"):
        read_mapping(rows, ["a"], [THREE], file_values=["pos", "neg"])
    same = read_mapping([["pos", 3, "positive"], ["pos", 3, "Positive"]], ["a"], [THREE])
    assert same == {"a": {"pos": "positive"}}


def test_read_mapping_refuses_values_the_file_does_not_hold() -> None:
    with pytest.raises(ValueError, match=r"names 'spam', 'eggs', which the label column does not"):
        read_mapping(
            [["pos", 1, "positive"], ["spam", 1, "negative"], ["eggs", 1, ""]],
            ["a"],
            [THREE],
            file_values=["pos", "neg"],
        )


def test_read_mapping_matches_file_values_ignoring_case_like_the_model_labels() -> None:
    mapping = read_mapping(
        [["POS", 1, "Positive"], ["Neg", 1, "NEGATIVE"]], ["a"], [THREE], file_values=["pos", "neg"]
    )
    assert mapping == {"a": {"pos": "positive", "neg": "negative"}}
    exact = read_mapping(
        [["Pos", 1, "positive"], ["pos", 1, "negative"]], ["a"], [THREE], ["Pos", "pos"]
    )
    assert exact == {"a": {"Pos": "positive", "pos": "negative"}}


def test_user_text_is_inert_in_markdown() -> None:
    assert as_markdown_text("&lt;b&gt;") == "&amp;lt;b&amp;gt;"
    assert as_markdown_text("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"
    assert as_markdown_text("https://evil.example/a") == r"https\://evil.example/a"
    assert as_markdown_text("www.evil.example") == r"www\.evil.example"
    assert as_markdown_text("me@evil.example") == r"me\@evil.example"
    assert as_markdown_text("[x](y) *z*") == r"\[x\](y) \*z\*"


def test_evaluate_refuses_a_malformed_mapping_clearly(url: str, tmp_path: Path) -> None:
    labelled = tmp_path / "labelled.csv"
    labelled.write_text("text,label\nthe film is good,pos\nthe plot was awful,neg\n")
    client = Client(url, verbose=False)
    malformed = {"headers": ["label in file", "rows"], "data": [["pos", 1, "positive", "x", "y"]]}
    with pytest.raises(Exception, match=r"The label mapping could not be read") as caught:
        client.predict(
            handle_file(str(labelled)),
            "text",
            "label",
            "match by name",
            malformed,
            api_name="/evaluate",
        )
    assert "Could not preprocess" not in str(caught.value)
    duplicated = {
        "headers": ["label in file", "rows", "tiny-nan", "vader"],
        "data": [["pos", 1, "positive", "positive"], ["POS", 1, "negative", "positive"]],
    }
    summary = client.predict(
        handle_file(str(labelled)),
        "text",
        "label",
        "match by name",
        duplicated,
        api_name="/evaluate",
    )[0]
    assert "two rows map the value 'pos' for tiny-nan" in summary
