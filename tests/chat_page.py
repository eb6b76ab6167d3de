"""Driving the chat page in headless Chromium: a watched page, and asking questions the way a parent does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from playwright.sync_api import Browser, ConsoleMessage, Locator, Page, Request, expect

TIMEOUT = 20_000  # ms; a round trip takes well under a second, the first page load a few


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
