"""The sentence view in a real browser (Debian's chromium through Playwright) against `python app.py`
serving the embedded model and VADER: coloured sentences, the summary, the arc, aspects, a click
into a sentence's explanation, Batch by sentence, and the layout at phone width.

Set SENTIMENT_SCREENSHOTS to a folder (e.g. docs) to save the 1280 and 390 px screenshots there.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import new_page as _page

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("SENTIMENT_SCREENSHOTS", "")
REVIEW = (
    "I bought this phone last month after weeks of research. The screen is absolutely gorgeous, "
    "bright and sharp even in direct sun. Sadly the battery is awful and dies before lunch. "
    "Customer support was useless and rude when I called them twice. The camera, though, takes "
    "wonderful photos at night! The price was $499, about what I expected. Shipping took 3.5 days. "
    "Overall I'm torn... would I buy it again?! Probably not, because of that battery."
)


def _analyse_by_sentence(page: Page) -> None:
    page.get_by_role("textbox", name=re.compile(r"^Text Up to")).fill(REVIEW)
    page.get_by_role("textbox", name=re.compile(r"^Aspects \(optional")).fill(
        "battery, screen, keyboard"
    )
    page.get_by_role("button", name="Analyse by sentence").click()
    expect(page.locator("#sentences-summary")).to_contain_text("9 sentences")


@pytest.mark.parametrize("width", [1280, 390])
def test_sentence_view_colours_sentences_and_draws_the_arc(
    browser: Browser, app_url: str, width: int
) -> None:
    page = _page(browser, app_url, width)
    try:
        _analyse_by_sentence(page)
        sentences = page.locator("#sentences-output")
        expect(sentences).to_contain_text("The screen is absolutely gorgeous")
        expect(sentences).to_contain_text(re.compile(r"positive \d\.\d\d"))
        expect(sentences).to_contain_text(re.compile(r"negative \d\.\d\d"))
        summary = page.locator("#sentences-summary")
        expect(summary).to_contain_text("Overall, weighted by sentence length")
        expect(summary).to_contain_text("Most negative")
        expect(summary).to_contain_text("Whole text")
        arc = page.locator("#sentences-arc")
        expect(arc).to_be_visible()
        expect(arc.locator("canvas, svg").first).to_be_visible()
        aspects = page.locator("#sentences-aspects")
        expect(aspects).to_contain_text("battery")
        expect(aspects).to_contain_text("not mentioned")
        # Nothing wider than the screen: the page does not scroll sideways.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"the page is {overflow}px wider than the {width}px screen"
        if SCREENSHOTS:
            name = "sentences.png" if width == 1280 else "sentences-phone.png"
            page.locator("#sentences-output").scroll_into_view_if_needed()
            target = Path(SCREENSHOTS) / name
            group = page.locator("#sentences-output").locator(
                "xpath=ancestor::div[contains(@class,'gr-group')][1]"
            )
            (group if group.count() else page).screenshot(path=str(target))
    finally:
        page.context.close()


def test_clicking_a_sentence_explains_it(browser: Browser, app_url: str) -> None:
    page = _page(browser, app_url, 1280)
    try:
        _analyse_by_sentence(page)
        page.locator("#sentences-output").get_by_text("Sadly the battery is awful").click()
        expect(page.locator("#sentence-explanation-status")).to_contain_text(
            "Sentence: “Sadly the battery is awful"
        )
        expect(page.locator("#sentence-explanation")).to_contain_text("awful")
    finally:
        page.context.close()


def test_batch_by_sentence_adds_columns_and_aspect_chart(
    browser: Browser, app_url: str, tmp_path: Path
) -> None:
    page = _page(browser, app_url, 1280)
    try:
        page.get_by_role("tab", name="Batch").click()
        page.locator("#batch-texts textarea").fill(
            "Great screen. Terrible battery.\nThe battery lasts forever. I love it."
        )
        page.locator("#batch-by-sentence input[type=checkbox]").check()
        page.locator("#batch-aspects textarea").fill("battery")
        page.get_by_role("button", name="Analyse all").click()
        results = page.locator("#batch-results")
        expect(results).to_contain_text("most_negative_sentence")
        expect(results).to_contain_text("aspect: battery")
        expect(page.locator("#batch-aspect-chart")).to_be_visible()
        with page.expect_download() as download_info:
            page.locator("#batch-download a").first.click()
        saved = tmp_path / "results.csv"
        download_info.value.save_as(saved)
        with saved.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        assert [r["sentences"] for r in rows] == ["2", "2"]
        assert rows[0]["most_negative_sentence"] == "Terrible battery."
        assert rows[0]["aspect: battery"].startswith("negative")
    finally:
        page.context.close()
