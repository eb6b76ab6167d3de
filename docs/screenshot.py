"""Regenerate docs/screenshot.png: the chat answering a seed question, in headless Chromium.

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

from playwright.sync_api import expect, sync_playwright

from qa.builder import build
from qa.config import PROJECT_ROOT, Settings
from qa.embedder import SentenceTransformerEmbedder
from qa.service import open_service
from qa.web import create_web_app

sys.path.insert(0, str(PROJECT_ROOT))
from tests.harness import CHROMIUM, CHROMIUM_ARGS, LiveServer

OUTPUT = Path(__file__).resolve().parent / "screenshot.png"
SEED_QUESTION = "how can I tell if my baby is having a seizure?"
VIEWPORT = {"width": 1280, "height": 900}


def take(question: str = SEED_QUESTION, output: Path = OUTPUT) -> None:
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
                page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
                page.goto(server.url)
                box = page.locator("#qa-question textarea")
                expect(box).to_be_visible(timeout=30_000)
                box.fill(question)
                box.press("Enter")
                expect(page.locator("#qa-chat .qa-reply")).to_have_count(1, timeout=30_000)
                page.wait_for_timeout(800)  # let the chat finish scrolling
                page.screenshot(path=str(output))
                browser.close()
        finally:
            server.stop()
    print(f"wrote {output}")


if __name__ == "__main__":
    take(sys.argv[1] if len(sys.argv) > 1 else SEED_QUESTION)
