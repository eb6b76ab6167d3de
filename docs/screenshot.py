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

import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import expect, sync_playwright

from qa.config import PROJECT_ROOT, Settings
from qa.embedder import SentenceTransformerEmbedder
from qa.service import build, open_service
from qa.web import create_web_app

OUTPUT = Path(__file__).resolve().parent / "screenshot.png"
SEED_QUESTION = "how can I tell if my baby is having a seizure?"
VIEWPORT = {"width": 1280, "height": 900}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def start_server(app: object) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Serve `app` on a free 127.0.0.1 port in a thread (the socket is bound first: no port race)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    return f"http://127.0.0.1:{sock.getsockname()[1]}", server, thread


def take(question: str = SEED_QUESTION, output: Path = OUTPUT) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            corpus=[PROJECT_ROOT / "corpus"], index_dir=Path(tmp) / "index", feedback_db=Path(tmp) / "feedback.sqlite3"
        )
        embedder = SentenceTransformerEmbedder(settings.model)
        build(settings.corpus, settings.index_dir, embedder)
        url, server, thread = start_server(create_web_app(open_service(settings, embedder), settings))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
                page.goto(url)
                box = page.locator("#qa-question textarea")
                expect(box).to_be_visible(timeout=30_000)
                box.fill(question)
                box.press("Enter")
                expect(page.locator("#qa-chat .qa-reply")).to_have_count(1, timeout=30_000)
                page.wait_for_timeout(800)  # let the chat finish scrolling
                page.screenshot(path=str(output))
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    print(f"wrote {output}")


if __name__ == "__main__":
    take(sys.argv[1] if len(sys.argv) > 1 else SEED_QUESTION)
