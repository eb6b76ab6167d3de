"""Regenerate docs/screenshot.png (the chat answering a seed question, desktop) and
docs/screenshot-phone-emergency.png (the emergency view on a 390 x 844 phone), in headless Chromium.

Everything stays on 127.0.0.1, as in the tests: a temporary index built from corpus/, a temporary
feedback file, the app on a free port, Debian's Chromium with outside name lookups disabled.

    .venv/bin/python docs/screenshot.py ["another question"]      (or: make screenshot)
"""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, expect, sync_playwright

from qa.builder import build
from qa.config import PROJECT_ROOT, Settings
from qa.embedder import SentenceTransformerEmbedder
from qa.service import open_service
from qa.web import create_web_app

sys.path.insert(0, str(PROJECT_ROOT))
from tests.harness import CHROMIUM, CHROMIUM_ARGS, LiveServer

DOCS = Path(__file__).resolve().parent
OUTPUT = DOCS / "screenshot.png"
PHONE_OUTPUT = DOCS / "screenshot-phone-emergency.png"
SEED_QUESTION = "how can I tell if my baby is having a seizure?"
EMERGENCY_MESSAGE = "my baby isnt breathing and her lips are blue"
VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _shoot(browser: Browser, url: str, viewport: dict[str, int], question: str, output: Path) -> None:
    page = browser.new_page(viewport=viewport)  # type: ignore[arg-type]
    page.goto(url)
    box = page.locator("#qa-question textarea")
    expect(box).to_be_visible(timeout=30_000)
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#qa-chat .qa-reply")).to_have_count(1, timeout=30_000)
    page.wait_for_timeout(800)  # let the chat finish scrolling and the notices fade in
    page.evaluate("document.activeElement?.blur()")  # no focus ring in the picture
    page.screenshot(path=str(output))
    page.close()
    print(f"wrote {output}")


def take(question: str = SEED_QUESTION, output: Path = OUTPUT, phone_output: Path = PHONE_OUTPUT) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            corpus=[PROJECT_ROOT / "corpus"], index_dir=Path(tmp) / "index", feedback_db=Path(tmp) / "feedback.sqlite3"
        )
        embedder = SentenceTransformerEmbedder(settings.model)
        build(settings.corpus, settings.index_dir, embedder)
        server = LiveServer(create_web_app(open_service(settings, embedder), settings))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                _shoot(browser, server.url, VIEWPORT, question, output)
                _shoot(browser, server.url, PHONE, EMERGENCY_MESSAGE, phone_output)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    take(sys.argv[1] if len(sys.argv) > 1 else SEED_QUESTION)
