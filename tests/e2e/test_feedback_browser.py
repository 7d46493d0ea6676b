"""Feedback in a real browser (Debian's chromium through Playwright) against `python app.py --feedback`:
a visitor's 👍 and correction, then the owner's Feedback tab. With SCREENSHOTS_DIR set, it also saves
the screenshots in docs/ (1280 and 390 px wide)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import new_page as _page
from tests.e2e.conftest import open_tab, served_app

pytestmark = pytest.mark.e2e
OWNER = ("owner", "browser-owner-pw")
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """This module's app: feedback collected into a fresh database, with an owner login."""
    database = tmp_path_factory.mktemp("feedback-e2e") / "feedback.sqlite"
    with served_app(
        "e2e-feedback-app.log",
        SENTIMENT_FEEDBACK=str(database),
        SENTIMENT_FEEDBACK_OWNER=":".join(OWNER),
    ) as url:
        yield url


def _shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def _choose(page: Page, dropdown_id: str, option: str) -> None:
    page.locator(f"#{dropdown_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()


@pytest.mark.parametrize("width", [1280, 390])
def test_a_visitor_gives_feedback_and_the_owner_reviews_it(
    browser: Browser, app_url: str, width: int
) -> None:
    page = _page(browser, app_url, width)
    expect(page.locator("#feedback-banner")).to_contain_text("no IP address and no login name")
    text = f"The soundtrack alone makes it worth watching ({width} px)."
    box = page.get_by_role("textbox", name=re.compile(r"^Text Up to"))
    box.fill(text)
    page.get_by_role("button", name="Analyse", exact=True).click()
    expect(page.locator("#sentiment-output")).to_contain_text("positive")
    page.locator("#analyse-feedback-up").click()
    status = page.locator("#analyse-feedback-status")
    expect(status).to_contain_text("Thank you: saved as record")
    expect(status).to_contain_text("is right")
    _choose(page, "analyse-feedback-label", "neutral")
    page.get_by_label("Note (optional)").first.fill("It is mostly about the music.")
    page.locator("#analyse-feedback-send").click()
    expect(status).to_contain_text("neutral")
    expect(status).to_contain_text("the model said")
    _shot(page, f"feedback-controls-{width}.png")

    open_tab(page, "Feedback")
    expect(page.locator("#feedback-review")).to_be_hidden()
    page.get_by_label("Owner user name").fill(OWNER[0])
    page.get_by_label("Owner password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#feedback-sign-in-status")).to_contain_text("Wrong user name")
    expect(page.locator("#feedback-review")).to_be_hidden()
    page.get_by_label("Owner password").fill(OWNER[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#feedback-sign-in-status")).to_contain_text("Signed in as the owner")
    page.locator("#feedback-refresh").click()
    records = page.locator("#feedback-records")
    expect(records).to_contain_text(text)
    expect(page.locator("#feedback-counts")).to_contain_text("records")
    expect(page.locator("#feedback-confusion")).to_contain_text("neutral")
    row = records.get_by_role("row").filter(has_text="the music").first  # the correction
    first_id = row.get_by_role("gridcell").first.inner_text().strip()
    page.get_by_label("Record ids").fill(first_id)
    page.get_by_role("button", name="Mark", exact=True).click()
    expect(page.locator("#feedback-mark-status")).to_contain_text(
        "Marked 1 of 1 record(s) accepted"
    )
    page.get_by_role("button", name="Export every record").click()
    link = page.locator("#feedback-export a").first
    expect(link).to_be_visible()
    with page.expect_download() as download:
        link.click()
    exported = pd.read_csv(download.value.path())
    mine = exported[exported["text"] == text]
    assert set(mine["answer"]) == {"up", "neutral"}
    assert "accepted" in set(exported["status"])
    _shot(page, f"feedback-tab-{width}.png")
    page.context.close()


def test_compare_asks_for_each_model(browser: Browser, app_url: str) -> None:
    page = _page(browser, app_url, 1280)
    open_tab(page, "Compare")
    page.locator("#compare-input textarea").fill("Oh great, my flight is delayed again.")
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.locator("#compare-agreement")).not_to_be_empty()
    page.locator("#compare-feedback-up-2").click()
    expect(page.locator("#compare-feedback-status")).to_contain_text("saved as record")
    _shot(page, "feedback-compare-1280.png")
    page.context.close()


def test_the_sentence_view_asks_about_the_clicked_sentence(browser: Browser, app_url: str) -> None:
    page = _page(browser, app_url, 1280)
    try:
        page.get_by_role("textbox", name=re.compile(r"^Text Up to")).fill(
            "The screen is gorgeous and bright. Sadly the battery is awful and dies by noon."
        )
        page.get_by_role("button", name="Analyse by sentence").click()
        expect(page.locator("#sentences-summary")).to_contain_text("2 sentences")
        status = page.locator("#sentences-feedback-status")
        page.locator("#sentences-feedback-up").click()  # before any sentence is clicked
        expect(status).to_contain_text("Click a coloured sentence first")
        page.locator("#sentences-output").get_by_text("Sadly the battery is awful").click()
        expect(page.locator("#sentences-feedback-sentence textarea")).to_have_value(
            re.compile(r"^Sadly the battery is awful and dies by noon\.$")
        )
        _choose(page, "sentences-feedback-label", "neutral")
        page.locator("#sentences-feedback-send").click()
        expect(status).to_contain_text("saved as record")
        expect(status).to_contain_text("the model said")
        # The answer is about the model the sentence view uses: pick VADER, and 👍 goes to it.
        _choose(page, "sentences-model", "vader")
        page.locator("#sentences-feedback-up").click()
        expect(status).to_contain_text("is right")
        _shot(page, "feedback-sentences-1280.png")
    finally:
        page.context.close()
