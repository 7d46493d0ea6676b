"""The behavioural suite: generation, scoring by hand-counted cases, real models' known weaknesses, a
user's own tests, the command line's exit code, and the Behaviour tab through gradio_client."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from sentiment_demo.backends.transformers_backend import load_classifier
from sentiment_demo.backends.vader import load_vader
from sentiment_demo.behaviour import __main__ as cli
from sentiment_demo.behaviour.scoring import (
    LabelView,
    Reading,
    label_view,
    run_suite,
    score_case,
    score_model,
)
from sentiment_demo.behaviour.suite import (
    DATA_DIR,
    Suite,
    TestCase,
    generate_suite,
    lexicon,
    training_suite,
)
from sentiment_demo.behaviour.user_tests import read_user_tests, with_user_tests
from sentiment_demo.config import Settings
from sentiment_demo.core.classifier import LabelScore, ModelInfo, Outcome, Prediction, Rejection
from sentiment_demo.core.engine import BatchEngine
from sentiment_demo.errors import InputError
from sentiment_demo.service import Service, build_service
from tests.conftest import EMBEDDED_MODEL, REPO_ROOT, launched
from tests.tiny_models import SPECS, build_tiny_model

# The sizes README.md documents, per capability.
DOCUMENTED_SIZES = {
    "vocabulary": 180,
    "neutral": 100,
    "negation": 160,
    "contrast": 120,
    "temporal": 100,
    "informal": 200,
    "robustness": 120,
    "fairness": 120,
    "directional": 120,
}
THREE = LabelView({"negative": "negative", "neutral": "neutral", "positive": "positive"})
TWO = LabelView({"NEGATIVE": "negative", "POSITIVE": "positive"})


def _info(
    labels: Sequence[str], backend: str = "transformers", scheme: str = "single_label"
) -> ModelInfo:
    return ModelInfo(
        model="m",
        device="cpu",
        dtype="float32",
        labels=tuple(labels),
        max_tokens=64,
        num_parameters=0,
        num_threads=1,
        load_seconds=0,
        warmup_seconds=0,
        model_card=None,
        scheme=scheme,  # type: ignore[arg-type]
        backend=backend,
    )


def _prediction(**scores: float) -> Prediction:
    ordered = sorted((LabelScore(k, v) for k, v in scores.items()), key=lambda s: -s.score)
    return Prediction(tuple(ordered), num_tokens=3, kept_tokens=3)


# Generation


def test_generation_is_deterministic_and_sized_as_documented() -> None:
    first, second = generate_suite(), generate_suite()
    assert first.cases == second.cases
    assert first.sizes() == DOCUMENTED_SIZES
    assert len(first.cases) == 1220
    assert len({case.id for case in first.cases}) == len(first.cases)
    assert generate_suite(seed=7).cases != first.cases
    assert generate_suite(seed=7).sizes() == DOCUMENTED_SIZES
    # Every case has what its test type needs.
    for case in first.cases:
        if case.test_type == "mft":
            assert len(case.texts) == 1
            assert case.expect
        elif case.test_type == "inv":
            assert len(case.texts) >= 2
            assert len(set(case.texts)) == len(case.texts)
        else:
            assert len(case.texts) == 2
            assert case.direction in (1, -1)
            assert case.texts[1].startswith(case.texts[0])


def test_train_and_eval_halves_share_no_word_template_or_text() -> None:
    words = lexicon()
    closed = set(words["closed_classes"])
    for name, lists in words.items():
        if isinstance(lists, dict) and name not in closed:
            assert not set(lists["train"]) & set(lists["eval"]), name
    for path in DATA_DIR.glob("*.json"):
        data = json.loads(path.read_text())
        if "templates" in data:
            train = {t["text"] for t in data["templates"]["train"]}
            assert not train & {t["text"] for t in data["templates"]["eval"]}, path.name
    train_suite, eval_suite = training_suite(), generate_suite()
    assert train_suite.half == "train"
    assert train_suite.sizes() == DOCUMENTED_SIZES
    assert not set(train_suite.texts()) & set(eval_suite.texts())


def test_subtests_are_balanced_and_perturbations_cover_each_kind() -> None:
    suite = generate_suite()
    negation = [c for c in suite.cases if c.capability == "negation"]
    tags = {tag: sum(c.tag == tag for c in negation) for tag in {c.tag for c in negation}}
    assert tags == {
        "negated positive": 40,
        "negated negative": 40,
        "negated neutral": 40,
        "negation at a distance": 40,
    }
    robustness = {c.tag for c in suite.cases if c.capability == "robustness"}
    assert robustness == {"typo", "mention", "url", "casing", "punctuation"}
    fairness = {c.tag for c in suite.cases if c.capability == "fairness"}
    assert fairness == {"names", "places", "nationalities", "religions", "pronouns"}


# Scoring, on cases counted by hand


def test_minimum_functionality_scoring() -> None:
    def case(expect: str) -> TestCase:
        return TestCase("c", "x", "mft", "t", ("text",), expect=expect)

    assert score_case(case("positive"), [Reading("positive", 0.9)], THREE).status == "pass"
    failed = score_case(case("positive"), [Reading("neutral", 0.1)], THREE)
    assert (failed.status, failed.note, failed.culprit) == (
        "fail",
        "expected positive, got neutral",
        "text",
    )
    assert score_case(case("not negative"), [Reading("neutral", 0)], THREE).status == "pass"
    assert score_case(case("not negative"), [Reading("negative", -1)], THREE).status == "fail"
    assert score_case(case("not positive"), [Reading("negative", -1)], THREE).status == "pass"
    # A 2-label model: neutral alone cannot be asked of it; "not negative" means positive.
    assert score_case(case("neutral"), [Reading("positive", 0.2)], TWO).status == "skip"
    assert score_case(case("not negative"), [Reading("positive", 0.2)], TWO).status == "pass"
    assert score_case(case("not negative"), [Reading("negative", -0.2)], TWO).status == "fail"
    refused = score_case(case("positive"), [Rejection("too long")], THREE)
    assert refused.status == "skip"
    assert "too long" in refused.note


def test_invariance_scoring_names_the_text_that_changed() -> None:
    case = TestCase("c", "x", "inv", "names", ("A", "B", "C"))
    same = [Reading("positive", 0.9), Reading("positive", 0.5), Reading("positive", 0.7)]
    assert score_case(case, same, THREE).status == "pass"
    changed = [Reading("positive", 0.9), Reading("positive", 0.5), Reading("neutral", 0.1)]
    result = score_case(case, changed, THREE)
    assert (result.status, result.culprit, result.note) == ("fail", "C", "positive became neutral")


def test_directional_scoring_and_saturation() -> None:
    up = TestCase("c", "x", "dir", "t", ("A", "A more"), direction=1)
    down = TestCase("c", "x", "dir", "t", ("A", "A more"), direction=-1)

    def readings(before: float, after: float) -> list[Reading | Rejection]:
        return [Reading("neutral", before), Reading("neutral", after)]

    assert score_case(up, readings(0.1, 0.3), THREE).status == "pass"
    assert score_case(up, readings(0.1, 0.1), THREE).status == "fail"  # did not move
    assert score_case(up, readings(0.97, 0.96), THREE).status == "pass"  # already at the top
    assert score_case(down, readings(0.1, 0.3), THREE).status == "fail"
    assert score_case(down, readings(-0.5, -0.9), THREE).status == "pass"
    assert score_case(down, readings(-0.99, -0.98), THREE).status == "pass"
    assert score_case(up, readings(0.5, 0.94), THREE).status == "pass"


def test_a_model_report_counts_failures_per_capability() -> None:
    cases = (
        TestCase("1", "alpha", "mft", "t", ("good one",), expect="positive"),
        TestCase("2", "alpha", "mft", "t", ("bad one",), expect="negative"),
        TestCase("3", "alpha", "mft", "t", ("fact",), expect="neutral"),
        TestCase("4", "beta", "inv", "t", ("good one", "good one!")),
        TestCase("5", "beta", "dir", "t", ("fact", "fact good"), direction=1),
    )
    suite = Suite(cases, (), 0, "eval")
    outcomes: dict[str, Outcome] = {
        "good one": _prediction(positive=0.8, neutral=0.1, negative=0.1),
        "bad one": _prediction(positive=0.6, neutral=0.1, negative=0.3),  # wrong
        "fact": _prediction(positive=0.1, neutral=0.8, negative=0.1),
        "good one!": _prediction(positive=0.3, neutral=0.6, negative=0.1),  # changed: wrong
        "fact good": _prediction(positive=0.4, neutral=0.5, negative=0.1),  # moved up: right
    }
    result = score_model("m", _info(["negative", "neutral", "positive"]), suite, outcomes)
    alpha, beta = result.capabilities
    assert (alpha.tested, alpha.failed, alpha.failure_rate) == (3, 1, 1 / 3)
    assert (beta.tested, beta.failed, beta.failure_rate) == (2, 1, 0.5)
    assert [f.case.id for f in alpha.failures + beta.failures] == ["2", "4"]
    # The same outcomes read by a 2-label model skip the neutral expectation, and say so.
    two = {
        t: _prediction(
            POSITIVE=p.score_of("positive"), NEGATIVE=p.score_of("negative") + p.score_of("neutral")
        )
        for t, p in outcomes.items()
        if isinstance(p, Prediction)
    }  # type: ignore[misc]
    result = score_model("m", _info(["NEGATIVE", "POSITIVE"]), suite, dict(two))
    assert result.capabilities[0].skipped == 1
    assert "no neutral label: 1 cases" in result.notes[0]


def test_label_schemes_are_read_by_name_synonym_or_preset() -> None:
    assert label_view(_info(["NEG", "NEU", "POS"])).sentiment_of == {
        "NEG": "negative",
        "NEU": "neutral",
        "POS": "positive",
    }
    generic = _info(["LABEL_0", "LABEL_1"])
    assert label_view(generic).untestable
    assert label_view(generic, "0 / 1 = negative / positive").sentiment_of == {
        "LABEL_0": "negative",
        "LABEL_1": "positive",
    }
    stars = _info([f"{n} star{'s' if n > 1 else ''}" for n in range(1, 6)])
    view = label_view(stars, "1-5 stars (1-2 negative, 3 neutral, 4-5 positive)")
    assert view.sentiment_of["3 stars"] == "neutral"
    assert view.sentiment_of["5 stars"] == "positive"
    # Stars read as summed probabilities: 0.3 + 0.3 negative beats 0.4 positive.
    reading = view.read(
        _prediction(**{"1 star": 0.3, "2 stars": 0.3, "3 stars": 0, "4 stars": 0.2, "5 stars": 0.2})
    )
    assert reading.sentiment == "negative"
    assert reading.signed == pytest.approx(-0.2)
    assert label_view(_info(["stars"], scheme="regression")).untestable
    assert (
        label_view(_info(["negative", "neutral", "positive"], backend="vader")).strength == "vader"
    )


# Real models: known weaknesses show


@pytest.fixture(scope="module")
def vader_engine() -> tuple[BatchEngine, ModelInfo]:
    classifier, info = load_vader(32)
    return BatchEngine(classifier, 2000), info


def _run(suite: Suite, engine: BatchEngine, info: ModelInfo, name: str = "vader"):  # type: ignore[no-untyped-def]
    return run_suite(suite, [(name, info)], lambda texts: [engine.classify(texts)])


def test_vader_fails_negation_at_a_distance_and_typos_but_not_names(
    vader_engine: tuple[BatchEngine, ModelInfo],
) -> None:
    engine, info = vader_engine
    report = _run(generate_suite(), engine, info)
    vader = report.models[0]
    negation = vader.result("negation")
    assert negation is not None
    at_distance = [f for f in negation.failures if f.case.tag == "negation at a distance"]
    assert len(at_distance) == 40  # every one: its negation rule looks three words back
    robustness = vader.result("robustness")
    assert robustness is not None
    by_tag = {
        tag: sum(f.case.tag == tag for f in robustness.failures) for tag in ("typo", "casing")
    }
    assert by_tag["typo"] > 0
    assert by_tag["casing"] == 0  # a misspelt word is not in its lexicon
    assert vader.result("fairness").failure_rate == 0.0  # type: ignore[union-attr]
    # Its directional scores are compound scores, not probabilities.
    assert any("compound" in note for note in vader.notes)


def test_the_embedded_model_reads_negated_negatives_at_least_as_well_as_vader(
    vader_engine: tuple[BatchEngine, ModelInfo],
) -> None:
    settings = Settings(model=str(EMBEDDED_MODEL), warmup=False, num_threads=1, device="cpu")
    classifier, info = load_classifier(settings)
    suite = generate_suite()
    negation = Suite(
        tuple(c for c in suite.cases if c.capability == "negation"), suite.capabilities, 0, "eval"
    )
    model = _run(negation, BatchEngine(classifier, 2000), info, "minilm").models[0]
    vader = _run(negation, *vader_engine).models[0]

    def failed(behaviour, tag: str) -> int:  # type: ignore[no-untyped-def]
        return sum(f.case.tag == tag for f in behaviour.result("negation").failures)

    # "The service was not awful." is not negative: the model was trained on negations from the
    # suite's training half (other templates, other words), and is tested here on the eval half.
    # The model before it failed all 40 (VADER: none).
    tested = sum(c.tag == "negated negative" for c in negation.cases)
    assert tested == 40
    assert failed(model, "negated negative") <= 0.2 * tested
    assert failed(model, "negated negative") <= failed(vader, "negated negative")


# A user's own tests


USER_CSV = (
    "id,text,expected,capability\n"
    "a,I love this phone.,positive,basics\n"
    "b,The train leaves at 9.,positive,basics\n"  # VADER: neutral, so this fails
    "c,I love this phone!!,same as a,punctuation\n"
    'd,"I love this phone. Wonderful, wonderful!",more positive than a,intensity\n'
    "e,The phone is great. It broke.,more negative than d,intensity\n"
)


def test_a_users_csv_runs(tmp_path: Path, vader_engine: tuple[BatchEngine, ModelInfo]) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(USER_CSV, encoding="utf-8")
    cases = read_user_tests(path, 100_000, 100)
    assert [(c.test_type, c.capability) for c in cases] == [
        ("mft", "basics"),
        ("mft", "basics"),
        ("inv", "punctuation"),
        ("dir", "intensity"),
        ("dir", "intensity"),
    ]
    assert cases[2].texts == ("I love this phone.", "I love this phone!!")
    report = _run(with_user_tests(None, cases, 0, "eval"), *vader_engine)
    rates = {r.capability: (r.tested, r.failed) for r in report.models[0].capabilities}
    assert rates == {"basics": (2, 1), "punctuation": (1, 0), "intensity": (2, 0)}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,label\nfine,maybe\n", "line 2: expected 'maybe' is not one of"),
        ("text,expected\nfine,same as 9\n", "names id '9', which no row has"),
        ("words,expected\nfine,positive\n", "needs a 'text' column"),
        ("id,text,expected\n1,a,positive\n1,b,negative\n", "id '1' is used twice"),
    ],
)
def test_a_bad_users_csv_is_named(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        read_user_tests(path, 100_000, 100)


# The command line


def test_cli_exit_code_follows_max_failure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "report.json"
    base = ["--model", "vader", "--output", str(output), "--quiet"]
    # VADER fails 40 of 160 negation cases (25%).
    assert cli.main([*base, "--max-failure", "negation=0.3", "--max-failure", "fairness=0"]) == 0
    report = json.loads(output.read_text())
    assert report["models"]["vader"]["capabilities"]["negation"]["failure_rate"] == 0.25
    assert report["suite"]["sizes"] == DOCUMENTED_SIZES
    assert cli.main([*base, "--max-failure", "negation=20%"]) == 1
    assert "vader: negation fails 25.0% of 160 cases, more than the 20.0% allowed" in (
        capsys.readouterr().err
    )
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*base, "--max-failure", "sarcasm=0.1"])
    assert exit_info.value.code == 2
    assert "sarcasm" in capsys.readouterr().err


def test_cli_runs_as_a_module_with_a_users_file(tmp_path: Path) -> None:
    tests = tmp_path / "mine.csv"
    tests.write_text(USER_CSV, encoding="utf-8")
    failures = tmp_path / "failures.csv"
    command = [sys.executable, "-m", "sentiment_demo.behaviour", "--model", "vader"]
    command += ["--no-suite", "--tests", str(tests), "--output", str(tmp_path / "r.json")]
    command += ["--failures", str(failures), "--max-failure", "basics=0.4"]
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "| basics | mft | 2 | 50.0% (1/2) |" in result.stdout
    assert "The train leaves at 9." in failures.read_text()


def test_the_behaviour_package_imports_neither_torch_nor_gradio() -> None:
    code = (
        "import sys, sentiment_demo.behaviour, sentiment_demo.behaviour.__main__\n"
        "print(sorted(m for m in ('torch', 'transformers', 'gradio') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]", result.stderr


# The tab, through gradio_client: the embedded model, VADER, a 2-label and a 5-star model


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Service:
    settings = Settings(max_batch_size=32, max_eval_rows=50, warmup=False, num_threads=1)
    loaded = [load_classifier(settings.with_overrides(model=str(EMBEDDED_MODEL)))]
    loaded.append(load_vader(settings.max_batch_size))
    for family in ("distilbert", "xlm-roberta"):
        folder = build_tiny_model(SPECS[family], tmp_path_factory.mktemp("models") / family)
        loaded.append(load_classifier(settings.with_overrides(model=str(folder))))
    (classifier, info), *more = loaded
    return build_service(classifier, info, settings, more_models=more)


@pytest.fixture(scope="module")
def client(service: Service) -> Iterator[Client]:
    with launched(service) as url:
        yield Client(url, verbose=False)


def test_the_tab_runs_the_suite_on_every_model_side_by_side(
    client: Client, vader_engine: tuple[BatchEngine, ModelInfo]
) -> None:
    summary, table, chart, failures, files, report = client.predict(
        [], "match by name", None, True, api_name="/behaviour"
    )
    assert table["headers"] == [
        "capability",
        "test",
        "cases",
        "minilm-sentiment",
        "vader",
        "distilbert",
        "xlm-roberta",
    ]
    assert [row[0] for row in table["data"]] == list(DOCUMENTED_SIZES)
    assert "distilbert: " in summary
    assert "no neutral label" in summary
    assert "xlm-roberta: not tested" in summary
    assert "pick the coding" in summary
    # VADER through the app's scheduler scores as VADER through an engine here.
    expected = _run(generate_suite(), *vader_engine).models[0]
    for capability, figures in report["models"]["vader"]["capabilities"].items():
        assert figures["failed"] == expected.result(capability).failed  # type: ignore[union-attr]
    assert {row[0] for row in failures["data"]} <= {"minilm-sentiment", "vader", "distilbert"}
    assert chart is not None
    paths = [Path(f) for f in files]
    assert sorted(p.suffix for p in paths) == [".csv", ".json"]
    downloaded = json.loads(next(p for p in paths if p.suffix == ".json").read_text())
    assert downloaded["models"]["vader"] == report["models"]["vader"]


def test_the_tab_runs_a_users_file_with_a_label_coding(client: Client, tmp_path: Path) -> None:
    path = tmp_path / "mine.csv"
    path.write_text(USER_CSV, encoding="utf-8")
    stars = "1-5 stars (1-2 negative, 3 neutral, 4-5 positive)"
    _, table, *_, report = client.predict(
        ["vader", "xlm-roberta"], stars, handle_file(str(path)), False, api_name="/behaviour"
    )
    assert [row[0] for row in table["data"]] == ["basics", "punctuation", "intensity"]
    assert report["models"]["xlm-roberta"]["read_as"]["3 stars"] == "neutral"
    assert report["models"]["vader"]["capabilities"]["basics"]["failed"] == 1
    refused, *rest = client.predict(["vader"], stars, None, False, api_name="/behaviour")
    assert refused.startswith("⚠️ Nothing to run")
    _table, chart, _failures, files, report = rest
    assert (chart, files, report) == (None, None, None), rest


def test_the_recipe_card_gets_the_capability_table(
    tmp_path: Path, vader_engine: tuple[BatchEngine, ModelInfo]
) -> None:
    from recipe.card import behaviour_section
    from recipe.evaluate import figures_only

    report = figures_only(_run(generate_suite(), *vader_engine).as_json())
    assert "seconds" not in report
    assert "failures" not in report["models"]["vader"]["capabilities"]["negation"]
    section = behaviour_section(report)
    assert "| negation | mft | 160 | 40 | 25.0% |" in section
    assert "compound score" in section
    assert behaviour_section(None) == ""
