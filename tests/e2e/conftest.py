"""What every browser test shares: one Chromium for the session, the app as a user starts it, pages.

The app serving the embedded model and VADER with default settings is started once for the session;
a module that needs other settings (a lower text limit, feedback on) overrides `app_url` with
`served_app(...)`, which starts its own.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import EMBEDDED_MODEL, REPO_ROOT, app_process, free_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
TIMEOUT_MS = 30_000
MODELS = f"{EMBEDDED_MODEL},vader"


@contextmanager
def served_app(log_name: str, **settings: str) -> Iterator[str]:
    """`python app.py` on a free port serving `MODELS`, with extra SENTIMENT_* `settings`.

    Its output goes to .cache/`log_name` and is shown if it fails to start.
    """
    port = free_port()
    env = os.environ | {
        "SENTIMENT_PORT": str(port),
        "SENTIMENT_NUM_THREADS": "1",
        "SENTIMENT_MODEL": MODELS,
        "PYTHONUNBUFFERED": "1",
        **settings,
    }
    url = f"http://127.0.0.1:{port}"
    with app_process(
        [sys.executable, "app.py"], REPO_ROOT, env, REPO_ROOT / ".cache" / log_name, url
    ):
        yield url


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """The app with default settings, shared by every module that does not override it."""
    with served_app("e2e-shared-app.log") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"no chromium at {CHROMIUM}: `make browser` installs Debian's package")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


def new_page(browser: Browser, url: str, width: int = 1280) -> Page:
    """A page in a fresh context (its own cookies and downloads) `width` px wide, at `url`.

    Close it with `page.context.close()`.
    """
    context = browser.new_context(accept_downloads=True, viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    return page


def open_tab(page: Page, name: str) -> None:
    """Click a tab; on a narrow screen Gradio moves the last tabs into its "More tabs" menu.

    Gradio measures the tab row after the first paint and may then move a tab into the menu: a tab
    seen visible can be gone by the click, so this tries again until one way works.
    """
    tab = page.get_by_role("tab", name=name)
    more = page.get_by_role("button", name="More tabs")
    expect(tab.or_(more).first).to_be_visible()
    deadline = time.monotonic() + 30
    while True:
        try:
            if tab.is_visible():
                tab.click(timeout=3_000)
            else:
                more.click(timeout=3_000)
                page.get_by_role("button", name=name, exact=True).last.click(timeout=3_000)
            return
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise
