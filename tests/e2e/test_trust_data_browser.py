"""Batch and Evaluate in a real browser (Debian's chromium through Playwright) against `python app.py`
serving the embedded model and VADER: the column preview, stale results cleared, the mistakes filter,
and both tabs at 1280 and 390 px.

Set SENTIMENT_SCREENSHOTS to a folder (e.g. docs) to save the screenshots there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import new_page as _page
from tests.e2e.conftest import open_tab

pytestmark = pytest.mark.e2e
SCREENSHOTS = os.environ.get("SENTIMENT_SCREENSHOTS", "")
REVIEWS = [
    ("A triumph: funny, warm and beautifully made.", 5, "film"),
    ("Tedious and badly acted. I walked out after an hour.", 1, "film"),
    ("The battery lasts two days and the screen is sharp.", 4, "phone"),
    ("It arrived on Tuesday in a brown box.", 3, "phone"),
    ("Customer support never answered my emails.", 2, "service"),
    ("Not bad at all, better than I expected.", 4, "film"),
]
LABELLED = [
    ("A wonderful film. I loved it.", "pos"),
    ("Awful and boring from start to finish.", "neg"),
    ("The train leaves at 9am from platform 2.", "neu"),
    ("Great acting and a moving story.", "neg"),  # mislabelled on purpose: a sure mistake
    ("I hated every minute of it.", "neg"),
    ("What a joyful, clever surprise.", "neg"),  # another sure mistake
    ("The report has twelve pages.", "pos"),
    ("Dull, clumsy and far too long.", "neg"),
]


def _reviews_csv(folder: Path) -> Path:
    path = folder / "reviews.csv"
    lines = ["review_id,review_text,stars,category"]
    lines += [
        f'r-{i:03},"{text}",{stars},{kind}' for i, (text, stars, kind) in enumerate(REVIEWS, 1)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _choose(page: Page, dropdown: str, option: str) -> None:
    page.locator(f"{dropdown} input").click()
    page.get_by_role("option", name=option, exact=True).click()


def _save(page: Page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=True)


@pytest.mark.parametrize("width", [1280, 390])
def test_batch_previews_the_text_column_and_keeps_the_others(
    browser: Browser, app_url: str, tmp_path: Path, width: int
) -> None:
    page = _page(browser, app_url, width)
    try:
        open_tab(page, "Batch")
        page.locator("#batch-file input[type=file]").set_input_files(str(_reviews_csv(tmp_path)))
        expect(page.locator("#batch-column input")).to_have_value("review_text")
        preview = page.locator("#batch-preview")
        expect(preview).to_contain_text("A triumph: funny, warm")
        expect(page.locator("#batch-status textarea")).to_have_value(
            re.compile("texts from column 'review_text' \\(it reads most like text\\)")
        )
        _choose(page, "#batch-column", "review_id")
        expect(preview).to_contain_text("r-001")
        expect(page.locator("#batch-status textarea")).to_have_value(re.compile("looks like ids"))
        _choose(page, "#batch-column", "review_text")
        page.locator("#batch-models").get_by_label("vader").check()
        page.get_by_role("button", name="Analyse all").click()
        results = page.locator("#batch-results")
        expect(results).to_contain_text("category")
        expect(results).to_contain_text("score_positive (vader)")
        expect(page.locator("#batch-model-chart")).to_be_visible()
        _save(page, "batch.png" if width == 1280 else "batch-phone.png")
    finally:
        page.context.close()


def test_new_text_or_a_new_upload_clears_the_old_results(
    browser: Browser, app_url: str, tmp_path: Path
) -> None:
    page = _page(browser, app_url, 1280)
    try:
        open_tab(page, "Batch")
        box = page.locator("#batch-texts textarea")
        box.fill("A wonderful film.\nAn awful, boring mess.")
        page.get_by_role("button", name="Analyse all").click()
        results = page.locator("#batch-results")
        expect(results).to_contain_text("An awful, boring mess.")
        box.press("End")
        box.type("\nLoved it.")
        expect(results).not_to_contain_text("An awful, boring mess.")
        expect(page.locator("#batch-status textarea")).to_have_value("")
        page.get_by_role("button", name="Analyse all").click()
        expect(results).to_contain_text("Loved it.")
        box.fill("")
        page.locator("#batch-file input[type=file]").set_input_files(str(_reviews_csv(tmp_path)))
        expect(page.locator("#batch-preview")).to_contain_text("A triumph")
        expect(results).not_to_contain_text("Loved it.")
    finally:
        page.context.close()


@pytest.mark.parametrize("width", [1280, 390])
def test_evaluate_filters_the_mistakes_by_model(
    browser: Browser, app_url: str, tmp_path: Path, width: int
) -> None:
    labelled = tmp_path / "labelled.csv"
    labelled.write_text(
        "text,label\n" + "".join(f'"{t}",{label}\n' for t, label in LABELLED), encoding="utf-8"
    )
    page = _page(browser, app_url, width)
    try:
        open_tab(page, "Evaluate")
        metrics = page.locator("#evaluate-metrics")
        expect(metrics).to_contain_text("accuracy 95% interval (Wilson)")  # headers, not 1 2 3
        page.locator("#evaluate-file input[type=file]").set_input_files(str(labelled))
        expect(page.locator("#evaluate-mapping")).to_contain_text("neutral")
        page.get_by_role("button", name="Evaluate", exact=True).click()
        summary = page.locator("#evaluate-summary")
        expect(summary).to_contain_text("Only 8 texts scored")
        expect(summary).to_contain_text("not computed for vader")
        mistakes = page.locator("#evaluate-mistakes")
        expect(mistakes).to_contain_text("minilm-sentiment")
        expect(mistakes).to_contain_text("vader")
        _choose(page, "#evaluate-mistakes-model", "vader")
        expect(mistakes).not_to_contain_text("minilm-sentiment")
        expect(mistakes).to_contain_text("vader")
        _choose(page, "#evaluate-mistakes-model", "all models")
        expect(mistakes).to_contain_text("minilm-sentiment")
        _save(page, "evaluate.png" if width == 1280 else "evaluate-phone.png")
    finally:
        page.context.close()
