"""A real browser (Debian's chromium through Playwright) against `python app.py` serving the embedded
model and the VADER baseline side by side."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import new_page, served_app

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    """This module's app: a 300-character limit, so that a refusal is quick to provoke."""
    with served_app("e2e-app.log", SENTIMENT_MAX_TEXT_CHARS="300") as url:
        yield url


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    page = new_page(browser, app_url)
    yield page
    page.context.close()


def _text_box(page: Page) -> object:
    return page.get_by_role("textbox", name=re.compile(r"^Text Up to"))


def test_typing_a_review_and_clicking_analyse_shows_the_label(page: Page) -> None:
    _text_box(page).fill("A wonderful, moving film with brilliant performances. I loved it.")
    page.get_by_role("button", name="Analyse", exact=True).click()
    output = page.locator("#sentiment-output")
    expect(output).to_contain_text("positive")
    expect(output).to_contain_text("negative")  # every label's score is shown
    expect(output.locator("h2, .output-class").first).to_have_text("positive")


def test_enter_analyses_and_a_negative_review_reads_negative(page: Page) -> None:
    box = _text_box(page)
    box.fill("Boring, clumsy and far too long. A waste of a good cast.")
    box.press("Enter")
    expect(page.locator("#sentiment-output").locator("h2, .output-class").first).to_have_text(
        "negative"
    )


def test_too_long_text_gets_a_notice_naming_the_limit(page: Page) -> None:
    _text_box(page).fill("great " * 60)
    page.get_by_role("button", name="Analyse", exact=True).click()
    expect(page.locator("#sentiment-status")).to_contain_text("the limit is 300")


def test_clicking_an_example_analyses_it(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^A dull, lifeless slog")).click()
    expect(_text_box(page)).to_have_value(re.compile("^A dull, lifeless slog"))
    expect(page.locator("#sentiment-output").locator("h2, .output-class").first).to_have_text(
        "negative"
    )


def test_csv_upload_shows_the_table_and_downloads_results(page: Page, tmp_path: Path) -> None:
    upload = tmp_path / "reviews.csv"
    upload.write_text(
        "id,review\n"
        '1,"A triumph: funny, warm and beautifully made."\n'
        "2,Tedious and badly acted. I walked out.\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Batch").click()
    page.locator("#batch-file input[type=file]").set_input_files(str(upload))
    expect(page.locator("#batch-column")).to_be_visible()
    page.get_by_role("button", name="Analyse all").click()
    results = page.locator("#batch-results")
    expect(results).to_contain_text("A triumph")
    expect(results).to_contain_text("Tedious and badly acted")
    expect(page.locator("#batch-status textarea")).to_have_value(
        re.compile("Analysed 2 of 2 texts")
    )
    link = page.locator("#batch-download a").first
    expect(link).to_be_visible()
    with page.expect_download() as download_info:
        link.click()
    saved = tmp_path / "results.csv"
    download_info.value.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["label"] for r in rows] == ["positive", "negative"]


def test_use_via_api_page_lists_classify(page: Page) -> None:
    page.get_by_role("button", name=re.compile("Use via API")).click()
    expect(page.get_by_text("/classify_batch").first).to_be_visible()


def test_explain_colours_the_words_that_pushed_the_prediction(page: Page) -> None:
    _text_box(page).fill("A wonderful film with a clumsy ending.")
    page.get_by_role("button", name="Explain", exact=True).click()
    output = page.locator("#explanation-output")
    expect(output).to_contain_text("wonderful")
    expect(output).to_contain_text("clumsy")
    expect(page.locator("#explanation-status")).to_contain_text("leave-one-word-out occlusion")


def test_json_routes_answer_next_to_the_ui(app_url: str) -> None:
    assert httpx.get(f"{app_url}/readyz").json()["status"] == "ready"
    scores = httpx.post(f"{app_url}/predict", json={"inputs": "A wonderful film."}).json()
    assert scores[0]["label"] == "positive"
    assert "sentiment_requests_total" in httpx.get(f"{app_url}/metrics").text


def test_markup_in_a_column_name_is_shown_as_text_not_rendered(page: Page, tmp_path: Path) -> None:
    header = "<img src=x onerror=alert(1)> **bold** [link](http://evil.example)"
    upload = tmp_path / "hostile.csv"
    upload.write_text(f'"{header}",id\nA wonderful film.,1\n', encoding="utf-8")
    page.get_by_role("tab", name="Batch").click()
    page.locator("#batch-file input[type=file]").set_input_files(str(upload))
    expect(page.locator("#batch-column")).to_be_visible()
    page.get_by_role("button", name="Analyse all").click()
    status = page.locator("#batch-status")
    expect(status.locator("textarea")).to_have_value(re.compile(re.escape(header)))
    assert status.locator("img, a, strong").count() == 0
    assert page.locator("img[src=x]").count() == 0


def test_label_chart_names_each_count(page: Page) -> None:
    page.get_by_role("tab", name="Batch").click()
    page.get_by_label("Texts, one per line").fill(
        "A wonderful film.\nAn awful, boring mess.\nLoved it.\nGreat acting."
    )
    page.get_by_role("button", name="Analyse all").click()
    chart = page.locator("#batch-chart")
    expect(chart).to_contain_text("positive (3)")
    expect(chart).to_contain_text("negative (1)")


def test_a_bad_upload_is_explained_once_without_error_badges(page: Page, tmp_path: Path) -> None:
    upload = tmp_path / "data.csv"
    upload.write_bytes(bytes(range(256)) * 4)
    page.get_by_role("tab", name="Batch").click()
    page.locator("#batch-file input[type=file]").set_input_files(str(upload))
    page.get_by_role("button", name="Analyse all").click()
    expect(page.locator("#batch-status textarea")).to_have_value(re.compile("is not UTF-8 text"))
    assert page.get_by_text("Error", exact=True).count() == 0  # no badge on the outputs
    assert page.get_by_test_id("toast-body").count() == 0  # and no pop-up saying it again


def test_compare_shows_both_models_and_whether_they_agree(page: Page) -> None:
    page.get_by_role("tab", name="Compare").click()
    page.get_by_label("Text to compare").fill(
        "What a wonderful, joyful film. I loved every minute."
    )
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.locator("#compare-agreement")).to_contain_text("All 2 models agree: positive")
    expect(page.locator("#compare-label-1")).to_contain_text("minilm-sentiment")
    expect(page.locator("#compare-label-2")).to_contain_text("vader")


def test_evaluate_a_labelled_file_then_explain_a_mistake_and_download(
    page: Page, tmp_path: Path
) -> None:
    labelled = tmp_path / "labelled.csv"
    labelled.write_text(
        "text,label\n"
        "A wonderful film. I loved it.,pos\n"
        "Awful and boring from start to finish.,neg\n"
        "The train leaves at 9am from platform 2.,neu\n"
        "Great acting and a moving story.,neg\n"  # mislabelled on purpose: a sure mistake
        "I hated every minute of it.,neg\n",
        encoding="utf-8",
    )
    page.get_by_role("tab", name="Evaluate").click()
    page.locator("#evaluate-file input[type=file]").set_input_files(str(labelled))
    mapping = page.locator("#evaluate-mapping")
    expect(mapping).to_contain_text("neutral")  # "neu" found the models' neutral label
    page.get_by_role("button", name="Evaluate", exact=True).click()
    expect(page.locator("#evaluate-summary")).to_contain_text("minilm-sentiment")
    expect(page.locator("#evaluate-metrics")).to_contain_text("vader")
    # The plots show no label (their figures carry titles), so no hidden label icon comes first.
    expect(page.locator("#evaluate-confusion img").first).to_be_visible()
    expect(page.locator("#evaluate-reliability img").first).to_be_visible()
    mistakes = page.locator("#evaluate-mistakes")
    expect(mistakes).to_contain_text("Great acting and a moving story.")
    # The table also renders a hidden copy of its first row (to size columns): click the visible one.
    mistakes.get_by_text("Great acting and a moving story.").filter(visible=True).first.click()
    expect(page.locator("#evaluate-explanation")).to_contain_text("moving")
    expect(page.locator("#evaluate-explanation-notice")).to_contain_text("true label: negative")
    links = page.locator("#evaluate-download a")
    expect(links).to_have_count(2)
    saved = {}
    for index in range(2):
        with page.expect_download() as download_info:
            links.nth(index).click()
        name = download_info.value.suggested_filename
        download_info.value.save_as(tmp_path / name)
        saved[Path(name).suffix] = tmp_path / name
    report = json.loads(saved[".json"].read_text())
    assert set(report["models"]) == {"minilm-sentiment", "vader"}
    assert report["models"]["minilm-sentiment"]["texts"] == 5
    with saved[".csv"].open(newline="", encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 5
