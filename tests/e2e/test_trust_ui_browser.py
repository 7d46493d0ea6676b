"""Answers a visitor can trust, in a real browser (Debian's chromium through Playwright) against
`python app.py` serving the embedded model and VADER: old answers leave when the text changes,
Enter runs Compare, close calls and VADER's compound score shown as they are, and Analyse, Compare
and the Model tab at phone width (390 px) with nothing wider than the screen.

Set SENTIMENT_SCREENSHOTS to a folder (e.g. docs) to save the 1280 and 390 px screenshots there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import new_page as _page
from tests.e2e.conftest import open_tab

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("SENTIMENT_SCREENSHOTS", "")
CLOSE_CALL = "It was okay, I guess."  # the embedded model: negative 0.54, positive 0.38
CLEAR = "A wonderful, moving film with brilliant performances. I loved it."


@pytest.fixture(params=[1280, 390], ids=["desktop", "phone"])
def width(request: pytest.FixtureRequest) -> int:
    return int(request.param)


@pytest.fixture
def page(browser: Browser, app_url: str) -> Iterator[Page]:
    page = _page(browser, app_url, 1280)
    yield page
    page.context.close()


def _text_box(page: Page) -> object:
    return page.get_by_role("textbox", name=re.compile(r"^Text Up to"))


def _top_label(page: Page) -> object:
    return page.locator("#sentiment-output").locator("h2, .output-class").first


def _no_wider_than_the_screen(page: Page, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"the page is {overflow}px wider than the {width}px screen"


def _screenshot(page: Page, name: str, width: int) -> None:
    if SCREENSHOTS:
        suffix = "" if width == 1280 else "-phone"
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}{suffix}.png"), full_page=True)


def test_typing_a_new_text_clears_the_old_answer_explanation_and_sentences(page: Page) -> None:
    box = _text_box(page)
    box.fill(CLEAR)
    box.press("Enter")
    expect(_top_label(page)).to_have_text("positive")
    page.get_by_role("button", name="Explain", exact=True).click()
    expect(page.locator("#explanation-output")).to_contain_text("loved")
    page.get_by_role("button", name="Analyse by sentence").click()
    expect(page.locator("#sentences-summary")).to_contain_text("2 sentences")
    box.press_sequentially(" Or not", delay=20)
    expect(page.locator("#sentiment-output")).not_to_contain_text("positive")
    expect(page.locator("#explanation-output")).not_to_contain_text("loved")
    expect(page.locator("#explanation-status")).to_have_text("")
    expect(page.locator("#sentences-summary")).not_to_contain_text("sentences")
    expect(page.locator("#sentences-output")).not_to_contain_text("wonderful")


def test_pasting_or_deleting_the_text_clears_the_old_answer(page: Page) -> None:
    box = _text_box(page)
    box.fill("I hate this so much.")
    box.press("Enter")
    expect(_top_label(page)).to_have_text("negative")
    box.fill("Lovely day.")  # one value change, as a paste makes
    expect(page.locator("#sentiment-output")).not_to_contain_text("negative")
    box.fill("I hate this so much.")
    box.press("Enter")
    expect(_top_label(page)).to_have_text("negative")
    box.press("Control+a")
    box.press("Delete")
    expect(page.locator("#sentiment-output")).not_to_contain_text("negative")


def test_an_old_empty_text_notice_never_stays_next_to_a_new_answer(page: Page) -> None:
    page.get_by_role("button", name="Explain", exact=True).click()
    expect(page.locator("#explanation-status")).to_contain_text("empty")
    box = _text_box(page)
    box.press_sequentially("Dreadful.", delay=20)
    expect(page.locator("#explanation-status")).not_to_contain_text("empty")
    box.press("Enter")
    expect(_top_label(page)).to_have_text("negative")
    expect(page.locator("#explanation-status")).not_to_contain_text("empty")


def test_an_example_replaces_every_answer_of_the_previous_text(page: Page) -> None:
    box = _text_box(page)
    box.fill(CLEAR)
    page.get_by_role("button", name="Explain", exact=True).click()
    expect(page.locator("#explanation-output")).to_contain_text("loved")
    page.get_by_role("button", name=re.compile("^A dull, lifeless slog")).click()
    expect(_top_label(page)).to_have_text("negative")
    expect(page.locator("#explanation-output")).not_to_contain_text("loved")


def test_a_close_call_is_shown_as_uncertain(page: Page) -> None:
    box = _text_box(page)
    box.fill(CLOSE_CALL)
    box.press("Enter")
    expect(page.locator("#sentiment-status")).to_contain_text("Uncertain")
    expect(page.locator("#sentiment-status")).to_contain_text("points apart")


def test_enter_runs_compare_and_a_new_text_clears_every_model(page: Page) -> None:
    open_tab(page, "Compare")
    box = page.get_by_label("Text to compare")
    box.fill("The plot is dull and the acting is terrible.")
    box.press("Enter")
    expect(page.locator("#compare-agreement")).to_contain_text("agree")
    expect(box).to_have_value("The plot is dull and the acting is terrible.")  # no new line
    expect(page.locator("#compare-label-2")).to_contain_text("compound -0.")
    expect(page.locator("#compare-label-2")).not_to_contain_text("%")
    expect(page.locator("#compare-notice-2")).to_contain_text("not a probability")
    page.get_by_role("button", name="Explain with every model").click()
    expect(page.locator("#compare-explanation-1")).to_contain_text("dull")
    box.press("Shift+Enter")
    box.press_sequentially("Loved it.", delay=20)
    expect(box).to_have_value("The plot is dull and the acting is terrible.\nLoved it.")
    expect(page.locator("#compare-agreement")).to_have_text("")
    expect(page.locator("#compare-label-2")).not_to_contain_text("compound")
    expect(page.locator("#compare-notice-2")).to_have_text("")
    expect(page.locator("#compare-explanation-1")).not_to_contain_text("dull")


def test_analyse_fits_the_screen(browser: Browser, app_url: str, width: int) -> None:
    page = _page(browser, app_url, width)
    try:
        box = _text_box(page)
        box.fill(CLOSE_CALL)
        box.press("Enter")
        expect(page.locator("#sentiment-status")).to_contain_text("Uncertain")
        page.get_by_role("button", name="Explain", exact=True).click()
        expect(page.locator("#explanation-status")).to_contain_text("Explaining")
        page.get_by_role("button", name="Analyse by sentence").click()
        expect(page.locator("#sentences-summary")).to_contain_text("Uncertain whole-text answer")
        expect(page.locator("#sentences-output")).to_contain_text("uncertain")
        _no_wider_than_the_screen(page, width)
        _screenshot(page, "analyse", width)
    finally:
        page.context.close()


def test_compare_fits_the_screen(browser: Browser, app_url: str, width: int) -> None:
    page = _page(browser, app_url, width)
    try:
        open_tab(page, "Compare")
        box = page.get_by_label("Text to compare")
        box.fill("Der Film war wirklich schlecht und langweilig, ich habe mich geärgert.")
        box.press("Enter")
        expect(page.locator("#compare-notice-1")).to_contain_text("German")
        _no_wider_than_the_screen(page, width)
        _screenshot(page, "compare", width)
    finally:
        page.context.close()


def test_model_tab_and_its_card_tables_fit_the_screen(
    browser: Browser, app_url: str, width: int
) -> None:
    page = _page(browser, app_url, width)
    try:
        open_tab(page, "Model")
        expect(page.locator("#model-info")).to_contain_text("English only")
        expect(page.locator("#model-serve-another")).to_contain_text("SENTIMENT_MODEL")
        page.get_by_text("Model card of minilm-sentiment").click()
        card = page.locator("#model-card")
        expect(card.locator("table").first).to_be_visible()
        # Cells keep their words on one line (no letter-a-line columns); tables scroll instead.
        tallest = card.locator("td, th").evaluate_all(
            "cells => Math.max(...cells.map(c => c.getBoundingClientRect().height))"
        )
        assert tallest < 60, f"a model-card table cell is {tallest}px tall: its text wraps"
        _no_wider_than_the_screen(page, width)
        page_height = page.evaluate("document.documentElement.scrollHeight")
        assert page_height < 9000, f"the Model tab is {page_height}px tall"
        _screenshot(page, "model", width)
    finally:
        page.context.close()
