"""The browser tier: the console in Debian's chromium, driven by Playwright, against
a real `ahoy serve` (the e2e tier's ``Appliance``). Playwright downloads no browser
here: `make test` installs chromium with apt, and without it these tests skip."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.browser.seed import Seeded, seed
from tests.e2e.conftest import ADMIN, PASSWORD, Appliance, running_appliance

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CLIENT_ERROR = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    wanted = os.environ.get("AHOY_CHROMIUM")  # another build of chromium, if you have one
    executable = wanted or (CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"))
    if executable is None or not Path(executable).exists():
        pytest.skip(
            f"no chromium at {wanted or CHROMIUM} or on PATH: `make test` installs it with apt"
        )
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed: pip install -e '.[dev]'"
    )
    with sync_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def appliance(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Appliance]:
    """After ``browser``: without chromium, no appliance is started for nothing."""
    with running_appliance(tmp_path_factory) as app:
        yield app


@pytest.fixture(scope="module")
def seeded(appliance: Appliance, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    assert appliance.client is not None
    return seed(appliance.client, tmp_path_factory.mktemp("seed"))


#: Chromium aborts a load with this when the host's interfaces change: other test
#: files (the webhook LAN tests) add and remove veth pairs while a browser runs.
#: It says nothing of the console, so it is not one of its errors.
HOST_NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED"


class Watch:
    """What a page asked for and complained about, checked after every test."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.urls: list[str] = []
        self.errors: list[str] = []

    def on_request(self, request: Any) -> None:
        self.urls.append(request.url)

    def on_console(self, message: Any) -> None:
        # The browser logs every 4xx answer; the page shows those as problems.
        text = message.text
        ours = not CLIENT_ERROR.search(text) and HOST_NETWORK_CHANGED not in text
        if message.type == "error" and ours:
            self.errors.append(text)

    def foreign(self) -> list[str]:
        def local(url: str) -> bool:
            parsed = urlparse(url)
            if parsed.scheme in ("blob", "data"):
                return parsed.scheme == "data" or url.startswith(f"blob:{self.base}/")
            return parsed.hostname == "127.0.0.1"

        return [u for u in self.urls if not local(u)]


@pytest.fixture
def watch(appliance: Appliance) -> Watch:
    return Watch(appliance.url)


@pytest.fixture
def page(browser: Any, appliance: Appliance, watch: Watch) -> Iterator[Any]:
    """A fresh tab (its own sessionStorage); afterwards nothing may have left
    127.0.0.1, and no script error or CSP violation may have been logged."""
    with watched_tab(browser, watch) as tab:
        yield tab
    assert watch.urls, "the page made no request at all"
    assert watch.foreign() == [], "requests left the appliance"
    assert watch.errors == [], "the console logged errors"


@contextlib.contextmanager
def watched_tab(browser: Any, watch: Watch) -> Iterator[Any]:
    """A tab in a new browser context (its own session), its requests and console
    messages going to ``watch``."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.on("request", watch.on_request)
    tab.on("console", watch.on_console)
    tab.on("pageerror", lambda exc: watch.errors.append(f"page error: {exc}"))
    try:
        yield tab
    finally:
        context.close()


def log_in(page: Any, appliance: Appliance) -> None:
    for attempt in (1, 2):  # a load cut by a host network change is loaded again
        page.goto(f"{appliance.url}/console/")
        try:
            page.get_by_test_id("username").wait_for()
            break
        except Exception:
            if attempt == 2:
                raise
    page.get_by_test_id("username").fill(ADMIN)
    page.get_by_test_id("password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.get_by_test_id("workspaces").wait_for()


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
