"""Fixtures of the browser tests: a seeded SQLite store, ``releasegate dashboard serve``
on it (real uvicorn on 127.0.0.1), and Debian's Chromium driven by Playwright.

Screenshots go to ``<pytest base temp>/dashboard-screenshots`` (kept with pytest's
temporary directories), one PNG per page a test looked at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.dashboard._seed import Seeded, seed
from tests.e2e.deploy._cli import CLI, free_port

CHROMIUM = os.environ.get("RELEASEGATE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"]


@dataclass
class Store:
    """The seeded database file (a template: each test serves its own copy)."""

    path: Path
    tokens: Seeded


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Store:
    path = tmp_path_factory.mktemp("dashboard-store") / "releasegate.db"
    tokens = seed(f"sqlite:///{path}")
    return Store(path, tokens)


@dataclass
class Dashboard:
    """A running dashboard: its base URL and the seeded tokens."""

    url: str
    tokens: Seeded
    db_url: str


@pytest.fixture
def dashboard(seeded: Store, tmp_path: Path) -> Iterator[Dashboard]:
    """``releasegate dashboard serve`` on a fresh copy of the seeded store."""
    db = tmp_path / "releasegate.db"
    shutil.copy(seeded.path, db)
    db_url = f"sqlite:///{db}"
    port = free_port()
    log = tmp_path / "dashboard.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [*CLI, "dashboard", "serve", "--port", str(port), "--db", db_url],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):  # a loaded machine can take a while to start uvicorn
            try:
                if httpx.get(url + "/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None:
                pytest.fail(f"dashboard serve exited: {log.read_text()}")
            time.sleep(0.1)
        else:
            pytest.fail("dashboard serve did not answer")
        yield Dashboard(url, seeded.tokens, db_url)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """Chromium for the dashboard tests. Package scope, not session: Playwright's sync
    API keeps an event loop running in this thread while it is open, which would break
    every asyncio test that runs after these ones."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}: run scripts/setup (apt-get install chromium)"
        )
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Tab:
    """A browser page, with every dialog and console error it saw."""

    page: Any
    shots: Path
    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)

    def shot(self, name: str) -> Path:
        """Save a full-page screenshot as ``NAME.png`` and return its path."""
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def shot_of(self, selector: str, name: str) -> Path:
        """Save a screenshot of one element (a chart) as ``NAME.png``."""
        path = self.shots / f"{name}.png"
        self.page.locator(selector).screenshot(path=str(path))
        return path


@pytest.fixture
def tab(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tab]:
    """A fresh browser context (no cookies) and page; dialogs are recorded and dismissed."""
    shots = tmp_path_factory.getbasetemp() / "dashboard-screenshots"
    shots.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    t = Tab(page, shots)

    def on_dialog(dialog: Any) -> None:
        t.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(msg: Any) -> None:
        if msg.type == "error":
            t.console_errors.append(msg.text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    try:
        yield t
    finally:
        context.close()
