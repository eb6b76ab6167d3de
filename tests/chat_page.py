"""Driving the chat page in headless Chromium: a watched page, asking questions the way a parent does,
axe-core, and the fixtures the chat test modules share (each names them, for pytest to find)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Request, expect, sync_playwright

from qa.config import PROJECT_ROOT, Settings
from qa.service import QAService
from tests.harness import CHROMIUM, CHROMIUM_ARGS, LiveServer, serve

TIMEOUT = 20_000  # ms; a round trip takes well under a second, the first page load a few
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
"""Installed by `make test` (npm ci, from package.json / package-lock.json)."""


@dataclass
class Watch:
    """Everything the page did that a test must not allow."""

    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def request(self, request: Request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob") and parts.hostname != "127.0.0.1":
            self.outside.append(request.url)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(f"console: {message.text}")


@contextmanager
def open_chat(browser: Browser, url: str, width: int = 1280, height: int = 900) -> Iterator[Page]:
    """A fresh page (a fresh chat session) that fails the test if it reached past 127.0.0.1 or logged errors."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watch = Watch()
    page.on("request", watch.request)
    page.on("console", watch.console)
    page.on("pageerror", lambda error: watch.errors.append(f"pageerror: {error}"))
    page.on("dialog", lambda dialog: (watch.dialogs.append(dialog.message), dialog.dismiss()))
    page.set_default_timeout(TIMEOUT)
    page.goto(url)  # never "networkidle": Gradio keeps a heartbeat stream open
    expect(question_box(page)).to_be_visible()
    try:
        yield page
    finally:
        context.close()
    assert watch.outside == [], f"requests left 127.0.0.1: {watch.outside}"
    assert watch.errors == [], watch.errors
    assert watch.dialogs == [], f"dialogs opened: {watch.dialogs}"


def question_box(page: Page) -> Locator:
    return page.locator("#qa-question textarea")


def replies(page: Page) -> Locator:
    return page.locator("#qa-chat .qa-reply")


def ask(page: Page, question: str) -> Locator:
    """Type and send a question; return the new reply bubble (this one, for good) once it is there."""
    before = replies(page).count()
    question_box(page).fill(question)
    question_box(page).press("Enter")
    expect(replies(page)).to_have_count(before + 1)
    return replies(page).nth(before)  # not .last: that would follow later replies


def click_to_ask(page: Page, button: Locator) -> Locator:
    before = replies(page).count()
    button.click()
    expect(replies(page)).to_have_count(before + 1)
    return replies(page).nth(before)  # not .last: that would follow later replies


def page_box(locator: Locator) -> dict[str, float]:
    """The element's box in page coordinates (not the viewport's): where it is without any scrolling."""
    box: dict[str, float] = locator.evaluate(
        "(el) => { const r = el.getBoundingClientRect();"
        " return { x: r.x + scrollX, y: r.y + scrollY, width: r.width, height: r.height }; }"
    )
    return box


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """Run axe-core (every rule it runs by default) on the page as it is; one line per violation of `impacts`."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `make test` (or `npm ci --no-audit --no-fund`) first")
    # Colours are measured as drawn: let Gradio's fade-ins (100-150 ms) finish first.
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))  # the file's text goes into the page: nothing is fetched
    found: list[dict[str, Any]] = page.evaluate(
        """async () => (await axe.run(document, { resultTypes: ['violations'] })).violations.map((v) => ({
             id: v.id, impact: v.impact, help: v.help,
             nodes: v.nodes.map((n) => n.target.join(' ') + ': ' + (n.failureSummary || '')) }))"""
    )
    return [
        f"{v['impact']} {v['id']} ({v['help']}): " + " | ".join(v["nodes"][:3]) for v in found if v["impact"] in impacts
    ]


# ---------------------------------------------------------------- fixtures (shared by the chat test modules)


@pytest.fixture(scope="module")
def chat_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    db = tmp_path_factory.mktemp("chat") / "feedback.sqlite3"
    return settings.model_copy(update={"feedback_db": db, "feedback_enabled": True})


@pytest.fixture(scope="module")
def chat_server(service: QAService, chat_settings: Settings) -> Iterator[LiveServer]:
    from qa.web import create_web_app

    yield from serve(create_web_app(service, chat_settings))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser: Browser, chat_server: LiveServer) -> Iterator[Page]:
    with open_chat(browser, chat_server.url) as chat:
        yield chat


@pytest.fixture()
def phone(browser: Browser, chat_server: LiveServer) -> Iterator[Page]:
    with open_chat(browser, chat_server.url, width=390, height=844) as chat:
        yield chat
