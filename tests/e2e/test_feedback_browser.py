"""Feedback in a real browser (Debian's chromium through Playwright) against `python app.py --feedback`:
a visitor's 👍 and correction, then the owner's Feedback tab. With SCREENSHOTS_DIR set, it also saves
the screenshots in docs/ (1280 and 390 px wide)."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import EMBEDDED_MODEL, REPO_ROOT, app_process, free_port

pytestmark = pytest.mark.e2e
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
TIMEOUT_MS = 30_000
OWNER = ("owner", "browser-owner-pw")
SCREENSHOTS = os.environ.get("SCREENSHOTS_DIR")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    database = tmp_path_factory.mktemp("feedback-e2e") / "feedback.sqlite"
    env = os.environ | {
        "SENTIMENT_PORT": str(port),
        "SENTIMENT_NUM_THREADS": "1",
        "SENTIMENT_MODEL": f"{EMBEDDED_MODEL},vader",
        "SENTIMENT_FEEDBACK": str(database),
        "SENTIMENT_FEEDBACK_OWNER": ":".join(OWNER),
        "PYTHONUNBUFFERED": "1",
    }
    url = f"http://127.0.0.1:{port}"
    log = REPO_ROOT / ".cache" / "e2e-feedback-app.log"
    with app_process([sys.executable, "app.py"], REPO_ROOT, env, log, url):
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no chromium at {CHROMIUM}: `make browser` installs Debian's package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def _page(browser: Browser, url: str, width: int) -> Page:
    context = browser.new_context(accept_downloads=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return page


def _shot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


def _choose(page: Page, dropdown_id: str, option: str) -> None:
    page.locator(f"#{dropdown_id} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def _open_tab(page: Page, name: str) -> None:
    """Click a tab; on a narrow screen Gradio moves the last tabs into its "More tabs" menu."""
    tab = page.get_by_role("tab", name=name)
    more = page.get_by_role("button", name="More tabs")
    expect(tab.or_(more).first).to_be_visible()
    if tab.is_visible():
        tab.click()
        return
    more.click()
    page.get_by_role("button", name=name, exact=True).last.click()


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

    _open_tab(page, "Feedback")
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
    _open_tab(page, "Compare")
    page.locator("#compare-input textarea").fill("Oh great, my flight is delayed again.")
    page.get_by_role("button", name="Compare", exact=True).click()
    expect(page.locator("#compare-agreement")).not_to_be_empty()
    page.locator("#compare-feedback-up-2").click()
    expect(page.locator("#compare-feedback-status")).to_contain_text("saved as record")
    _shot(page, "feedback-compare-1280.png")
    page.context.close()
